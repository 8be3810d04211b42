"""Authorization of every Socket.IO event, over one real server with real python-socketio clients.

``test_every_event_has_a_case`` lists the events registered on the server
(``socketio.server.handlers["/"]`` after ``create_app``) and fails for any
event without a case in CASES. Each case names the callers that must be
refused (an outsider always; a delegate for manager-only events) with the
error codes they may get, checks that a refusal changed nothing (row counts of
every table, the meeting's seq), and then shows that the allowed caller
succeeds with the same payload — so a refusal is about who asks, not about
a bad payload.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import func, select

from meetings.bodies.models import Meeting
from meetings.models import Base
from tests.annotation_helpers import note, pdf_with_lines
from tests.socket_helpers import (
    LiveWorld,
    SocketClient,
    assert_not_received,
    db_session,
    make_world,
    start_socket_server,
)

DENIED = ("forbidden", "not_found")


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("socket-authz"), database_url)
    yield handle
    handle.stop()


@dataclass
class Ctx:
    """One test's world, its open clients and what the setup made (ids)."""

    world: LiveWorld
    database_url: str
    clients: dict[str, SocketClient] = field(default_factory=dict)
    made: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> SocketClient:
        if name not in self.clients:
            self.clients[name] = SocketClient(self.world.url, self.world.tokens[name]).connect()
        return self.clients[name]

    def call(self, name: str, event: str, payload: dict) -> dict:
        return self.client(name).call(event, payload)

    def rest(self, name: str, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.world.url + "/api/v1" + path, timeout=30,
                                headers={"Authorization": f"Bearer {self.world.tokens[name]}"}, **kwargs)

    @property
    def mid(self) -> int:
        return self.world.meeting_id

    def uid(self, name: str) -> int:
        return self.world.user_ids[name]


def _ok(ack: dict, what: str) -> dict:
    assert ack.get("ok") is True, f"{what}: {ack}"
    return ack


# ------------------------------------------------------------------ what some cases need first

def _speaker_request(ctx: Ctx) -> None:
    ack = _ok(ctx.call("delegate", "speaker.request", {"meeting_id": ctx.mid}), "speaker.request")
    ctx.made["request_id"] = ack["request"]["id"]


def _current_speaker(ctx: Ctx) -> None:
    _speaker_request(ctx)
    _ok(ctx.call("chair", "speaker.call", {"meeting_id": ctx.mid, "request_id": ctx.made["request_id"]}),
        "speaker.call")


def _open_item(ctx: Ctx) -> None:
    _ok(ctx.call("chair", "item.open", {"meeting_id": ctx.mid, "agenda_item_id": ctx.world.item_ids[0]}),
        "item.open")


def _document(ctx: Ctx) -> None:
    r = ctx.rest("secretary", "POST", f"/meetings/{ctx.mid}/documents",
                 files={"file": ("du-thao.pdf", pdf_with_lines([["Dự thảo nghị quyết"]]), "application/pdf")},
                 data={"published": "true", "title": "Dự thảo"})
    assert r.status_code == 201, r.text
    ctx.made["document_id"] = r.json()["id"]


def _shared_annotation(ctx: Ctx) -> None:
    _document(ctx)
    r = ctx.rest("delegate", "POST", f"/documents/{ctx.made['document_id']}/annotations",
                 json=note(text="Ghi chú dùng chung", visibility="meeting"))
    assert r.status_code == 201, r.text
    ctx.made["annotation_id"] = r.json()["id"]


def _drawing(ctx: Ctx) -> None:
    _document(ctx)
    _ok(ctx.call("delegate", "meeting.join", {"meeting_id": ctx.mid}), "meeting.join")  # strokes go to the room


def _open_poll(ctx: Ctx) -> None:
    r = ctx.rest("chair", "POST", f"/meetings/{ctx.mid}/polls", json={"title": "Thông qua tờ trình"})
    assert r.status_code == 201, r.text
    poll = ctx.rest("chair", "POST", f"/polls/{r.json()['id']}/open").json()
    ctx.made["poll_id"] = poll["id"]
    ctx.made["for_option"] = next(o["id"] for o in poll["options"] if o["role"] == "for")


@dataclass(frozen=True)
class Case:
    payload: Callable[[Ctx], dict]
    refused: dict[str, tuple[str, ...]]       # caller → the error codes a refusal may carry
    allowed: str | None                       # who then succeeds with the same payload
    setup: Callable[[Ctx], None] | None = None


