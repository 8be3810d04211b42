"""The live room over a real gunicorn + gevent server and real python-socketio clients."""
from __future__ import annotations

import pytest
import socketio
from sqlalchemy import func, select

from meetings.bodies.models import AgendaItem, Meeting
from meetings.live.models import Attendance, LiveState, SpeakerRequest
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.socket_helpers import (
    SocketClient,
    assert_not_received,
    connect,
    db_session,
    make_world,
    start_socket_server,
    wait_until,
)

CATCHUP_LIMIT = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("live"), database_url,
                                 env={"EVENT_CATCHUP_LIMIT": str(CATCHUP_LIMIT)})
    yield handle
    handle.stop()


@pytest.fixture
def world(server, database_url):
    w = make_world(database_url)
    w.url = server.url
    return w


def joined(world, name: str, last_seq: int | None = None) -> tuple[SocketClient, dict]:
    client = SocketClient(world.url, world.tokens[name]).connect()
    payload = {"meeting_id": world.meeting_id}
    if last_seq is not None:
        payload["last_seq"] = last_seq
    ack = client.call("meeting.join", payload)
    assert ack["ok"] is True, ack
    return client, ack


def counts(database_url, meeting_id: int) -> tuple:
    """Everything a refused event must leave untouched."""
    with db_session(database_url) as s:
        return (
            s.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id)).scalar_one(),
            s.execute(select(func.count()).select_from(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id))
            .scalar_one(),
            s.execute(select(func.count()).select_from(Attendance).where(Attendance.meeting_id == meeting_id))
            .scalar_one(),
            s.execute(select(func.count()).select_from(SpeakerRequest)
                      .where(SpeakerRequest.meeting_id == meeting_id)).scalar_one(),
            s.execute(select(LiveState.page, LiveState.agenda_item_id).where(LiveState.meeting_id == meeting_id))
            .first(),
            tuple(s.execute(select(AgendaItem.status).where(AgendaItem.meeting_id == meeting_id)
                            .order_by(AgendaItem.id)).scalars()),
            s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.meeting_id == meeting_id))
            .scalar_one(),
        )


# ----------------------------------------------------------------------------- connecting and joining

def test_connection_needs_a_valid_token(world):
    for token in (None, "not-a-token", ""):
        with pytest.raises(socketio.exceptions.ConnectionError):
            SocketClient(world.url, token).connect()
    with connect(world.url, world.tokens["delegate"]) as ok:
        assert ok.sio.connected


def test_outsider_cannot_join_and_unknown_meeting_is_404(world, database_url):
    before = counts(database_url, world.meeting_id)
    with connect(world.url, world.tokens["outsider"]) as outsider:
        ack = outsider.call("meeting.join", {"meeting_id": world.meeting_id})
        assert ack == {"ok": False, "error": {"code": "forbidden", "message": ack["error"]["message"]}}
        assert outsider.call("meeting.join", {"meeting_id": 999_999})["error"]["code"] == "not_found"
        # Not in the room: a page turn must not reach the outsider.
        chair, _ = joined(world, "chair")
        assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": 3})["ok"]
        chair.disconnect()
        with connect(world.url, world.tokens["delegate"]) as probe:
            wait_until(lambda: probe.call("meeting.join", {"meeting_id": world.meeting_id})["seq"] == 1, "page turn")
        assert_not_received(outsider, lambda name, _data: name == "event", what="a meeting event to an outsider")
    assert counts(database_url, world.meeting_id)[0] == before[0] + 1


def test_draft_meeting_is_closed_to_delegates(server, database_url):
    w = make_world(database_url, status="draft")
    w.url = server.url
    with connect(w.url, w.tokens["delegate"]) as delegate:
        assert delegate.call("meeting.join", {"meeting_id": w.meeting_id})["error"]["code"] == "forbidden"
    with connect(w.url, w.tokens["secretary"]) as secretary:
        ack = secretary.call("meeting.join", {"meeting_id": w.meeting_id})
        assert ack["ok"] and ack["snapshot"]["meeting"]["status"] == "draft"
        # Preparing is not running: the live room stays shut until the meeting is scheduled.
        r = secretary.call("presenter.set", {"meeting_id": w.meeting_id, "page": 2})
        assert r["error"]["code"] == "meeting_not_live"


