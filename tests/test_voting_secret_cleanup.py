"""A secret poll whose clean-up cannot complete: the result is withheld, the failure logged, the
clean-up retried; the server keeps answering meanwhile. Real gunicorn + gevent, real database.

Issue 13, item 6: while another process held a read transaction, closing a secret poll took 15 s
(SQLite's busy wait ran on the gevent loop, stopping every socket and /healthz), and the clean-up
then failed without a word, leaving every intermediate tally in the WAL.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.db_locks import held_transaction
from tests.socket_helpers import WAIT_SECONDS, SocketClient, db_session, make_world, start_socket_server, wait_until

VOTERS = (("delegate", "for"), ("delegate2", "against"), ("secretary", "for"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("cleanup"), database_url)
    yield handle
    handle.stop()


def rest(world, name: str, method: str, path: str, body=None) -> requests.Response:
    return requests.request(method, world.url + "/api/v1" + path, json=body, timeout=WAIT_SECONDS * 2,
                            headers={"Authorization": f"Bearer {world.tokens[name]}"})


def open_secret_poll(world, **fields) -> dict:
    r = rest(world, "chair", "POST", f"/meetings/{world.meeting_id}/polls",
             {"title": "Bỏ phiếu kín", "secret": True, **fields})
    assert r.status_code == 201, r.text
    return rest(world, "chair", "POST", f"/polls/{r.json()['id']}/open").json()


def cast_ballots(world, poll: dict) -> list[str]:
    """Three ballots; the tally's states after each one, as stored."""
    counts = {str(o["id"]): 0 for o in poll["options"]}
    states = []
    for name, role in VOTERS:
        option_id = next(o["id"] for o in poll["options"] if o["role"] == role)
        assert rest(world, name, "POST", f"/polls/{poll['id']}/ballots", {"option_ids": [option_id]}).status_code == 201
        counts[str(option_id)] += 1
        states.append(json.dumps(counts))
    return states


def stored_tally_bytes(database_url: str) -> bytes:
    """Every byte the database keeps for the tally table, dead row versions included."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        wal = Path(f"{path}-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with db_session(database_url) as s:
        s.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        rows = s.execute(text(
            "SELECT t_data FROM generate_series(0, pg_relation_size('poll_tallies') / 8192 - 1) AS p,"
            " heap_page_items(get_raw_page('poll_tallies', p::int)) WHERE t_data IS NOT NULL")).scalars()
        data = b"".join(bytes(r) for r in rows)
        s.commit()
        return data


def test_result_withheld_until_the_scrub_succeeds_and_the_server_answers_meanwhile(server, database_url):
    w = make_world(database_url)
    w.url = server.url
    chair = SocketClient(server.url, w.tokens["chair"]).connect()
    try:
        assert chair.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        poll = open_secret_poll(w, publish_on_close=True)
        # A report (or a backup) that began before the ballots and is still reading when the poll closes.
        with held_transaction(database_url, "read") as reader:
            *earlier, final = cast_ballots(w, poll)
            health: dict = {}
            closing = threading.Thread(target=lambda: health.setdefault(
                "close", rest(w, "chair", "POST", f"/polls/{poll['id']}/close")))
            closing.start()
            # The loop is free while the close meets the reader: /healthz answers, the reader still holds.
            health["healthz"] = requests.get(server.url + "/healthz", timeout=WAIT_SECONDS).status_code
            assert health["healthz"] == 200 and reader.holding
            closing.join(WAIT_SECONDS * 2)
            assert reader.holding
            closed = health["close"]
            assert closed.status_code == 200, closed.text
            assert closed.json()["status"] == "closing" and "result" not in closed.json()
            assert chair.next_event("event", lambda e: e["type"] == "poll.closing")["data"]["voted"] == 3
            wait_until(lambda: f"secret poll {poll['id']}: could not scrub" in server.log(), "the error log line")
            # Withheld from everyone, the chair included, over every path.
            for name in ("chair", "admin", "delegate"):
                seen = rest(w, name, "GET", f"/polls/{poll['id']}").json()
                assert seen["status"] == "closing" and "result" not in seen, (name, seen)
            assert rest(w, "chair", "GET", f"/polls/{poll['id']}/results.json").status_code == 403
            assert rest(w, "chair", "POST", f"/polls/{poll['id']}/publish").status_code == 409
            # The reason it is withheld: the tally's earlier states are still stored.
            assert any(s.encode() in stored_tally_bytes(database_url) for s in earlier)
            reader.release()
        # The retrier finds the database free: scrubbed, then closed and published (publish_on_close).
        published = chair.next_event("event", lambda e: e["type"] == "poll.published")
        assert published["data"]["poll_id"] == poll["id"]
        seen = rest(w, "delegate", "GET", f"/polls/{poll['id']}").json()
        assert seen["status"] == "published" and seen["result"]["ballots"] == 3
        raw = stored_tally_bytes(database_url)
        assert final.encode() in raw  # the search works: the final state is there
        for state in earlier:
            assert state.encode() not in raw, state
        assert f"secret poll {poll['id']}: tally scrubbed on retry" in server.log()
    finally:
        chair.disconnect()


def test_an_unhindered_secret_close_releases_the_result_at_once(server, database_url):
    """No reader: the scrub succeeds right after the commit; the chair gets the result notice,
    and the poll reads closed (with its result) by the time anyone asks."""
    w = make_world(database_url)
    w.url = server.url
    chair = SocketClient(server.url, w.tokens["chair"]).connect()
    try:
        assert chair.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        poll = open_secret_poll(w)
        cast_ballots(w, poll)
        assert rest(w, "chair", "POST", f"/polls/{poll['id']}/close").status_code == 200
        assert chair.next_event("poll.result")["result"]["ballots"] == 3
        seen = rest(w, "chair", "GET", f"/polls/{poll['id']}").json()
        assert seen["status"] == "closed" and seen["result"]["ballots"] == 3
        assert "result" not in rest(w, "delegate", "GET", f"/polls/{poll['id']}").json()  # not published
        assert f"secret poll {poll['id']}" not in server.log()
    finally:
        chair.disconnect()


def test_the_background_retrier_alone_releases_the_result(server, database_url):
    """Nobody reads the poll while it is withheld: the server's own retrier scrubs and releases it,
    and the chair is told the result (publish_on_close off: the managers only)."""
    w = make_world(database_url)
    w.url = server.url
    chair = SocketClient(server.url, w.tokens["chair"]).connect()
    try:
        assert chair.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
        poll = open_secret_poll(w)
        with held_transaction(database_url, "read"):
            cast_ballots(w, poll)
            assert rest(w, "chair", "POST", f"/polls/{poll['id']}/close").json()["status"] == "closing"
            wait_until(lambda: f"secret poll {poll['id']}: could not scrub" in server.log(), "the error log line")
        closed = chair.next_event("event", lambda e: e["type"] == "poll.closed")
        assert closed["data"] == {"poll_id": poll["id"], "status": "closed", "voted": 3, "entitled": 4}
        assert chair.next_event("poll.result")["result"]["ballots"] == 3
    finally:
        chair.disconnect()