OUTSIDER = {"outsider": DENIED}
MANAGER_ONLY = {"outsider": DENIED, "delegate": ("forbidden",), "observer": ("forbidden",)}


def _meeting(ctx: Ctx) -> dict:
    return {"meeting_id": ctx.mid}


CASES: dict[str, Case] = {
    "meeting.join": Case(_meeting, OUTSIDER, "observer"),
    # Leaving touches only the caller's own socket: an outsider's leave is answered and changes nothing.
    "meeting.leave": Case(_meeting, {}, "outsider"),
    # delegate is the designated presenter of item 2 in make_world, so delegate2 stands for "a delegate".
    "presenter.set": Case(lambda c: {"meeting_id": c.mid, "page": 2},
                          {"outsider": DENIED, "delegate2": ("forbidden",), "observer": ("forbidden",)}, "chair"),
    "item.open": Case(lambda c: {"meeting_id": c.mid, "agenda_item_id": c.world.item_ids[0]}, MANAGER_ONLY, "chair"),
    "item.close": Case(lambda c: {"meeting_id": c.mid, "agenda_item_id": c.world.item_ids[0]}, MANAGER_ONLY,
                       "chair", _open_item),
    "attendance.mark": Case(lambda c: {"meeting_id": c.mid, "user_id": c.uid("delegate2"), "status": "present"},
                            MANAGER_ONLY, "secretary"),
    "speaker.request": Case(_meeting, {"outsider": DENIED, "observer": ("forbidden",)}, "delegate2"),
    "speaker.withdraw": Case(lambda c: {"meeting_id": c.mid, "request_id": c.made["request_id"]},
                             {"outsider": DENIED, "delegate2": DENIED, "observer": DENIED}, "delegate",
                             _speaker_request),
    "speaker.call": Case(lambda c: {"meeting_id": c.mid, "request_id": c.made["request_id"]}, MANAGER_ONLY,
                         "chair", _speaker_request),
    # The speaker may end their own speech; another delegate may not.
    "speaker.end": Case(_meeting, {"outsider": DENIED, "delegate2": ("forbidden",), "observer": ("forbidden",)},
                        "chair", _current_speaker),
    "speaker.skip": Case(lambda c: {"meeting_id": c.mid, "request_id": c.made["request_id"]}, MANAGER_ONLY,
                         "secretary", _speaker_request),
    "speaker.reorder": Case(lambda c: {"meeting_id": c.mid, "order": [c.made["request_id"]]}, MANAGER_ONLY,
                            "chair", _speaker_request),
    "annotation.create": Case(lambda c: {"document_id": c.made["document_id"], **note(text="Ý kiến riêng")},
                              OUTSIDER, "delegate", _document),
    "annotation.update": Case(lambda c: {"id": c.made["annotation_id"], "version": 1, "text": "Đã sửa"},
                              {"outsider": DENIED, "delegate2": ("forbidden",), "chair": ("forbidden",)},
                              "delegate", _shared_annotation),
    "annotation.delete": Case(lambda c: {"id": c.made["annotation_id"]},
                              {"outsider": DENIED, "delegate2": ("forbidden",), "chair": ("forbidden",)},
                              "delegate", _shared_annotation),
    # Volatile (relayed, never stored): the room's members only; tests/test_annotation_relay.py has the rest.
    "annotation.stroke_progress": Case(
        lambda c: {"meeting_id": c.mid, "document_id": c.made["document_id"], "page": 1,
                   "stroke_id": str(uuid.uuid4()), "points": [[10, 20, 0.5]]},
        {"outsider": ("not_joined",)}, "delegate", _drawing),
    "vote.cast": Case(lambda c: {"poll_id": c.made["poll_id"], "option_ids": [c.made["for_option"]]},
                      {"outsider": DENIED, "observer": ("forbidden", "not_entitled"),
                       "admin": ("forbidden", "not_entitled", "not_found")}, "delegate", _open_poll),
}
# Handlers that are not events a client sends with a payload; each has its own test below.
CONNECTION_HANDLERS = {"connect": "test_connect_refuses_unauthenticated_sockets",
                       "disconnect": "test_disconnect_of_an_outsider_changes_nothing"}