def test_late_joiner_gets_the_current_state_at_once(world):
    chair, first = joined(world, "chair")
    assert first["seq"] == 0 and first["snapshot"]["presenter"]["page"] == 1
    assert chair.call("item.open", {"meeting_id": world.meeting_id, "agenda_item_id": world.item_ids[1]})["ok"]
    assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": 7, "zoom": 1.5})["ok"]
    assert chair.call("attendance.mark", {"meeting_id": world.meeting_id, "user_id": world.user_ids["delegate"],
                                          "status": "present"})["ok"]
    delegate, ack = joined(world, "delegate")
    snap = ack["snapshot"]
    assert ack["seq"] == snap["seq"] == 3
    assert snap["presenter"] == {"agenda_item_id": world.item_ids[1], "document_id": None, "page": 7, "zoom": 1.5,
                                 "presenter_id": world.user_ids["delegate"]}
    assert [i["status"] for i in snap["agenda"]] == ["pending", "open", "pending"]
    assert snap["meeting"]["title"] == "Kỳ họp thứ Mười: phiên toàn thể"
    me = next(a for a in snap["attendance"] if a["user_id"] == world.user_ids["delegate"])
    assert me["status"] == "present" and me["arrived_at"] and me["full_name"].endswith("Nguyễn Thị Hằng")
    assert me["arrived_at"].endswith("+00:00")  # ISO 8601 in UTC, as read back from the database
    assert snap["meeting"]["starts_at"].endswith("+00:00")
    # Members are the voting participants: secretary, chair, delegate, delegate2 (not the observer).
    assert snap["quorum"] == {"members": 4, "present": 1, "required": 3, "met": False, "rule": [2, 3]}
    assert snap["speakers"] == {"current": None, "waiting": []}
    assert "online" not in snap  # presence is for the chair and the secretariat
    assert any(o["user_id"] == world.user_ids["chair"] for o in chair.call(
        "meeting.join", {"meeting_id": world.meeting_id})["snapshot"]["online"])
    chair.disconnect()
    delegate.disconnect()


# ----------------------------------------------------------------------------- presenter

def test_page_turn_reaches_every_participant_in_seq_order(world):
    chair, _ = joined(world, "chair")
    d1, _ = joined(world, "delegate")
    d2, _ = joined(world, "observer")
    for page in (2, 3, 4):
        ack = chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": page})
        assert ack == {"ok": True, "changed": {"page": page}}
    for client in (d1, d2, chair):
        got = [client.next_event() for _ in range(3)]
        assert [(e["seq"], e["type"], e["data"]) for e in got] == [
            (1, "presenter.changed", {"page": 2}), (2, "presenter.changed", {"page": 3}),
            (3, "presenter.changed", {"page": 4})]
        assert got[0]["actor_id"] == world.user_ids["chair"]
    # The same page again changes nothing and logs nothing.
    assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": 4}) == {"ok": True, "changed": {}}
    for c in (chair, d1, d2):
        c.disconnect()


def test_designated_presenter_moves_pages_but_not_items(world, database_url):
    chair, _ = joined(world, "chair")
    presenter, _ = joined(world, "delegate")  # item 2's presenter
    other, _ = joined(world, "delegate2")
    mid = world.meeting_id
    assert presenter.call("presenter.set", {"meeting_id": mid, "page": 2})["error"]["code"] == "forbidden"
    ack = chair.call("item.open", {"meeting_id": mid, "agenda_item_id": world.item_ids[1]})
    assert ack["ok"] and ack["presenter"]["presenter_id"] == world.user_ids["delegate"]
    assert presenter.call("presenter.set", {"meeting_id": mid, "page": 2})["ok"]
    assert other.next_event(predicate=lambda e: e["type"] == "presenter.changed")["data"] == {"page": 2}
    before = counts(database_url, mid)
    assert presenter.call("presenter.set", {"meeting_id": mid, "agenda_item_id": world.item_ids[0]}
                          )["error"]["code"] == "forbidden"
    assert presenter.call("item.open", {"meeting_id": mid, "agenda_item_id": world.item_ids[2]}
                          )["error"]["code"] == "forbidden"
    assert other.call("presenter.set", {"meeting_id": mid, "page": 9})["error"]["code"] == "forbidden"
    assert counts(database_url, mid) == before
    # Opening the next item closes the previous one.
    ack = chair.call("item.open", {"meeting_id": mid, "agenda_item_id": world.item_ids[2]})
    assert ack["done_item_ids"] == [world.item_ids[1]]
    assert counts(database_url, mid)[5] == ("pending", "done", "open")
    assert presenter.call("presenter.set", {"meeting_id": mid, "page": 3})["error"]["code"] == "forbidden"
    for c in (chair, presenter, other):
        c.disconnect()


# ----------------------------------------------------------------------------- authorization and bad input

