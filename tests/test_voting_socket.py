"""Voting over a real gunicorn + gevent server with real python-socketio clients."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from meetings.platform.audit.models import AuditEntry
from meetings.voting.models import BallotCast, PollTally
from tests.socket_helpers import SocketClient, assert_not_received, db_session, make_world, start_socket_server
from tests.test_voting_support import encrypted_ballot, live_count, open_secret_poll


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("voting"), database_url)
    yield handle
    handle.stop()


@pytest.fixture
def world(server, database_url):
    w = make_world(database_url, status="scheduled")
    w.url = server.url
    # The sitting opens through the API, as the secretariat opens it; no status is set by hand.
    r = rest(w, "secretary", "POST", f"/meetings/{w.meeting_id}/status", {"status": "in_progress"})
    assert r.status_code == 200, r.text
    return w


@pytest.fixture
def clients():
    opened: list[SocketClient] = []
    yield opened
    for c in opened:
        c.disconnect()


def rest(world, name: str, method: str, path: str, body=None) -> requests.Response:
    return requests.request(method, world.url + "/api/v1" + path, json=body, timeout=15,
                            headers={"Authorization": f"Bearer {world.tokens[name]}"})


def open_poll(world, **fields) -> dict:
    r = rest(world, "chair", "POST", f"/meetings/{world.meeting_id}/polls", {"title": "Biểu quyết", **fields})
    assert r.status_code == 201, r.text
    r = rest(world, "chair", "POST", f"/polls/{r.json()['id']}/open")
    assert r.status_code == 200, r.text
    return r.json()


def joined(world, clients, name: str) -> SocketClient:
    c = SocketClient(world.url, world.tokens[name]).connect()
    clients.append(c)
    assert c.call("meeting.join", {"meeting_id": world.meeting_id})["ok"]
    return c


def opt(poll: dict, role: str) -> int:
    return next(o["id"] for o in poll["options"] if o["role"] == role)


def stored(database_url, poll_id: int) -> tuple:
    with db_session(database_url) as s:
        tally = s.get(PollTally, poll_id)
        return (s.execute(select(func.count()).select_from(BallotCast).where(BallotCast.poll_id == poll_id))
                .scalar_one(), dict(tally.counts), tally.ballots,
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_vote_cast_confirms_counts_and_announces_the_result(world, clients, database_url):
    chair, delegate, other = (joined(world, clients, n) for n in ("chair", "delegate", "delegate2"))
    second_tablet = SocketClient(world.url, world.tokens["delegate"]).connect()  # not joined: own room only
    clients.append(second_tablet)
    poll = open_poll(world)
    assert delegate.next_event(predicate=lambda e: e["type"] == "poll.opened")["data"]["poll"]["id"] == poll["id"]
    ack = delegate.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "for")]})
    assert ack == {"ok": True, "poll_id": poll["id"], "voter_id": world.user_ids["delegate"], "voted": True,
                   "option_ids": [opt(poll, "for")]}
    confirmed = second_tablet.next_event("vote.confirmed")
    assert confirmed["poll_id"] == poll["id"] and confirmed["voter_id"] == world.user_ids["delegate"]
    assert chair.next_event("poll.progress") == {"poll_id": poll["id"], "voted": 1, "entitled": 4}
    dup = delegate.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "against")]})
    assert dup["ok"] is False and dup["error"]["code"] == "already_voted"
    assert other.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "against")]})["ok"]
    assert rest(world, "chair", "POST", f"/polls/{poll['id']}/close").status_code == 200
    closed = other.next_event(predicate=lambda e: e["type"] == "poll.closed")
    assert closed["data"] == {"poll_id": poll["id"], "status": "closed", "voted": 2, "entitled": 4}
    assert chair.next_event("poll.result")["result"]["cast"] == 2
    rest(world, "chair", "POST", f"/polls/{poll['id']}/publish")
    published = other.next_event(predicate=lambda e: e["type"] == "poll.published")
    assert published["data"]["result"]["outcome"] == "no_quorum"  # 2 of 4 voting members took part
    # The delegates never got the managers' notices.
    assert_not_received([other, delegate], lambda name, _data: name in ("poll.progress", "poll.result"),
                        what="a managers' notice to a delegate")


def test_forged_and_unauthorized_vote_events_change_nothing(world, clients, database_url):
    poll = open_poll(world)
    observer, outsider, delegate = (joined(world, clients, "observer"),
                                    SocketClient(world.url, world.tokens["outsider"]).connect(),
                                    joined(world, clients, "delegate"))
    clients.append(outsider)
    before = stored(database_url, poll["id"])
    good = [opt(poll, "for")]
    cases = [
        (delegate, None, "invalid"), (delegate, [poll["id"]], "invalid"), (delegate, "vote", "invalid"),
        (delegate, {"option_ids": good}, "invalid"), (delegate, {"poll_id": str(poll["id"]), "option_ids": good},
                                                      "invalid"),
        (delegate, {"poll_id": poll["id"], "option_ids": "1"}, "invalid"),
        (delegate, {"poll_id": poll["id"], "option_ids": [999999]}, "invalid_choice"),
        (delegate, {"poll_id": poll["id"], "option_ids": good + good}, "invalid_choice"),
        (delegate, {"poll_id": 999999, "option_ids": good}, "not_found"),
        (delegate, {"poll_id": poll["id"], "option_ids": good, "on_behalf_of": world.user_ids["delegate2"]},
         "no_proxy"),
        (delegate, {"poll_id": poll["id"], "option_ids": good, "x": "y" * 70000}, "too_large"),
        (observer, {"poll_id": poll["id"], "option_ids": good}, "not_entitled"),
        (outsider, {"poll_id": poll["id"], "option_ids": good}, "not_found"),
    ]
    for client, payload, code in cases:
        ack = client.call("vote.cast", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload if not isinstance(payload, dict) or
                                                                     "x" not in payload else "big", ack)
    assert stored(database_url, poll["id"]) == before


def test_secret_poll_over_sockets_sends_no_choice(world, clients, database_url):
    chair, secretary, admin = (joined(world, clients, n) for n in ("chair", "secretary", "admin"))
    delegate = joined(world, clients, "delegate")
    poll = open_secret_poll(world)
    option_ids = {o["id"] for o in poll["options"]}
    codes = []
    for name, role in (("delegate", "for"), ("delegate2", "against")):
        c = delegate if name == "delegate" else joined(world, clients, name)
        ack = c.call("vote.cast", {"poll_id": poll["id"], "ballot": encrypted_ballot(poll, role)})
        assert ack == {"ok": True, "poll_id": poll["id"], "voter_id": world.user_ids[name], "voted": True,
                       "tracking_code": ack["tracking_code"]}, ack
        codes.append(ack["tracking_code"])
    assert chair.next_event("poll.progress", lambda p: p["voted"] == 2)["entitled"] == 4
    assert rest(world, "chair", "POST", f"/polls/{poll['id']}/close").json()["status"] == "counting"
    counting = delegate.next_event(predicate=lambda e: e["type"] == "poll.counting")["data"]
    assert counting["poll_id"] == poll["id"] and counting["board_id"] == poll["board_id"]
    live_count(world, poll)
    result = chair.next_event("poll.result")["result"]
    assert {o["id"]: o["count"] for o in result["options"]} == {opt(poll, "for"): 1, opt(poll, "against"): 1,
                                                                 opt(poll, "abstain"): 0}

    def leaks(name: str, data) -> bool:
        text = json.dumps(data)
        if any(code in text for code in codes):
            return True  # a tracking code goes to its caster's ack only
        if name == "event" and data["type"] in ("poll.opened", "poll.closed", "poll.published"):
            return False  # they list the poll's options, not anyone's choice
        if name == "event" and data["type"] == "poll.tally":
            return True
        return "option_ids" in text or (name == "vote.confirmed" and bool(option_ids & set(data.values())))

    assert_not_received([chair, secretary, admin, delegate], leaks, what="a secret choice, tally or tracking code")


def test_proxy_holder_votes_and_both_devices_are_told(world, clients, database_url):
    grantor = SocketClient(world.url, world.tokens["delegate"]).connect()
    clients.append(grantor)
    r = rest(world, "delegate", "POST", f"/meetings/{world.meeting_id}/proxies",
             {"holder_id": world.user_ids["delegate2"]})
    assert r.status_code == 201
    assert grantor.next_event("proxy.created")["holder_id"] == world.user_ids["delegate2"]
    holder = joined(world, clients, "delegate2")
    poll = open_poll(world)
    ack = holder.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "for")],
                                    "on_behalf_of": world.user_ids["delegate"]})
    assert ack["ok"] and ack["voter_id"] == world.user_ids["delegate"]
    told = grantor.next_event("vote.confirmed")
    assert told["voter_id"] == world.user_ids["delegate"] and told["cast_by_id"] == world.user_ids["delegate2"]
    assert holder.next_event("vote.confirmed")["voter_id"] == world.user_ids["delegate"]
    ack = grantor.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "for")]})
    assert ack["error"]["code"] == "proxy_active"


def test_live_named_poll_streams_tallies_to_the_room(world, clients):
    delegate, other = joined(world, clients, "delegate"), joined(world, clients, "delegate2")
    poll = open_poll(world, results_live=True)
    delegate.call("vote.cast", {"poll_id": poll["id"], "option_ids": [opt(poll, "against")]})
    tally = other.next_event(predicate=lambda e: e["type"] == "poll.tally")["data"]
    assert tally["voted"] == 1 and {c["id"]: c["count"] for c in tally["counts"]}[opt(poll, "against")] == 1
