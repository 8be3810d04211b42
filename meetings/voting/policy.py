"""Who may do and see what in the voting domain: one function per decision.

Built on ``meetings.bodies.permissions`` (the meeting-level roles); used by the
voting services, the REST views' answers and the socket path alike.

- Drafts: only those who run the meeting see them.
- Closed: the result to those who run the meeting; published: to everyone in it.
- Counting (a secret poll waiting for k partial decryptions of its committee): the result to nobody.
"""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.bodies import permissions
from meetings.bodies.models import Meeting, Participant
from meetings.voting.committee_models import CommitteeMember
from meetings.voting.models import Poll, Proxy


def can_manage_polls(meeting: Meeting, user: User | None) -> bool:
    """Create, open, close, publish, annul and delete polls (chair or secretariat)."""
    return permissions.can_run(meeting, user)


def can_see_poll(meeting: Meeting, user: User | None, poll: Poll) -> bool:
    """See the poll at all: drafts only for those who run the meeting."""
    if poll.status == "draft":
        return permissions.can_run(meeting, user)
    return permissions.can_view(meeting, user)


def can_see_result(meeting: Meeting, user: User | None, poll: Poll) -> bool:
    """See the outcome: those who run the meeting once it is closed, everyone once published."""
    if poll.status not in ("closed", "published", "annulled"):
        return False
    if permissions.can_run(meeting, user):
        return True
    return poll.published_at is not None and permissions.can_view(meeting, user)


def can_see_progress(meeting: Meeting, user: User | None, poll: Poll) -> bool:
    """See how many have voted while the poll is open: everyone on a named poll with live
    results, otherwise those who run the meeting."""
    return (poll.results_live and not poll.secret) or permissions.can_run(meeting, user)


def can_see_all_proxies(meeting: Meeting, user: User | None) -> bool:
    """List every proxy of the meeting (those who run it); others see only their own."""
    return permissions.can_run(meeting, user)


def can_give_proxy(meeting: Meeting, user: User | None, grantor_id: int) -> bool:
    """Record a proxy from ``grantor_id``: the member themselves, or the secretariat for them."""
    return user is not None and (grantor_id == user.id or permissions.can_run(meeting, user))


def can_see_proxy(meeting: Meeting, user: User | None, proxy: Proxy) -> bool:
    """See one proxy: its grantor and holder, and those who run the meeting."""
    if user is None or not permissions.can_view(meeting, user):
        return False
    return user.id in (proxy.grantor_id, proxy.holder_id) or permissions.can_run(meeting, user)


def can_revoke_proxy(meeting: Meeting, user: User | None, proxy: Proxy) -> bool:
    """End a proxy: its grantor, or the secretariat."""
    return user is not None and (user.id == proxy.grantor_id or permissions.can_run(meeting, user))


# --- the counting committee (meetings.voting.committee) ------------------------------------------

def can_elect_committee(meeting: Meeting, user: User | None) -> bool:
    """Elect (or replace) the meeting's counting committee: those who run the meeting."""
    return permissions.can_run(meeting, user)


def can_see_committee(meeting: Meeting, user: User | None) -> bool:
    """See who sits on the committee and how far its ceremony is: everyone who sees the meeting
    (its members' names and public keys go on every secret poll's bulletin board)."""
    return permissions.can_view(meeting, user)


def can_sit_on_committee(participant: Participant | None) -> bool:
    """May be elected to the committee: any participant of the meeting."""
    return participant is not None


def can_take_part_in_ceremony(meeting: Meeting, user: User | None, member: CommitteeMember | None) -> bool:
    """Publish this seat's ceremony messages and read what is addressed to it: the member alone
    (not the secretariat: the messages come from the member's own device)."""
    return user is not None and member is not None and member.user_id == user.id \
        and permissions.can_view(meeting, user)
