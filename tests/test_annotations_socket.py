"""Annotations over a real gunicorn + gevent server and real python-socketio clients.

The privacy matrix on the wire: each change reaches exactly those who may see
it; a private annotation reaches only its author's devices (tablet and laptop).
"""
from __future__ import annotations

import json
import uuid

import pytest
import socketio
from sqlalchemy import func, select

from meetings.annotations.models import Annotation
from meetings.bodies.models import Meeting
from meetings.documents.service import add_document
from meetings.platform.realtime import eventlog
from tests.annotation_helpers import PAGE_TEXTS, arrow, ink, note, pdf_with_lines, rect
from tests.socket_helpers import WAIT_SECONDS, SocketClient, db_session, make_world, start_socket_server


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return tmp_path_factory.mktemp("annot-storage")


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url, storage):
    handle = start_socket_server(tmp_path_factory.mktemp("annot-live"), database_url,
                                 env={"STORAGE_PATH": str(storage)})
    yield handle
    handle.stop()


def _world_with_doc(server, database_url, storage):
    w = make_world(database_url)
    w.url = server.url
    with db_session(database_url) as s:
        meeting = s.get(Meeting, w.meeting_id)
        doc = add_document(s, meeting, pdf_with_lines(PAGE_TEXTS), title="Tờ trình", filename="to-trinh.pdf",
                           uploaded_by_id=w.user_ids["secretary"], published=True, storage_path=storage)
        s.info.pop(eventlog._PENDING, None)  # this test process has no socket server to announce it
        s.commit()
        w.document_id = doc.id
    return w


@pytest.fixture
def world(server, database_url, storage):
    return _world_with_doc(server, database_url, storage)


class Recorder(SocketClient):
    """Reads every event it ever received (``history``), so nothing is consumed while waiting.

    What it reads counts only after a barrier (``_barrier``, or ``round_trip`` for a client in
    no room): before it, an event on its way would simply not be there yet.
    """

    def pump(self) -> list[tuple[str, object]]:
        return list(self.history)

    def mentions(self, annotation_id: str) -> list[str]:
        return [name for name, data in self.pump() if annotation_id in json.dumps(data, default=str)]


def _joined(world, name: str) -> Recorder:
    client = Recorder(world.url, world.tokens[name]).connect()
    ack = client.call("meeting.join", {"meeting_id": world.meeting_id})
    assert ack["ok"] is True, ack
    return client


def _barrier(world, chair: Recorder, everyone: list[Recorder]) -> None:
    """A meeting-wide event after the changes under test: once each client has it, it has
    everything sent to it before (Socket.IO keeps order on one connection)."""
    mark = ink(visibility="presenter")
    ack = chair.call("annotation.create", {**mark, "document_id": world.document_id})
    assert ack["ok"], ack
    for c in everyone:
        c.wait_for(lambda n, d: n == "event" and d["data"].get("annotation", {}).get("id") == mark["id"], "barrier")


def _create(client: Recorder, world, body: dict) -> dict:
    return client.call("annotation.create", {**body, "document_id": world.document_id})


def test_each_change_reaches_exactly_its_audience(world):
    tablet, laptop = _joined(world, "delegate"), _joined(world, "delegate")
    d2, chair, observer = _joined(world, "delegate2"), _joined(world, "chair"), _joined(world, "observer")
    outsider = Recorder(world.url, world.tokens["outsider"]).connect()
    assert outsider.call("meeting.join", {"meeting_id": world.meeting_id})["ok"] is False
    try:
        private = note(text="Ghi chú riêng tư của tôi")
        chosen = rect(visibility="participants", shared_with=[world.user_ids["delegate2"]])
        shared = arrow(visibility="meeting")
        for body in (private, chosen, shared):
            ack = _create(tablet, world, body)
            assert ack["ok"] and ack["created"] is True and ack["annotation"]["id"] == body["id"], ack
        everyone = [tablet, laptop, d2, chair, observer]
        _barrier(world, chair, everyone)
        outsider.round_trip()  # in no room: its own answer is its barrier
        # The author's other device is in step; nobody else heard of the private note at all.
        assert laptop.mentions(private["id"]) == ["annotation.created"]
        for c in (d2, chair, observer, outsider):
            assert c.mentions(private["id"]) == []
            assert "Ghi chú riêng tư" not in json.dumps(c.pump(), ensure_ascii=False)
        assert laptop.mentions(chosen["id"]) == ["annotation.created"]
        assert d2.mentions(chosen["id"]) == ["annotation.created"]
        assert chair.mentions(chosen["id"]) == observer.mentions(chosen["id"]) == []
        for c in (laptop, d2, chair, observer):
            assert c.mentions(shared["id"]) == ["event"]
        assert outsider.mentions(shared["id"]) == []
        # Updates and deletions follow the same rule.
        assert laptop.call("annotation.update", {"id": private["id"], "version": 1, "text": "Đã sửa"})["ok"]
        assert tablet.call("annotation.delete", {"id": chosen["id"]})["ok"]
        _barrier(world, chair, everyone)
        assert tablet.mentions(private["id"]) == ["annotation.created", "annotation.updated"]
        assert d2.mentions(private["id"]) == chair.mentions(private["id"]) == []
        assert d2.mentions(chosen["id"]) == ["annotation.created", "annotation.deleted"]
        assert observer.mentions(chosen["id"]) == []
    finally:
        for c in (tablet, laptop, d2, chair, observer, outsider):
            c.disconnect()


