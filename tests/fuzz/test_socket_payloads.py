"""Malformed socket payloads (hypothesis) against one real server, to every event the server registers.

The event names come from the Socket.IO server's own handler table after create_app. For each, a real
python-socketio client (the chair, joined to a live meeting) sends generated payloads: any JSON (wrong
types, huge strings, nesting, unknown ids, negative numbers, NaN-ish strings) and objects with the
event's likely keys set to such values. Every call must get an acknowledgement ``{"ok": bool, ...}``,
never ``internal_error``; a refused event leaves the meeting's state (its event ``seq``) unchanged; the
connection stays usable and the server stays up.
"""
from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.core.db import make_engine
from tests.live_server import PROJECT_ROOT
from tests.socket_helpers import SocketClient, make_world, start_socket_server

EXAMPLES_PER_EVENT = 30
KEYS = ["meeting_id", "poll_id", "option_ids", "document_id", "agenda_item_id", "item_id", "user_id", "id",
        "page", "zoom", "status", "reason", "kind", "position", "request_id", "order", "last_seq", "version",
        "geometry", "text", "on_behalf_of", "seconds"]

weird_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    st.sampled_from(["NaN", "Infinity", "-1", "0x10", "1e309", "", " ", "null", "\u0000", "ﬀ" * 3, "🗳️"]),
    st.text(max_size=40), st.integers(min_value=1_000, max_value=80_000).map(lambda n: "ư" * n),
)
json_values = st.recursive(weird_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
payloads = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(KEYS), json_values, min_size=1, max_size=5),
)


_LIST_EVENTS = """
import json, sys, tempfile
from meetings import create_app
from meetings.core.extensions import socketio
with tempfile.TemporaryDirectory() as tmp:
    create_app({"DATABASE_URL": f"sqlite:///{tmp}/x.sqlite3", "INSTANCE_PATH": tmp, "STORAGE_PATH": tmp,
                "SECRET_KEY": "x"})
    print(json.dumps(sorted(socketio.server.handlers.get("/", {}))))
"""


@functools.cache
def _event_names() -> list[str]:
    """Every event the server registers, from a fresh interpreter (Flask-SocketIO binds handlers to the
    first app's server only, so an app made later in this process would list none)."""
    out = subprocess.run([sys.executable, "-c", _LIST_EVENTS], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return [n for n in json.loads(out.strip().splitlines()[-1]) if n not in ("connect", "disconnect", "*")]


@pytest.fixture(scope="module")
def live(fuzz_app, database_url, tmp_path_factory):
    # The flood limit is another engineer's feature under test elsewhere: lifted here.
    server = start_socket_server(tmp_path_factory.mktemp("socket-fuzz"), database_url,
                                 env={"SOCKET_EVENT_RATE": "100000", "SOCKET_EVENT_BURST": "100000",
                                      "SOCKET_USER_EVENT_RATE": "100000", "SOCKET_USER_EVENT_BURST": "100000"})
    engine = make_engine(database_url)
    try:
        yield server, make_world(database_url), engine
    finally:
        server.stop()
        engine.dispose()


def _seq(engine, meeting_id: int) -> int:
    with Session(engine) as s:
        return s.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id)).scalar_one()


def test_every_event_is_registered_and_listed():
    names = _event_names()
    assert {"meeting.join", "vote.cast", "annotation.create", "presenter.set"} <= set(names), names


def test_malformed_payloads_to_every_event(fuzz_app, live):
    server, world, engine = live
    names = _event_names()
    client = SocketClient(server.url, world.tokens["chair"]).connect()
    failures: list[str] = []
    try:
        assert client.call("meeting.join", {"meeting_id": world.meeting_id})["ok"]
        for name in names:
            try:
                _fuzz_event(client, name, world.meeting_id, engine)
            except Exception as exc:  # noqa: BLE001 - report every event, then fail once
                failures.append(f"--- {name}:\n{exc}")
            # The connection is still usable after the batch.
            ack = client.call("meeting.join", {"meeting_id": world.meeting_id})
            assert ack["ok"], (name, ack)
    finally:
        client.disconnect()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    assert "Traceback" not in server.log(), server.log()[-3000:]
    assert not failures, "\n".join(failures)


def _fuzz_event(client: SocketClient, name: str, meeting_id: int, engine) -> None:
    @settings(max_examples=EXAMPLES_PER_EVENT, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(payload=payloads)
    def run(payload):
        before = _seq(engine, meeting_id)
        ack = client.call(name, payload)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert isinstance(ack.get("error"), dict), ack
            assert ack["error"].get("code") != "internal_error", ack
            assert _seq(engine, meeting_id) == before, f"refused {name} changed the meeting: {ack}"

    run()
