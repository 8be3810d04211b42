"""Group commit on the real server (gunicorn -k gevent, where the batch's leader is a greenlet):
real Socket.IO clients, each voter on two devices casting at the same moment, plus REST.

Exactly one ballot per voter is stored, the other device is told ``already_voted``; every
"ok" is stored; the secretary sees the final progress. Named and secret (encrypted) ballots.
A long window (BALLOT_GROUP_WINDOW_MS) puts the two devices' ballots in the same batch.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select

from meetings.voting.models import BallotCast, SecretBallotCast
from tests.socket_helpers import SocketClient, db_session, make_world, start_socket_server
from tests.test_voting_support import encrypted_ballot, open_secret_poll, option, rest

MEMBERS = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("group-commit"), database_url,
                                 env={"BALLOT_GROUP_WINDOW_MS": "400"})
    yield handle
    handle.stop()


@pytest.fixture
def hall(server, database_url):
    """A live meeting with MEMBERS extra members, each on two joined devices; the secretary's tablet."""
    w = make_world(database_url, extra_delegates=MEMBERS)
    w.url = server.url
    names = [f"member{i}" for i in range(MEMBERS)]
    devices = {n: [SocketClient(server.url, w.tokens[n]).connect() for _ in (0, 1)] for n in names}
    secretary = SocketClient(server.url, w.tokens["secretary"]).connect()
    for client in (secretary, *(c for pair in devices.values() for c in pair)):
        assert client.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
    yield w, devices, secretary
    for client in (secretary, *(c for pair in devices.values() for c in pair)):
        client.disconnect()


def _storm(devices: dict[str, list[SocketClient]], payload_of: Callable[[str, int], dict]) -> dict[str, list[dict]]:
    """Every device casts at once (released by one barrier); each voter's two acknowledgements."""
    jobs = [(name, k, client) for name, pair in devices.items() for k, client in enumerate(pair)]
    barrier = threading.Barrier(len(jobs))
    acks: dict[str, list[dict]] = {name: [] for name in devices}

    def cast(name: str, k: int, client: SocketClient) -> None:
        payload = payload_of(name, k)
        barrier.wait(timeout=60)
        acks[name].append(client.call("vote.cast", payload))

    threads = [threading.Thread(target=cast, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return acks


def _exactly_once(acks: dict[str, list[dict]]) -> None:
    for name, pair in acks.items():
        assert len(pair) == 2, (name, pair)
        assert sorted(a["ok"] for a in pair) == [False, True], (name, pair)
        refused = next(a for a in pair if not a["ok"])
        assert refused["error"]["code"] == "already_voted", (name, pair)


def _progress_reaches(secretary: SocketClient, poll_id: int, voted: int) -> None:
    secretary.wait_for(lambda ev, data: ev == "poll.progress" and data["poll_id"] == poll_id
                       and data["voted"] == voted, f"poll.progress with {voted} ballots")


def test_two_devices_of_each_voter_cast_at_once_one_ballot_stored(hall, database_url):
    w, devices, secretary = hall
    r = rest(w, "chair", "POST", f"/meetings/{w.meeting_id}/polls", {"title": "Thông qua Nghị quyết"})
    assert r.status_code == 201, r.text
    poll = rest(w, "chair", "POST", f"/polls/{r.json()['id']}/open").json()
    yes, no = option(poll, "for"), option(poll, "against")
    acks = _storm(devices, lambda name, k: {"poll_id": poll["id"], "option_ids": [yes if k == 0 else no]})
    _exactly_once(acks)
    with db_session(database_url) as s:
        stored = set(s.scalars(select(BallotCast.voter_id).where(BallotCast.poll_id == poll["id"])))
    assert stored == {w.user_ids[n] for n in devices}  # every "ok" is stored, nothing else
    _progress_reaches(secretary, poll["id"], MEMBERS)
    # REST goes through the same batches: a third try from the web page is refused too.
    again = rest(w, "member0", "POST", f"/polls/{poll['id']}/ballots", {"option_ids": [yes]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted", again.text


def test_two_devices_of_each_voter_cast_encrypted_ballots_at_once_one_stored(hall, database_url):
    w, devices, secretary = hall
    poll = open_secret_poll(w)
    ballots = {(n, k): encrypted_ballot(poll, ("for", "against")[k]) for n in devices for k in (0, 1)}
    acks = _storm(devices, lambda name, k: {"poll_id": poll["id"], "ballot": ballots[(name, k)]})
    _exactly_once(acks)
    assert all("tracking_code" in a for pair in acks.values() for a in pair if a["ok"])
    with db_session(database_url) as s:
        stored = set(s.scalars(select(SecretBallotCast.voter_id).where(SecretBallotCast.poll_id == poll["id"])))
    assert stored == {w.user_ids[n] for n in devices}
    _progress_reaches(secretary, poll["id"], MEMBERS)