def test_delegate_cannot_run_the_meeting(world, database_url):
    chair, _ = joined(world, "chair")
    d2, _ = joined(world, "delegate2")
    asked = d2.call("speaker.request", {"meeting_id": world.meeting_id, "kind": "speech"})
    delegate, _ = joined(world, "delegate")
    mid, rid = world.meeting_id, asked["request"]["id"]
    before = counts(database_url, mid)
    forbidden = [
        ("speaker.call", {"meeting_id": mid, "request_id": rid}),
        ("speaker.skip", {"meeting_id": mid, "request_id": rid}),
        ("speaker.withdraw", {"meeting_id": mid, "request_id": rid}),  # someone else's request
        ("speaker.reorder", {"meeting_id": mid, "order": [rid]}),
        ("presenter.set", {"meeting_id": mid, "page": 5}),
        ("presenter.set", {"meeting_id": mid, "presenter_id": world.user_ids["delegate"]}),
        ("attendance.mark", {"meeting_id": mid, "user_id": world.user_ids["delegate"], "status": "present"}),
        ("item.open", {"meeting_id": mid, "agenda_item_id": world.item_ids[0]}),
        ("item.close", {"meeting_id": mid, "agenda_item_id": world.item_ids[0]}),
    ]
    for event, payload in forbidden:
        ack = delegate.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (event, ack)
    assert counts(database_url, mid) == before
    # Acting on another meeting through this one's ids is refused too.
    other = make_world(database_url)
    with connect(world.url, other.tokens["chair"]) as foreign_chair:
        ack = foreign_chair.call("speaker.call", {"meeting_id": other.meeting_id, "request_id": rid})
        assert ack["error"]["code"] == "not_found"
        ack = foreign_chair.call("speaker.call", {"meeting_id": mid, "request_id": rid})
        assert ack["error"]["code"] == "forbidden"
    assert counts(database_url, mid) == before
    assert delegate.call("speaker.request", {"meeting_id": mid})["ok"]  # the connection is still usable
    for c in (chair, d2, delegate):
        c.disconnect()


BAD_PAYLOADS = [
    ("meeting.join", None, "invalid"),
    ("meeting.join", [1, 2], "invalid"),
    ("meeting.join", "meeting 1", "invalid"),
    ("meeting.join", {"meeting_id": "1"}, "invalid"),
    ("meeting.join", {"meeting_id": True}, "invalid"),
    ("meeting.join", {"meeting_id": 1.5}, "invalid"),
    ("meeting.join", {"meeting_id": -3}, "invalid"),
    ("meeting.join", {"meeting_id": 1, "last_seq": -1}, "invalid"),
    ("meeting.join", {"meeting_id": 1, "surprise": 1}, "invalid"),
    ("presenter.set", {"meeting_id": "M"}, "invalid"),
    ("presenter.set", "M", "invalid"),
    ("presenter.set", {"page": 0}, "invalid"),
    ("presenter.set", {"page": "2"}, "invalid"),
    ("presenter.set", {"zoom": 1000}, "invalid"),
    ("presenter.set", {"zoom": "big"}, "invalid"),
    ("presenter.set", {}, "invalid"),
    ("presenter.set", {"agenda_item_id": 999_999}, "not_found"),
    ("presenter.set", {"document_id": 999_999}, "not_found"),
    ("presenter.set", {"presenter_id": 999_999}, "not_participant"),
    ("presenter.set", {"page": 2, "x": "y" * 70_000}, "too_large"),
    ("attendance.mark", {"user_id": 999_999, "status": "present"}, "not_participant"),
    ("attendance.mark", {"user_id": "outsider", "status": "present"}, "invalid"),
    ("attendance.mark", {"user_id": 1, "status": "asleep"}, "invalid"),
    ("attendance.mark", {"user_id": 1, "status": "present", "arrived_at": "yesterday"}, "invalid"),
    ("item.open", {"agenda_item_id": 999_999}, "not_found"),
    ("item.close", {"agenda_item_id": 1, "status": "burned"}, "invalid"),
    ("speaker.request", {"kind": "song"}, "invalid"),
    ("speaker.request", {"position": "maybe"}, "invalid"),
    ("speaker.call", {"request_id": 999_999}, "not_found"),
    ("speaker.call", {"request_id": None}, "invalid"),
    ("speaker.call", {"request_id": 1, "limit_seconds": 1}, "invalid"),
    ("speaker.reorder", {"order": "1,2"}, "invalid"),
    ("speaker.reorder", {"order": [1, "2"]}, "invalid"),
    ("speaker.reorder", {"order": [999_999]}, "stale_queue"),
    ("speaker.end", {}, "nobody_speaking"),
]


