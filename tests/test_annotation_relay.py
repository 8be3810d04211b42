"""Shared strokes in flight (annotation.stroke_progress) over a real gunicorn + gevent server.

Relayed to the meeting's room while drawn, never stored: who receives them, who may send
them, the per-author rate limit, and that nothing reaches the database or the event log.
Every "not received" is read after a barrier: a stroke in flight sent after the one under
test through the same room's relay (which keeps order), or a client's own round trip.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from meetings.annotations import rules
from meetings.annotations.models import Annotation
from meetings.bodies.models import Meeting
from meetings.documents.service import add_document
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.models import MeetingEvent
from tests.annotation_helpers import PAGE_TEXTS, ink, pdf_with_lines
from tests.socket_helpers import SocketClient, db_session, make_world, start_socket_server

EVENT = "annotation.stroke_progress"


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return tmp_path_factory.mktemp("relay-storage")


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url, storage):
    handle = start_socket_server(tmp_path_factory.mktemp("relay-live"), database_url,
                                 env={"STORAGE_PATH": str(storage)})
    yield handle
    handle.stop()


def _world_with_doc(server, database_url, storage):
    w = make_world(database_url)
    w.url = server.url
    with db_session(database_url) as s:
        doc = add_document(s, s.get(Meeting, w.meeting_id), pdf_with_lines(PAGE_TEXTS), title="Tờ trình",
                           filename="to-trinh.pdf", uploaded_by_id=w.user_ids["secretary"], published=True,
                           storage_path=storage)
        s.info.pop(eventlog._PENDING, None)  # this test process has no socket server to announce it
        s.commit()
        w.document_id = doc.id
    return w


@pytest.fixture
def world(server, database_url, storage):
    return _world_with_doc(server, database_url, storage)


@pytest.fixture
def clients():
    made: list[SocketClient] = []

    def make(world, name: str, join: bool = True) -> SocketClient:
        c = SocketClient(world.url, world.tokens[name]).connect()
        made.append(c)
        if join:
            ack = c.call("meeting.join", {"meeting_id": world.meeting_id})
            assert ack["ok"] is True, ack
        return c

    yield make
    for c in made:
        c.disconnect()


def _progress(world, stroke_id: str | None = None, **over) -> dict:
    return {"meeting_id": world.meeting_id, "document_id": world.document_id, "page": 1,
            "stroke_id": stroke_id or str(uuid.uuid4()), "points": [[100, 400, 0.5], [101.5, 402, 0.6]],
            "color": "#d32f2f", "width": 2, "visibility": "meeting", **over}


def _strokes(client: SocketClient, stroke_id: str | None = None) -> list[dict]:
    """Every in-flight stroke item ``client`` ever received (of ``stroke_id`` only, if given)."""
    return [s for n, d in list(client.history) if n == EVENT for s in d["strokes"]
            if stroke_id is None or s["stroke_id"] == stroke_id]


def _barrier(world, by: SocketClient, *watchers: SocketClient) -> None:
    """A stroke in flight sent by ``by`` now: once each watcher has it, it has whatever the
    room's relay sent before it (one queue per room, one connection keeps order)."""
    sid = str(uuid.uuid4())
    assert by.call(EVENT, _progress(world, sid)) == {"ok": True}
    for w in watchers:
        w.wait_for(lambda n, d: n == EVENT and any(s["stroke_id"] == sid for s in d["strokes"]), "barrier stroke")