def test_conflict_and_threefold_replay_over_the_socket(world, database_url):
    tablet, laptop, d2 = _joined(world, "delegate"), _joined(world, "delegate"), _joined(world, "delegate2")
    chair = _joined(world, "chair")
    try:
        body = ink(visibility="meeting")
        acks = [_create(tablet, world, body) for _ in range(3)]
        assert [a["ok"] for a in acks] == [True] * 3
        assert [a["created"] for a in acks] == [True, False, False]
        change = {"id": body["id"], "version": 1, "color": "#0a0b0c"}
        acks = [tablet.call("annotation.update", change) for _ in range(3)]
        assert [(a["ok"], a["annotation"]["version"]) for a in acks] == [(True, 2)] * 3
        stale = laptop.call("annotation.update", {"id": body["id"], "version": 1, "color": "#ffffff"})
        assert stale["ok"] is False and stale["error"]["code"] == "version_conflict"
        assert stale["error"]["details"]["current"]["color"] == "#0a0b0c"
        _barrier(world, chair, [tablet, laptop, d2, chair])
        assert d2.mentions(body["id"]) == ["event", "event"]  # one create, one update: not six
        with db_session(database_url) as s:
            ann = s.get(Annotation, body["id"])
            assert (ann.version, ann.color) == (2, "#0a0b0c")
    finally:
        for c in (tablet, laptop, d2, chair):
            c.disconnect()


def test_forged_and_malformed_events_change_nothing(world, server, database_url, storage):
    other = _world_with_doc(server, database_url, storage)  # a meeting this delegate is not in
    d1, d2 = _joined(world, "delegate"), _joined(world, "delegate2")
    outsider = Recorder(world.url, world.tokens["outsider"]).connect()
    try:
        mine = note(text="riêng")
        shared = ink(visibility="meeting")
        assert _create(d1, world, mine)["ok"] and _create(d1, world, shared)["ok"]
        with db_session(database_url) as s:
            before = s.execute(select(func.count()).select_from(Annotation)).scalar_one()
        cases = [
            (d2, "annotation.update", {"id": mine["id"], "version": 1, "text": "giả mạo"}, "not_found"),
            (d2, "annotation.delete", {"id": mine["id"]}, "not_found"),
            (d2, "annotation.update", {"id": shared["id"], "version": 1, "color": "#000000"}, "forbidden"),
            (d2, "annotation.delete", {"id": shared["id"]}, "forbidden"),
            (d2, "annotation.create", {**mine, "document_id": world.document_id}, "id_taken"),
            (outsider, "annotation.create", {**ink(), "document_id": world.document_id}, "not_found"),
            (d1, "annotation.create", {**ink(), "document_id": other.document_id}, "not_found"),
            (d1, "annotation.create", {**ink(), "document_id": "1"}, "invalid"),
            (d1, "annotation.create", {**ink(page=0), "document_id": world.document_id}, "invalid_page"),
            (d1, "annotation.create", {"document_id": world.document_id}, "invalid"),
            (d1, "annotation.create", ["not", "an", "object"], "invalid"),
            (d1, "annotation.update", {"id": str(uuid.uuid4()), "version": 1}, "not_found"),
            (d1, "annotation.update", {"id": mine["id"], "version": "1"}, "invalid"),
            (d1, "annotation.delete", {}, "invalid"),
        ]
        for client, event, payload, code in cases:
            ack = client.call(event, payload)
            assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
        with db_session(database_url) as s:
            assert s.execute(select(func.count()).select_from(Annotation)).scalar_one() == before
            assert s.get(Annotation, mine["id"]).text == "riêng"
    finally:
        for c in (d1, d2, outsider):
            c.disconnect()


def test_unauthenticated_sockets_are_refused(world):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(world.url, auth={"token": "forged"}, transports=["websocket"], wait_timeout=WAIT_SECONDS)