def test_malformed_payloads_get_an_error_ack_and_change_nothing(world, database_url):
    chair, _ = joined(world, "chair")
    mid = world.meeting_id
    before = counts(database_url, mid)
    for event, payload, code in BAD_PAYLOADS:
        if isinstance(payload, dict) and "meeting_id" not in payload:
            payload = {"meeting_id": mid, **payload}
        ack = chair.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
    assert counts(database_url, mid) == before
    # Still connected and working.
    assert chair.call("presenter.set", {"meeting_id": mid, "page": 2})["ok"]
    assert counts(database_url, mid)[0] == before[0] + 1
    chair.disconnect()


# ----------------------------------------------------------------------------- catch-up

def test_reconnecting_client_gets_exactly_the_50_events_it_missed(world):
    chair, _ = joined(world, "chair")
    delegate, ack = joined(world, "delegate")
    assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": 2})["ok"]
    seen = delegate.next_event()["seq"]
    delegate.disconnect()
    for page in range(3, 53):
        assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": page})["ok"]
    back, ack = joined(world, "delegate", last_seq=seen)
    assert "snapshot" not in ack
    assert [e["seq"] for e in ack["events"]] == list(range(seen + 1, seen + 51))
    assert [e["data"]["page"] for e in ack["events"]] == list(range(3, 53))
    assert ack["seq"] == seen + 50
    # Up to date: asking again gives nothing new, and live events continue from there.
    assert back.call("meeting.join", {"meeting_id": world.meeting_id, "last_seq": ack["seq"]})["events"] == []
    assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": 99})["ok"]
    assert back.next_event()["seq"] == ack["seq"] + 1
    chair.disconnect()
    back.disconnect()


def test_client_too_far_behind_gets_a_snapshot(world):
    chair, _ = joined(world, "chair")
    for page in range(2, CATCHUP_LIMIT + 4):
        assert chair.call("presenter.set", {"meeting_id": world.meeting_id, "page": page})["ok"]
    delegate, ack = joined(world, "delegate", last_seq=1)
    assert "events" not in ack
    assert ack["seq"] == ack["snapshot"]["seq"] == CATCHUP_LIMIT + 2
    assert ack["snapshot"]["presenter"]["page"] == CATCHUP_LIMIT + 3
    # A seq from the future (say, a restored database) also gets a snapshot.
    ack = delegate.call("meeting.join", {"meeting_id": world.meeting_id, "last_seq": 10_000})
    assert ack["snapshot"]["seq"] == CATCHUP_LIMIT + 2
    chair.disconnect()
    delegate.disconnect()


# ----------------------------------------------------------------------------- roll call, quorum, presence

def test_roll_call_updates_quorum_live(world, database_url):
    sec, _ = joined(world, "secretary")
    delegate, _ = joined(world, "delegate")
    mid, uid = world.meeting_id, world.user_ids
    ack = sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["delegate2"], "status": "excused"})
    assert ack["error"]["code"] == "reason_required"
    for name in ("chair", "secretary", "delegate"):
        assert sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid[name], "status": "present"})["ok"]
    ack = sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["delegate2"], "status": "remote",
                                       "arrived_at": "2026-11-27T08:05:00+07:00"})
    assert ack["quorum"] == {"members": 4, "present": 4, "required": 3, "met": True, "rule": [2, 3]}
    assert ack["attendance"]["arrived_at"] == "2026-11-27T01:05:00+00:00"
    events = [delegate.next_event() for _ in range(4)]
    assert [e["type"] for e in events] == ["attendance.changed"] * 4
    assert [e["data"]["quorum"]["present"] for e in events] == [1, 2, 3, 4]
    assert [e["data"]["quorum"]["met"] for e in events] == [False, False, True, True]
    ack = sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["chair"], "status": "excused",
                                       "reason": "Đi công tác tại Hà Nội"})
    assert ack["attendance"]["reason"] == "Đi công tác tại Hà Nội" and ack["attendance"]["left_at"]
    assert ack["quorum"]["present"] == 3 and ack["quorum"]["met"] is True
    ack = sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["delegate"], "status": "absent"})
    assert ack["quorum"]["met"] is False and ack["attendance"]["left_at"]
    # The outsider is no participant; the observer counts for nothing.
    assert sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["outsider"], "status": "present"}
                    )["error"]["code"] == "not_participant"
    ack = sec.call("attendance.mark", {"meeting_id": mid, "user_id": uid["observer"], "status": "present"})
    assert ack["quorum"]["present"] == 2 and ack["quorum"]["members"] == 4
    with db_session(database_url) as s:
        rows = s.execute(select(Attendance).where(Attendance.meeting_id == mid)).scalars().all()
        assert len(rows) == 5 and all(r.marked_by_id == uid["secretary"] for r in rows)
    sec.disconnect()
    delegate.disconnect()


