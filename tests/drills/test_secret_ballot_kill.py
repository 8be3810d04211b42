"""Drill: kill -9 the server while encrypted ballots come in, and again in the middle of the count.

Shows, with a real server process, real sockets and REST, and ballots encrypted by
Python devices (``elgamal.encrypt_ballot``) under a 2-of-3 committee's key:

- casting: ballots for three secret polls stream in over sockets and REST; the
  server gets SIGKILL once some are acknowledged. With the server dead, the
  database holds every acknowledged ballot, and as many has-voted rows as
  ballots (they are written in one transaction). After a restart every
  acknowledged tracking code is on the board exactly once; sending every ballot
  again stores the lost ones and answers ``already_voted`` for the others.
- counting: the chair closes the polls. Poll "acked": both partials acknowledged
  before the kill. Poll "in flight": one partial acknowledged, the second's
  request sent and the server killed at once (its answer lost). Poll "read": one
  partial acknowledged, and a second one written into the database while the
  server is down (a partial stored but never combined, as after a failed
  combine). After the restart: the acknowledged count is there; the lost partial
  is posted again (answered 200 whether it was stored or not: idempotent) and the
  count completes; a plain read of the third poll combines it. Every result equals
  the choices the members made, and every board passes the verifier.
"""
from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, insert, select

from meetings.voting import elgamal
from meetings.voting.models import EncryptedBallot, PartialDecryption, Poll, PollTally, SecretBallotCast
from tests.committee_helpers import LiveClients, run_ceremony
from tests.drills.conftest import kill_server, rest
from tests.live_server import free_port
from tests.socket_helpers import db_session, make_world, start_socket_server

MEMBERS = 30  # each casts in all three polls: 90 ballots
POLLS = ("acked", "in_flight", "read")
KILL_AFTER_ACKS = 20  # the server dies while the rest of the ballots are in flight or not yet sent
CALL_SECONDS = 6  # a cast whose answer did not come by then counts as "answer lost"
ROLES = ("for", "against", "abstain")
COMMITTEE = ["chair", "secretary", "delegate"]  # 2 of 3: the count needs any two


# ----------------------------------------------------------------------------- the committee

def _ceremony(w) -> dict[int, tuple[Any, str]]:
    """A 2-of-3 committee (chair, secretary, delegate) elected by the chair, its ceremony run by
    Python devices over REST; {member index: (device, token)}."""
    devices = run_ceremony(LiveClients(w), w.meeting_id, COMMITTEE, threshold=2, by="chair", user_ids=w.user_ids)
    return {device.index: (device, w.tokens[name]) for name, device in devices.items()}


# ----------------------------------------------------------------------------- ballots

def _role(member: int, which: int) -> str:
    return ROLES[(member + which) % 3]


def _encrypt_all(polls: dict[str, dict]) -> dict[tuple[str, int], dict]:
    """Every member's ballot for every poll, encrypted beforehand as a tablet would."""
    out = {}
    for which, name in enumerate(POLLS):
        poll = polls[name]
        position = {o["role"]: n for n, o in enumerate(poll["options"])}
        for i in range(MEMBERS):
            out[name, i] = elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], len(poll["options"]),
                                                  [position[_role(i, which)]], poll["min_choices"],
                                                  poll["max_choices"])
    return out


def _expected(poll: dict, which: int) -> dict[str, int]:
    by_role = {o["role"]: str(o["id"]) for o in poll["options"]}
    counts = {str(o["id"]): 0 for o in poll["options"]}
    for i in range(MEMBERS):
        counts[by_role[_role(i, which)]] += 1
    return counts


def _hash(poll: dict, ballot: dict) -> str:
    return elgamal.ballot_hash(poll["board_id"], ballot)


def _stored(database_url: str, poll_id: int) -> dict[str, Any]:
    with db_session(database_url) as s:
        def n(model):
            return s.scalar(select(func.count()).select_from(model).where(model.poll_id == poll_id))
        poll = s.get(Poll, poll_id)
        return {"hashes": set(s.scalars(select(EncryptedBallot.hash).where(EncryptedBallot.poll_id == poll_id))),
                "voters": set(s.scalars(select(SecretBallotCast.voter_id).where(SecretBallotCast.poll_id == poll_id))),
                "ballots": n(EncryptedBallot), "cast": n(SecretBallotCast), "partials": n(PartialDecryption),
                "counter": s.get(PollTally, poll_id).ballots, "status": poll.status,
                "result": {str(o["id"]): o["count"] for o in (poll.result or {}).get("options", [])}}


# ----------------------------------------------------------------------------- the drill

def test_kill_9_while_casting_and_counting_loses_no_acknowledged_ballot_or_share(tmp_path, database_url,
                                                                                 reconnecting):
    w = make_world(database_url, extra_delegates=MEMBERS)
    port = free_port()
    server = start_socket_server(tmp_path / "first", database_url, port=port)
    servers = [server]
    try:
        _drill(tmp_path, database_url, reconnecting, w, servers, port)
    finally:
        for s in servers:
            s.stop()