def _state(database_url: str, meeting_id: int) -> tuple:
    """Row counts of every table and the meeting's seq and status: what a refusal must not change."""
    with db_session(database_url) as s:
        counts = tuple(s.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables)
        meeting = s.get(Meeting, meeting_id)
        return counts, meeting.last_seq, meeting.status


@pytest.fixture
def ctx(server, database_url):
    world = make_world(database_url)
    world.url = server.url
    context = Ctx(world, database_url)
    yield context
    for c in context.clients.values():
        c.disconnect()


def test_every_event_has_a_case(app):
    from meetings.core.extensions import socketio as sio

    registered = set(sio.server.handlers["/"])
    missing = registered - set(CASES) - set(CONNECTION_HANDLERS)
    assert not missing, f"socket events without an authorization case: {sorted(missing)}"
    assert not (set(CASES) | set(CONNECTION_HANDLERS)) - registered, "cases for events that no longer exist"
    for name in CONNECTION_HANDLERS.values():
        assert name in globals()


@pytest.mark.parametrize("event", sorted(CASES))
def test_event_refuses_the_wrong_callers(event: str, ctx: Ctx):
    case = CASES[event]
    if case.setup:
        case.setup(ctx)
    payload = case.payload(ctx)
    for name in {*case.refused, case.allowed} - {None}:
        ctx.client(name)  # connected (and counted) before the refusals
    before = _state(ctx.database_url, ctx.mid)
    for caller, codes in case.refused.items():
        ack = ctx.call(caller, event, payload)
        assert ack.get("ok") is False and ack["error"]["code"] in codes, f"{event} by {caller}: {ack}"
        assert _state(ctx.database_url, ctx.mid) == before, f"{event} refused to {caller} changed something"
    if event == "meeting.leave":  # answered, but nothing to change
        _ok(ctx.call(case.allowed, event, payload), event)
        assert _state(ctx.database_url, ctx.mid) == before
        return
    _ok(ctx.call(case.allowed, event, payload), f"{event} by {case.allowed}")


def test_outsider_gets_nothing_from_other_meetings(ctx: Ctx):
    """A refused join puts the outsider in no room: the meeting's events do not reach them."""
    outsider = ctx.client("outsider")
    assert outsider.call("meeting.join", {"meeting_id": ctx.mid})["ok"] is False
    chair = ctx.client("chair")
    _ok(chair.call("meeting.join", {"meeting_id": ctx.mid}), "join")
    _ok(chair.call("item.open", {"meeting_id": ctx.mid, "agenda_item_id": ctx.world.item_ids[0]}), "item.open")
    chair.next_event("event")  # the broadcast went out
    assert_not_received(outsider, lambda name, _data: name == "event", what="a meeting event to an outsider")


@pytest.mark.parametrize("auth", [None, {"token": "not-a-token"}, {"token": ""}, "token", {"token": 5}])
def test_connect_refuses_unauthenticated_sockets(server, auth):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=15)
    assert not client.connected


def test_connect_refuses_a_revoked_token(ctx: Ctx):
    token = ctx.world.tokens["delegate"]
    assert ctx.rest("delegate", "DELETE", "/auth/token").status_code == 204
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(ctx.world.url, auth={"token": token}, transports=["websocket"], wait_timeout=15)


def test_disconnect_of_an_outsider_changes_nothing(ctx: Ctx):
    outsider = ctx.client("outsider")
    assert outsider.call("meeting.join", {"meeting_id": ctx.mid})["ok"] is False
    _ok(ctx.call("delegate", "meeting.join", {"meeting_id": ctx.mid}), "join")
    before = _state(ctx.database_url, ctx.mid)
    outsider.disconnect()
    # A round trip after it: the server has handled the disconnect by the time it answers another event.
    _ok(ctx.call("delegate", "meeting.leave", {"meeting_id": 2**31 - 1}), "leave")
    assert _state(ctx.database_url, ctx.mid) == before


def test_a_meeting_id_of_the_wrong_type_is_refused(ctx: Ctx):
    for bad in ("1", 1.5, True, None, [ctx.mid], {"id": ctx.mid}, -1, 2**40, str(uuid.uuid4())):
        ack = ctx.call("chair", "item.open", {"meeting_id": bad, "agenda_item_id": ctx.world.item_ids[0]})
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", (bad, ack)