def test_presence_counts_devices_and_tells_only_managers(world):
    sec, _ = joined(world, "secretary")
    other, _ = joined(world, "delegate2")
    uid = world.user_ids["delegate"]
    tablet, _ = joined(world, "delegate")
    first = sec.next_event("presence.changed", lambda d: d["user_id"] == uid)
    assert first == {"meeting_id": world.meeting_id, "user_id": uid, "online": True, "devices": 1}
    laptop, _ = joined(world, "delegate")
    assert sec.next_event("presence.changed", lambda d: d["user_id"] == uid)["devices"] == 2
    tablet.disconnect()
    assert sec.next_event("presence.changed", lambda d: d["user_id"] == uid) == {
        "meeting_id": world.meeting_id, "user_id": uid, "online": True, "devices": 1}
    laptop.call("meeting.leave", {"meeting_id": world.meeting_id})
    assert sec.next_event("presence.changed", lambda d: d["user_id"] == uid)["online"] is False
    assert_not_received(other, lambda name, _data: name == "presence.changed", what="a presence notice to a delegate")
    for c in (sec, other, laptop):
        c.disconnect()


# ----------------------------------------------------------------------------- speakers

def test_speaker_queue_from_request_to_history(world, database_url):
    chair, _ = joined(world, "chair")
    d1, _ = joined(world, "delegate")
    d2, _ = joined(world, "delegate2")
    obs, _ = joined(world, "observer")
    mid = world.meeting_id
    a = d1.call("speaker.request", {"meeting_id": mid, "kind": "speech", "position": "for"})["request"]
    assert a["status"] == "waiting" and a["position"] == "for"
    assert d1.call("speaker.request", {"meeting_id": mid, "kind": "speech"})["error"]["code"] == "already_requested"
    assert obs.call("speaker.request", {"meeting_id": mid})["error"]["code"] == "forbidden"
    b = d2.call("speaker.request", {"meeting_id": mid, "kind": "question"})["request"]
    c = d2.call("speaker.request", {"meeting_id": mid, "kind": "point_of_order"})["request"]
    queue = chair.call("meeting.join", {"meeting_id": mid})["snapshot"]["speakers"]
    assert [r["id"] for r in queue["waiting"]] == [c["id"], a["id"], b["id"]]  # point of order first
    assert chair.call("speaker.reorder", {"meeting_id": mid, "order": [a["id"], b["id"]]}
                      )["error"]["code"] == "stale_queue"
    assert chair.call("speaker.reorder", {"meeting_id": mid, "order": [b["id"], a["id"], c["id"]]})["ok"]
    called = chair.call("speaker.call", {"meeting_id": mid, "request_id": b["id"], "limit_seconds": 120})
    assert called["request"]["status"] == "speaking" and called["request"]["limit_seconds"] == 120
    assert called["request"]["started_at"].endswith("+00:00") and called["ended"] is None
    assert called["request"]["requested_at"].endswith("+00:00")
    ev = obs.next_event(predicate=lambda e: e["type"] == "speaker.called")
    assert ev["data"]["request"]["started_at"] == called["request"]["started_at"]
    assert d1.call("speaker.withdraw", {"meeting_id": mid, "request_id": a["id"]})["ok"]
    assert chair.call("speaker.call", {"meeting_id": mid, "request_id": a["id"]})["error"]["code"] == "not_waiting"
    assert chair.call("speaker.skip", {"meeting_id": mid, "request_id": c["id"]})["ok"]
    assert d2.call("speaker.end", {"meeting_id": mid})["ok"]  # the speaker yields the floor
    with db_session(database_url) as s:
        from meetings.live.speakers import speaker_history

        history = speaker_history(s, mid)
    assert [(h["user_id"], h["kind"], h["status"]) for h in history] == [
        (world.user_ids["delegate2"], "question", "done"),
        (world.user_ids["delegate"], "speech", "withdrawn"),
        (world.user_ids["delegate2"], "point_of_order", "skipped"),
    ]
    done = next(h for h in history if h["status"] == "done")
    assert done["duration_seconds"] is not None and done["duration_seconds"] >= 0
    assert done["full_name"].endswith("Nguyễn Thị Hằng") and done["started_at"].tzinfo is not None
    for cl in (chair, d1, d2, obs):
        cl.disconnect()
