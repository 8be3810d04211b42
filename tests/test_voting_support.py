"""Helpers shared by the voting tests (no tests here)."""
from __future__ import annotations

import requests
from sqlalchemy import func, select

from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from meetings.voting import elgamal
from meetings.voting.models import (
    BallotCast,
    EncryptedBallot,
    PartialDecryption,
    Poll,
    PollTally,
    Proxy,
    SecretBallotCast,
)
from tests import committee_helpers
from tests.factories import move_meeting


def start_meeting(world) -> None:
    """Open the sitting through the status service, as the secretariat does."""
    move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.users["secretary"], "in_progress")
    db.session.remove()


def new_poll(as_user, world, by: str = "chair", **fields) -> dict:
    body = {"title": "Thông qua Nghị quyết về ngân sách năm 2027", **fields}
    r = as_user(by).post(f"/api/v1/meetings/{world.meeting.id}/polls", json=body)
    assert r.status_code == 201, r.json
    return r.json


def open_poll(as_user, world, by: str = "chair", **fields) -> dict:
    """Create and open a poll; a secret one after the sitting's committee ran its key ceremony
    (the default committee, chair + secretary, from their Python devices) if none is ready."""
    poll = new_poll(as_user, world, by, **fields)
    if poll["secret"]:
        ready_committee(as_user, world)
    r = as_user(by).post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 200, r.json
    return r.json


def ready_committee(as_user, world, members: list[str] | None = None, threshold: int | None = None) -> dict:
    """The sitting's counting committee, ready: its key ceremony run now from Python devices unless
    done already (``members`` None: the default one, chair + secretary, 2 of 2). The devices by name,
    kept on the world for the count."""
    r = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/counting-committee")
    if r.status_code != 200 or r.json["status"] != "ready" or members is not None:
        world.__dict__["committee_devices"] = committee_helpers.run_ceremony(
            as_user, world.meeting.id, members, threshold)
    return world.__dict__["committee_devices"]


def option(poll: dict, role_or_label: str) -> int:
    return next(o["id"] for o in poll["options"] if role_or_label in (o["role"], o["label"]))


def position(poll: dict, role_or_label: str) -> int:
    """The 0-based position of an option in the poll's order (what an encrypted ballot is laid out by)."""
    return next(i for i, o in enumerate(poll["options"]) if role_or_label in (o["role"], o["label"]))


def encrypted_ballot(poll: dict, *choices: str) -> dict:
    """What a voter's device sends for a secret poll: the choices encrypted under the poll's key."""
    return elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], len(poll["options"]),
                                  [position(poll, c) for c in choices], poll["min_choices"], poll["max_choices"])


def vote(as_user, name: str, poll: dict, *choices: str, on_behalf_of: int | None = None):
    """Cast ``name``'s ballot over REST: option ids on a named poll, an encrypted ballot on a secret one."""
    if poll["secret"]:
        body = {"ballot": encrypted_ballot(poll, *choices)}
    else:
        body = {"option_ids": [option(poll, c) for c in choices]}
    if on_behalf_of is not None:
        body["on_behalf_of"] = on_behalf_of
    return as_user(name).post(f"/api/v1/polls/{poll['id']}/ballots", json=body)


def count_secret(as_user, world, poll: dict, members: list[str] | None = None) -> dict:
    """The committee's count of a closed (counting) secret poll: k members' devices (default: the first
    k) post their partial decryptions; returns the poll as the chair then reads it."""
    committee_helpers.count(as_user, poll["id"], world.__dict__["committee_devices"], members)
    r = as_user("chair").get(f"/api/v1/polls/{poll['id']}")
    assert r.status_code == 200 and r.json["status"] in ("closed", "published"), r.json
    return r.json


def close_secret(as_user, world, poll: dict, by: str = "chair") -> dict:
    """Close a secret poll and run the committee's count: the poll as it reads afterwards."""
    r = as_user(by).post(f"/api/v1/polls/{poll['id']}/close")
    assert r.status_code == 200, r.json
    if r.json["status"] != "counting":  # no ballot: nothing to decrypt
        return r.json
    return count_secret(as_user, world, poll)


def state(poll_id: int) -> tuple:
    """Everything a refused request must leave untouched."""
    s = db.session
    try:
        tally = s.get(PollTally, poll_id)
        return (
            s.execute(select(func.count()).select_from(BallotCast).where(BallotCast.poll_id == poll_id)).scalar_one(),
            *(s.execute(select(func.count()).select_from(model).where(model.poll_id == poll_id)).scalar_one()
              for model in (SecretBallotCast, EncryptedBallot, PartialDecryption)),
            (dict(tally.counts), tally.ballots, tally.weight) if tally else None,
            s.execute(select(Poll.status).where(Poll.id == poll_id)).scalar_one_or_none(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
            s.execute(select(func.count()).select_from(MeetingEvent)).scalar_one(),
            s.execute(select(func.count()).select_from(Proxy)).scalar_one(),
        )
    finally:
        s.remove()


# --- the same against a real server (tests/socket_helpers.py's LiveWorld) -----------------------

LIVE_VOTERS = (("delegate", "for"), ("delegate2", "against"), ("secretary", "for"))


def rest(world, name: str, method: str, path: str, body=None) -> requests.Response:
    """One REST call to the live server as ``name``."""
    return requests.request(method, world.url + "/api/v1" + path, json=body, timeout=30,
                            headers={"Authorization": f"Bearer {world.tokens[name]}"})


def live_ready_committee(world) -> dict:
    """The live sitting's committee, ready (the default chair + secretary one, its ceremony run from
    Python devices over REST unless done); the devices by name, kept on the world."""
    r = rest(world, "secretary", "GET", f"/meetings/{world.meeting_id}/counting-committee")
    if r.status_code != 200 or r.json()["status"] != "ready":
        world.__dict__["committee_devices"] = committee_helpers.run_ceremony(
            committee_helpers.LiveClients(world), world.meeting_id, user_ids=world.user_ids)
    return world.__dict__["committee_devices"]


def open_secret_poll(world, **fields) -> dict:
    """Create and open a secret poll on the live server (its committee's ceremony first if need be)."""
    r = rest(world, "chair", "POST", f"/meetings/{world.meeting_id}/polls",
             {"title": "Bỏ phiếu kín", "secret": True, **fields})
    assert r.status_code == 201, r.text
    live_ready_committee(world)
    r = rest(world, "chair", "POST", f"/polls/{r.json()['id']}/open")
    assert r.status_code == 200, r.text
    return r.json()


def cast_ballots(world, poll: dict, voters=LIVE_VOTERS) -> list[str]:
    """Encrypted ballots over REST, one per (name, choice); their tracking codes."""
    codes = []
    for name, choice in voters:
        r = rest(world, name, "POST", f"/polls/{poll['id']}/ballots", {"ballot": encrypted_ballot(poll, choice)})
        assert r.status_code == 201, r.text
        codes.append(r.json()["tracking_code"])
    return codes


def live_count(world, poll: dict, members: list[str] | None = None) -> list[dict]:
    """The committee's devices post their partial decryptions to the live server (default: the first k)."""
    return committee_helpers.count(committee_helpers.LiveClients(world), poll["id"],
                                   world.__dict__["committee_devices"], members)