def _stored(database_url, meeting_id: int) -> tuple:
    with db_session(database_url) as s:
        return (s.get(Meeting, meeting_id).last_seq,
                s.execute(select(func.count()).select_from(MeetingEvent)
                          .where(MeetingEvent.meeting_id == meeting_id)).scalar_one(),
                s.execute(select(func.count()).select_from(Annotation)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_a_stroke_in_flight_reaches_the_room_only_and_is_never_stored(world, server, database_url, storage,
                                                                      clients):
    other = _world_with_doc(server, database_url, storage)
    drawer, d2, chair = clients(world, "delegate"), clients(world, "delegate2"), clients(world, "chair")
    observer = clients(world, "observer")
    outsider = clients(world, "outsider", join=False)
    elsewhere = clients(other, "delegate")  # in another meeting's room
    before = _stored(database_url, world.meeting_id)
    stroke = str(uuid.uuid4())
    assert drawer.call(EVENT, _progress(world, stroke)) == {"ok": True}
    drawer.sio.emit(EVENT, _progress(world, stroke, points=[[103, 404, 0.7]]))  # as a tablet sends it: no ack
    for c in (d2, chair, observer):
        c.wait_for(lambda n, d, c=c: n == EVENT and len(_strokes(c, stroke)) == 2, "both parts of the stroke")
        first, second = _strokes(c, stroke)
        assert first == {"stroke_id": stroke, "author_id": world.user_ids["delegate"],
                         "document_id": world.document_id, "page": 1, "points": [[100.0, 400.0, 0.5],
                                                                                 [101.5, 402.0, 0.6]],
                         "color": "#d32f2f", "width": 2.0, "visibility": "meeting"}
        assert second["points"] == [[103.0, 404.0, 0.7]]
    assert [d["meeting_id"] for n, d in d2.history if n == EVENT] == [world.meeting_id] * len(
        [1 for n, _ in d2.history if n == EVENT])
    # Once the room had it, the others' own round trips come after anything sent to them.
    for c in (outsider, elsewhere, drawer):
        c.round_trip()
    assert _strokes(outsider) == _strokes(elsewhere) == _strokes(drawer) == []  # nor back to its sender
    # No seq, no event, no annotation, no audit entry.
    assert _stored(database_url, world.meeting_id) == before
    # The finished stroke is stored once, as any annotation, with the stroke's id; it alone is
    # in the log a late joiner catches up from.
    ack = drawer.call("annotation.create", {**ink(visibility="meeting"), "id": stroke,
                                            "document_id": world.document_id})
    assert ack["ok"] and ack["annotation"]["id"] == stroke, ack
    d2.wait_for(lambda n, d: n == "event" and d["data"].get("annotation", {}).get("id") == stroke, "finished stroke")
    late = clients(world, "delegate2", join=False)
    caught_up = late.call("meeting.join", {"meeting_id": world.meeting_id, "last_seq": before[0]})
    assert [e["type"] for e in caught_up["events"]] == ["annotation.created"], caught_up
    assert _stored(database_url, world.meeting_id)[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_private_and_chosen_strokes_are_never_relayed(world, clients):
    drawer, d2 = clients(world, "delegate"), clients(world, "delegate2")
    private, chosen = str(uuid.uuid4()), str(uuid.uuid4())
    acks = [drawer.call(EVENT, _progress(world, sid, visibility=visibility))
            for sid, visibility in ((private, "private"), (chosen, "participants"))]
    _barrier(world, drawer, d2)
    assert _strokes(d2, private) == _strokes(d2, chosen) == []
    assert [a["error"]["code"] for a in acks] == ["not_shared", "not_shared"], acks


def test_forged_strokes_are_refused_and_not_relayed(world, server, database_url, storage, clients):
    other = _world_with_doc(server, database_url, storage)
    drawer, d2 = clients(world, "delegate"), clients(world, "delegate2")
    admin = clients(world, "admin")  # may see every meeting: only the document's own meeting counts
    outsider = clients(world, "outsider", join=False)
    not_joined = clients(world, "observer", join=False)
    big = [[1.0, 2.0, 0.5]] * (rules.MAX_PROGRESS_POINTS + 1)
    cases = [
        (drawer, _progress(world, meeting_id=other.meeting_id), "not_joined"),  # another meeting's room
        (drawer, _progress(world, document_id=other.document_id), "not_found"),  # another meeting's document
        (admin, _progress(world, document_id=other.document_id), "not_found"),
        (outsider, _progress(world), "not_joined"),
        (not_joined, _progress(world), "not_joined"),
        (drawer, _progress(world, visibility="presenter"), "forbidden"),  # not the item's presenter
        (drawer, _progress(world, points=big), "too_many_points"),
        (drawer, _progress(world, points=[[1.0, 2.0, 0.5]] * 5000), "too_large"),  # over 64 KiB
        (drawer, _progress(world, points=[[1e9, 2.0]]), "invalid_geometry"),
        (drawer, _progress(world, points=[]), "invalid_geometry"),
        (drawer, _progress(world, page=99), "invalid_page"),
        (drawer, _progress(world, color="red"), "invalid_color"),
        (drawer, _progress(world, stroke_id="not-a-uuid"), "invalid_id"),
        (drawer, _progress(world, meeting_id="1"), "invalid"),
        (drawer, {"meeting_id": world.meeting_id}, "invalid"),
        (drawer, ["not", "an", "object"], "invalid"),
    ]
    acks = [client.call(EVENT, payload) for client, payload, _ in cases]
    ids = {p.get("stroke_id") for _, p, _ in cases if isinstance(p, dict)}
    _barrier(world, drawer, d2, admin)
    for c in (d2, admin):
        assert [s for s in _strokes(c) if s["stroke_id"] in ids] == []
    assert [a.get("error", {}).get("code") for a in acks] == [code for _, _, code in cases], acks


def test_over_rate_strokes_are_dropped_quietly(world, clients):
    drawer, d2 = clients(world, "delegate"), clients(world, "delegate2")
    chair = clients(world, "chair")
    stroke = str(uuid.uuid4())
    assert drawer.call(EVENT, _progress(world, stroke, points=[[0, 0]])) == {"ok": True}  # permission remembered
    sent = 3 * rules.PROGRESS_BURST
    for i in range(1, sent + 1):
        drawer.sio.emit(EVENT, _progress(world, stroke, points=[[float(i), 0.0]]))
    # Handled after the flood on the same socket: the bucket is empty, and asked, it says so.
    ack = drawer.call(EVENT, _progress(world, stroke, points=[[9999.0, 0.0]]))
    assert ack["ok"] is False and ack["error"]["code"] == "rate_limited", ack
    _barrier(world, chair, d2)  # another author's stroke, queued after whatever of the flood passed
    got = [p[0] for s in _strokes(d2, stroke) for p in s["points"]]
    assert got[0] == 0.0 and 9999.0 not in got
    flood = got[1:]
    assert flood == sorted(flood)  # in order, with the over-rate ones missing
    # The burst, plus what refilled while the flood was read: far fewer than sent.
    assert rules.PROGRESS_BURST // 2 <= len(flood) < sent - rules.PROGRESS_BURST // 2, len(flood)