def _restart(tmp_path, database_url, servers, port, name):
    servers.append(start_socket_server(tmp_path / name, database_url, port=port,
                                       env={"INSTANCE_PATH": str(servers[0].instance_path)}))
    return servers[-1]


def _drill(tmp_path, database_url, reconnecting, w, servers, port) -> None:
    url, chair = servers[0].url, w.tokens["chair"]
    w.url = url
    devices = _ceremony(w)
    polls = {}
    for name in POLLS:
        r = rest(url, chair, "POST", f"/meetings/{w.meeting_id}/polls", {"title": f"Bầu kín {name}", "secret": True})
        assert r.status_code == 201, r.text
        r = rest(url, chair, "POST", f"/polls/{r.json()['id']}/open")
        assert r.status_code == 200, r.text
        polls[name] = r.json()
    ballots = _encrypt_all(polls)
    members = [f"member{i}" for i in range(MEMBERS)]
    sockets = {i: reconnecting(url, w.tokens[members[i]]) for i in range(0, MEMBERS, 2)}  # the rest use REST
    for client in sockets.values():
        client.join(w)

    acks = _cast_and_kill(url, w, members, polls, ballots, sockets, servers[0])
    confirmed = {key for key, a in acks.items() if a.get("ok")}
    assert KILL_AFTER_ACKS <= len(confirmed) < len(acks), "the kill must land in the middle of the casting"
    assert all(a.get("ok") or "lost" in a for a in acks.values()), acks
    for key in confirmed:  # the ack's tracking code is the one of the ballot the device made
        name, i = key
        assert acks[key]["tracking_code"] == elgamal.tracking_code(_hash(polls[name], ballots[key]))

    # With the server dead, the database alone holds every acknowledged ballot, once, beside its has-voted row.
    for name in POLLS:
        st = _stored(database_url, polls[name]["id"])
        assert st["ballots"] == st["cast"] == st["counter"] == len(st["voters"]), (name, st)
        for (pname, i) in confirmed:
            if pname == name:
                assert _hash(polls[name], ballots[pname, i]) in st["hashes"]
                assert w.user_ids[members[i]] in st["voters"]
    kept = sum(_stored(database_url, polls[name]["id"])["ballots"] for name in POLLS)
    print(f"drill: {len(confirmed)} of {len(acks)} ballots acknowledged before kill -9, {kept} stored")

    server = _restart(tmp_path, database_url, servers, port, "second")
    for client in sockets.values():
        client.wait_reconnected(2)
        client.join(w, last_seq=client.last_seq())
    for name in POLLS:
        board = rest(url, chair, "GET", f"/polls/{polls[name]['id']}/board").json()
        codes = [b["tracking_code"] for b in board["ballots"]]
        assert board["voters"] == len(board["ballots"]) == len(set(codes))
        for key in confirmed:
            if key[0] == name:
                assert codes.count(acks[key]["tracking_code"]) == 1
    # Every member sends their ballot again, as a tablet that saw no answer would.
    for (name, i), ballot in ballots.items():
        r = rest(server.url, w.tokens[members[i]], "POST", f"/polls/{polls[name]['id']}/ballots", {"ballot": ballot})
        if (name, i) in confirmed:
            assert r.status_code == 409 and r.json()["error"]["code"] == "already_voted", ((name, i), r.text)
        else:
            assert r.status_code in (201, 409), ((name, i), r.text)  # lost: stored now, or stored before the kill
    for name in POLLS:
        st = _stored(database_url, polls[name]["id"])
        assert st["ballots"] == st["cast"] == st["counter"] == MEMBERS, (name, st)
        assert st["hashes"] == {_hash(polls[name], ballots[name, i]) for i in range(MEMBERS)}

    _count_and_kill(tmp_path, database_url, w, servers, port, polls, devices)


