"""Drill: kill -9 the server in the middle of a vote, start it again, finish the vote.

Shows: every ballot whose acknowledgement said ok is stored (the ack is sent
after the commit); a ballot whose ack was lost is either stored or not, and
casting it again says ``already_voted`` or stores it, never twice; clients
reconnect by themselves and, rejoining with their last seq, receive exactly the
events they missed; the chair closes the poll with the right tally.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from meetings.platform.realtime.models import MeetingEvent
from meetings.voting.models import BallotCast, Poll, PollTally
from tests.drills.conftest import kill_server, rest
from tests.live_server import free_port
from tests.socket_helpers import db_session, make_world, start_socket_server

MEMBERS = 24
KILL_AFTER_ACKS = 8  # the server dies while the rest of the ballots are in flight or not yet sent
CALL_SECONDS = 6  # a cast whose answer did not come by then counts as "answer lost"


def _choice(poll: dict, i: int) -> int:
    role = ("for", "against", "abstain")[i % 3]
    return next(o["id"] for o in poll["options"] if o["role"] == role)


def _stored_voters(database_url: str, poll_id: int) -> list[int]:
    with db_session(database_url) as s:
        return list(s.scalars(select(BallotCast.voter_id).where(BallotCast.poll_id == poll_id)))


def test_kill_9_mid_vote_loses_no_acknowledged_ballot(tmp_path, database_url, reconnecting):
    w = make_world(database_url, extra_delegates=MEMBERS)
    port = free_port()
    server = start_socket_server(tmp_path / "first", database_url, port=port)
    try:
        _drill(tmp_path, database_url, reconnecting, w, server, port)
    finally:
        server.stop()


def _drill(tmp_path, database_url, reconnecting, w, server, port) -> None:
    url = server.url
    members = [f"member{i}" for i in range(MEMBERS)]
    r = rest(url, w.tokens["chair"], "POST", f"/meetings/{w.meeting_id}/polls", {"title": "Thông qua Nghị quyết"})
    assert r.status_code == 201, r.text
    r = rest(url, w.tokens["chair"], "POST", f"/polls/{r.json()['id']}/open")
    assert r.status_code == 200, r.text
    poll = r.json()
    chair = reconnecting(url, w.tokens["chair"])
    watcher = reconnecting(url, w.tokens["delegate"])  # a tablet whose Wi-Fi comes back late
    voters = {name: reconnecting(url, w.tokens[name]) for name in members}
    for client in (chair, watcher, *voters.values()):
        client.join(w)

    # Phase 1: ballots stream in; the server is killed -9 once a few have been acknowledged.
    acks: dict[str, Any] = {}
    enough = threading.Event()
    lock = threading.Lock()

    def cast(i: int, name: str) -> None:
        threading.Event().wait(i * 0.03)  # spread the ballots over a little under a second
        try:
            ack = voters[name].call("vote.cast", {"poll_id": poll["id"], "option_ids": [_choice(poll, i)]},
                                    timeout=CALL_SECONDS)
        except Exception as err:  # the connection died under the call: the answer is lost
            ack = {"lost": type(err).__name__}
        with lock:
            acks[name] = ack
            if sum(1 for a in acks.values() if a.get("ok")) >= KILL_AFTER_ACKS:
                enough.set()

    with ThreadPoolExecutor(MEMBERS) as pool:
        for i, name in enumerate(members):
            pool.submit(cast, i, name)
        assert enough.wait(30), acks
        watcher.hold()
        kill_server(server)
    confirmed = {name for name, a in acks.items() if a.get("ok")}
    assert KILL_AFTER_ACKS <= len(confirmed) < MEMBERS, "the kill must land in the middle of the vote"
    assert all(a.get("ok") or "lost" in a for a in acks.values()), acks  # nothing but ok or no answer

    # With the server dead, the database alone holds every acknowledged ballot.
    stored = set(_stored_voters(database_url, poll["id"]))
    print(f"drill: {len(confirmed)} of {MEMBERS} ballots acknowledged before kill -9, {len(stored)} stored")
    assert {w.user_ids[n] for n in confirmed} <= stored
    with db_session(database_url) as s:
        assert s.get(PollTally, poll["id"]).ballots == len(stored)  # the tally moved with each ballot
        seq_at_kill = s.scalar(select(MeetingEvent.seq).where(MeetingEvent.meeting_id == w.meeting_id)
                               .order_by(MeetingEvent.seq.desc()).limit(1)) or 0

    # Phase 2: a new server on the same port and database; the tablets reconnect by themselves.
    server2 = start_socket_server(tmp_path / "second", database_url, port=port,
                                  env={"INSTANCE_PATH": str(server.instance_path)})
    try:
        _after_restart(database_url, w, poll, members, voters, chair, watcher, confirmed, stored, seq_at_kill)
    finally:
        server2.stop()


def _after_restart(database_url, w, poll, members, voters, chair, watcher, confirmed, stored, seq_at_kill):
    for client in (chair, *voters.values()):
        client.wait_reconnected(2)
        ack = client.join(w, last_seq=client.last_seq())
        assert "snapshot" not in ack and ack["seq"] >= seq_at_kill
    # While the watcher is still away, the meeting moves on.
    assert chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 7})["ok"]
    assert chair.call("item.open", {"meeting_id": w.meeting_id, "agenda_item_id": w.item_ids[0]})["ok"]
    # Every voter casts (again): a stored ballot says already_voted, a lost one is stored now; none twice.
    for i, name in enumerate(members):
        ack = voters[name].call("vote.cast", {"poll_id": poll["id"], "option_ids": [_choice(poll, i)]})
        if w.user_ids[name] in stored:
            assert ack["ok"] is False and ack["error"]["code"] == "already_voted", (name, ack)
        else:
            assert ack["ok"] is True, (name, ack)
    assert sorted(_stored_voters(database_url, poll["id"])) == sorted(w.user_ids[n] for n in members)

    # The watcher's Wi-Fi comes back: rejoining with its last seq gives exactly what it missed.
    seen = watcher.last_seq()
    watcher.release()
    watcher.wait_reconnected(2)
    ack = watcher.call("meeting.join", {"meeting_id": w.meeting_id, "last_seq": seen})
    with db_session(database_url) as s:
        missed = [(e.seq, e.type, e.data) for e in s.scalars(
            select(MeetingEvent).where(MeetingEvent.meeting_id == w.meeting_id, MeetingEvent.seq > seen)
            .order_by(MeetingEvent.seq))]
    assert [(e["seq"], e["type"], e["data"]) for e in ack["events"]] == missed
    assert [e["seq"] for e in ack["events"]] == list(range(seen + 1, ack["seq"] + 1))
    assert {"presenter.changed", "item.opened"} <= {e["type"] for e in ack["events"]}

    # The chair closes the poll: every member counted exactly once, with the choice they made.
    r = rest(watcher.url, w.tokens["chair"], "POST", f"/polls/{poll['id']}/close")
    assert r.status_code == 200, r.text
    closed = watcher.next_event("event", lambda e: e["type"] == "poll.closed")
    assert closed["data"]["voted"] == MEMBERS
    expected = {str(_choice(poll, i)): 0 for i in range(3)}
    for i in range(MEMBERS):
        expected[str(_choice(poll, i))] += 1
    with db_session(database_url) as s:
        tally = s.get(PollTally, poll["id"])
        assert tally.ballots == MEMBERS
        assert {str(k): v for k, v in tally.counts.items() if v} == expected
        assert s.get(Poll, poll["id"]).status == "closed"
