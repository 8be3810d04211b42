"""Socket.IO handlers of voting: ``vote.cast`` → acknowledgement (docs/realtime.md, "Voting")."""
from __future__ import annotations

from meetings.core.errors import NotFound
from meetings.core.extensions import db
from meetings.platform.realtime.gateway import socket_event
from meetings.voting import service
from meetings.voting.models import Poll
from meetings.voting.schemas import SocketBallotIn


@socket_event("vote.cast", SocketBallotIn)
def vote_cast(user, data):
    """Cast a ballot from a tablet. The ack never carries a secret choice; the voter's other
    devices (and the proxy holder's) get ``vote.confirmed``, the managers ``poll.progress``."""
    # cast_ballot checks who may see and vote in the poll with a few indexed lookups; the
    # general permission helpers load every participant, too slow for 1,000 ballots a second.
    poll = db.session.get(Poll, data["poll_id"])
    if poll is None:
        raise NotFound("No such poll.")
    if service.close_if_expired(db.session, poll):  # past its time limit: closing it is due anyway
        db.session.commit()
    return service.cast_ballot(db.session, poll.id, user, data["option_ids"], data.get("on_behalf_of"))