def _cast_and_kill(url, w, members, polls, ballots, sockets, server) -> dict[tuple[str, int], dict]:
    """All 90 ballots spread over about 1.4 s, half over sockets, half over REST; kill -9 after some acks."""
    acks: dict[tuple[str, int], dict] = {}
    enough = threading.Event()
    lock = threading.Lock()
    order = [(name, i) for i in range(MEMBERS) for name in POLLS]

    def cast(n: int, key: tuple[str, int]) -> None:
        threading.Event().wait(n * 0.015)
        name, i = key
        poll_id = polls[name]["id"]
        try:
            if i in sockets:
                ack = sockets[i].call("vote.cast", {"poll_id": poll_id, "ballot": ballots[key]}, timeout=CALL_SECONDS)
            else:
                r = requests.post(f"{url}/api/v1/polls/{poll_id}/ballots", json={"ballot": ballots[key]},
                                  headers={"Authorization": f"Bearer {w.tokens[members[i]]}"}, timeout=CALL_SECONDS)
                ack = {"ok": True, **r.json()} if r.status_code == 201 else {"ok": False, "status": r.status_code,
                                                                              "body": r.text}
        except Exception as err:  # the connection died under the call: the answer is lost
            ack = {"lost": type(err).__name__}
        with lock:
            acks[key] = ack
            if sum(1 for a in acks.values() if a.get("ok")) >= KILL_AFTER_ACKS:
                enough.set()

    with ThreadPoolExecutor(len(order)) as pool:
        for n, key in enumerate(order):
            pool.submit(cast, n, key)
        assert enough.wait(30), {k: str(a)[:120] for k, a in acks.items() if not a.get("ok")}
        kill_server(server)
    return acks


def _partial(url, token, poll_id, shares):
    return rest(url, token, "POST", f"/polls/{poll_id}/partial-decryption", {"shares": shares})


def _send_and_kill(server, token: str, poll_id: int, shares: list[dict]) -> None:
    """Write the whole request to the socket, then kill -9 at once: its answer is never read."""
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    body = json.dumps({"shares": shares})
    conn.request("POST", f"/api/v1/polls/{poll_id}/partial-decryption", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    kill_server(server)
    conn.close()


def _count_and_kill(tmp_path, database_url, w, servers, port, polls, devices) -> None:
    server, chair = servers[-1], w.tokens["chair"]
    ids = {name: polls[name]["id"] for name in POLLS}
    for name in POLLS:
        r = rest(server.url, chair, "POST", f"/polls/{ids[name]}/close")
        assert r.status_code == 200 and r.json()["status"] == "counting", r.text
    partials = {}
    for name in POLLS:
        board = rest(server.url, chair, "GET", f"/polls/{ids[name]}/board").json()
        partials[name] = {i: dev.partial_decrypt(board["board_id"], board["encrypted_tally"])
                          for i, (dev, _token) in devices.items()}
    token = {i: t for i, (_dev, t) in devices.items()}
    expected = {name: _expected(polls[name], which) for which, name in enumerate(POLLS)}

    # "acked": both partials acknowledged; the second's answer carries the count's end.
    assert _partial(server.url, token[1], ids["acked"], partials["acked"][1]).status_code == 200
    r = _partial(server.url, token[2], ids["acked"], partials["acked"][2])
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    # "read" and "in flight": the first partial acknowledged.
    for name in ("read", "in_flight"):
        r = _partial(server.url, token[1], ids[name], partials[name][1])
        assert r.status_code == 200 and r.json()["status"] == "counting", r.text
    _send_and_kill(server, token[2], ids["in_flight"], partials["in_flight"][2])

    # With the server dead: the acknowledged count is stored; the one in flight is all or nothing.
    st = _stored(database_url, ids["acked"])
    assert st["status"] == "closed" and st["result"] == expected["acked"], st
    flight = _stored(database_url, ids["in_flight"])
    assert (flight["status"], flight["partials"]) in (("counting", 1), ("closed", 2)), flight
    print(f"drill: the partial in flight was {'stored' if flight['partials'] == 2 else 'lost'} at kill -9")
    # "read": a second partial lands in the database without a combine (as after a failed combine).
    with db_session(database_url) as s:
        s.execute(insert(PartialDecryption.__table__).values(poll_id=ids["read"], member_index=3,
                                                             shares=partials["read"][3]))
        s.commit()
    assert _stored(database_url, ids["read"])["status"] == "counting"

    server = _restart(tmp_path, database_url, servers, port, "third")
    # A read of the poll combines the k stored partials.
    r = rest(server.url, chair, "GET", f"/polls/{ids['read']}")
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    # The member whose answer was lost posts again: the same answer whether it was stored or not.
    r = _partial(server.url, token[2], ids["in_flight"], partials["in_flight"][2])
    assert r.status_code == 200 and r.json()["shares"] == partials["in_flight"][2], r.text
    r = _partial(server.url, token[1], ids["in_flight"], partials["in_flight"][1])  # a repeat: idempotent
    assert r.status_code == 200 and r.json()["shares"] == partials["in_flight"][1], r.text
    for name in POLLS:
        st = _stored(database_url, ids[name])
        assert st["status"] == "closed" and st["result"] == expected[name], (name, st)
        _verifies(rest(server.url, chair, "GET", f"/polls/{ids[name]}/board").json(), expected[name], polls[name])


def _verifies(board: dict, expected: dict[str, int], poll: dict) -> None:
    from meetings.voting import verify_board

    report = verify_board.verify(board)
    assert report.ok, report
    assert board["result"]["counts"] == [expected[str(o["id"])] for o in poll["options"]]
