"""The roll call for a group in one call: one transaction, one event; the single mark's short answer."""
from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import func, select

from meetings.bodies.models import Body, Meeting
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.extensions import db
from meetings.live.models import Attendance
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.factories import move_meeting
from tests.invitation_helpers import deliver, status
from tests.invitation_helpers import draft as draft  # noqa: F401  (fixture)
from tests.invitation_helpers import inv_app as inv_app  # noqa: F401  (fixture)
from tests.mail_server import mail_server as mail_server  # noqa: F401  (fixture)
from tests.socket_helpers import (
    SocketClient,
    assert_not_received,
    db_session,
    make_world,
    page_turn_barrier,
    start_socket_server,
)


def events(meeting_id: int) -> list[MeetingEvent]:
    db.session.remove()
    return list(db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                                   .order_by(MeetingEvent.seq)))


def roll(meeting_id: int) -> dict[int, tuple]:
    db.session.remove()
    return {a.user_id: (a.status, a.reason, a.arrived_at is not None, a.left_at is not None)
            for a in db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))}


def test_a_group_is_marked_in_one_call_with_one_event(as_user, world):
    mid, url = world.meeting.id, f"/api/v1/meetings/{world.meeting.id}/attendance"
    ids = [world.chair.id, world.delegate.id, world.delegate2.id]
    r = as_user("secretary").put(url, json={"user_ids": ids, "status": "present"})
    assert r.status_code == 200, r.json
    assert r.json["marked"] == ids and r.json["quorum"]["present"] == 3 and r.json["quorum"]["met"] is True
    assert {a["user_id"]: a["status"] for a in r.json["attendance"]}[world.observer.id] == "unknown"
    evs = events(mid)
    assert [e.type for e in evs] == ["attendance.bulk_changed"]
    assert [row["user_id"] for row in evs[0].data["attendance"]] == ids and evs[0].data["quorum"]["present"] == 3
    assert roll(mid)[world.delegate.id] == ("present", None, True, False)
    # The same call again changes nothing: no event, no audit entry.
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert as_user("secretary").put(url, json={"user_ids": ids, "status": "present"}).json["marked"] == []
    assert len(events(mid)) == 1 and db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    # Everyone absent: those present get their leaving time; one event again.
    r = as_user("chair").put(url, json={"all": True, "status": "absent"})
    assert sorted(r.json["marked"]) == sorted([*ids, world.secretary.id, world.observer.id])
    assert roll(mid)[world.delegate.id] == ("absent", None, True, True)  # arrived, then left
    assert [e.type for e in events(mid)] == ["attendance.bulk_changed"] * 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.marked_group")
                              .order_by(AuditEntry.id.desc()))
    assert entry.details["count"] == 5 and entry.details["all"] is True


def test_a_unit_is_marked_excused_with_its_reason(as_user, world):
    unit = Unit(body_id=world.body.id, name="Sở Tài chính")
    other = Unit(body_id=world.body.id, name="Sở Xây dựng")  # a participant of another unit: not marked
    other_body = Body(name="Ủy ban nhân dân huyện Khác", short_name="UBND", place_name="Khác")
    db.session.add(other_body)
    db.session.flush()
    elsewhere = Unit(body_id=other_body.id, name="Phòng Tài chính huyện")
    db.session.add_all([unit, other, elsewhere])
    db.session.flush()
    db.session.add_all([UnitMember(unit_id=unit.id, user_id=world.delegate.id),
                        UnitMember(unit_id=unit.id, user_id=world.outsider.id),  # not a participant: left out
                        UnitMember(unit_id=other.id, user_id=world.users["delegate2"].id),
                        UnitMember(unit_id=elsewhere.id, user_id=world.chair.id)])
    db.session.commit()
    url = f"/api/v1/meetings/{world.meeting.id}/attendance"
    r = as_user("secretary").put(url, json={"unit_id": elsewhere.id, "status": "present"})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_unit"  # a unit of another body
    r = as_user("secretary").put(url, json={"unit_id": unit.id, "status": "excused"})
    assert r.status_code == 422 and r.json["error"]["code"] == "reason_required"
    r = as_user("secretary").put(url, json={"unit_id": unit.id, "status": "excused", "reason": "Đi công tác"})
    assert r.status_code == 200 and r.json["marked"] == [world.delegate.id]
    assert roll(world.meeting.id) == {world.delegate.id: ("excused", "Đi công tác", False, False)}


def test_bad_groups_are_refused_and_change_nothing(as_user, world):
    url = f"/api/v1/meetings/{world.meeting.id}/attendance"
    sec = as_user("secretary")
    assert sec.put(url, json={"status": "present"}).status_code == 422  # no group named
    assert sec.put(url, json={"status": "present", "all": True, "user_ids": [world.chair.id]}).status_code == 422
    assert sec.put(url, json={"status": "asleep", "all": True}).status_code == 422
    r = sec.put(url, json={"status": "present", "user_ids": [world.chair.id, world.outsider.id]})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_participant"
    assert r.json["error"]["details"] == {"user_ids": [world.outsider.id]}
    assert sec.put(url, json={"status": "present", "unit_id": 999}).json["error"]["code"] == "unknown_unit"
    assert as_user("delegate").put(url, json={"status": "present", "all": True}).status_code == 403
    assert as_user("outsider").put(url, json={"status": "present", "all": True}).status_code == 404
    assert roll(world.meeting.id) == {} and events(world.meeting.id) == []


def test_the_single_mark_can_answer_without_the_whole_roll(as_user, world):
    url = f"/api/v1/meetings/{world.meeting.id}/attendance/{world.delegate.id}"
    r = as_user("secretary").put(url + "?roll=false", json={"status": "present"})
    assert r.status_code == 200
    assert [a["user_id"] for a in r.json["attendance"]] == [world.delegate.id]
    assert r.json["attendance"][0]["status"] == "present" and r.json["quorum"]["present"] == 1
    full = as_user("secretary").put(url, json={"status": "remote"}).json  # the default: the whole roll, as before
    assert len(full["attendance"]) == 5  # every participant


def test_the_roll_call_from_the_answers_is_one_event(inv_app, draft, as_user, mail_server):  # noqa: F811
    world, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    url = f"/api/v1/meetings/{meeting_id}/my-invitation"
    as_user("delegate2").put(url, json={"reply": "decline", "reason": "Ốm"})
    as_user("observer").put(url, json={"reply": "decline", "reason": "Bận việc gia đình"})
    before = len([e for e in events(meeting_id) if e.type.startswith("attendance")])
    r = as_user("secretary").post(f"/api/v1/meetings/{meeting_id}/attendance/from-replies")
    assert r.status_code == 200 and sorted(r.json["marked"]) == sorted([world.delegate2.id, world.observer.id])
    kinds = [e.type for e in events(meeting_id) if e.type.startswith("attendance")]
    assert before == 0 and kinds == ["attendance.bulk_changed"]
    assert roll(meeting_id)[world.observer.id][:2] == ("excused", "Bận việc gia đình")
    move_meeting(db.session, db.session.get(Meeting, meeting_id), world.secretary, "in_progress")


# ----------------------------------------------------------------------------- a thousand, live

@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("bulk"), database_url)
    yield handle
    handle.stop()


def _put(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_a_thousand_present_in_one_call_and_one_event(server, database_url):
    world = make_world(database_url, extra_delegates=1000)
    mid = world.meeting_id
    chair = SocketClient(server.url, world.tokens["chair"]).connect()
    delegate = SocketClient(server.url, world.tokens["delegate"]).connect()
    try:
        for c in (chair, delegate):
            assert c.call("meeting.join", {"meeting_id": mid})["ok"]
        members = [world.user_ids[f"member{i}"] for i in range(1000)]
        answer = _put(f"{server.url}/api/v1/meetings/{mid}/attendance", world.tokens["secretary"],
                      {"user_ids": members, "status": "present"})
        assert len(answer["marked"]) == 1000 and answer["quorum"]["present"] == 1000
        event = delegate.next_event(predicate=lambda d: d.get("type") == "attendance.bulk_changed")
        assert len(event["data"]["attendance"]) == 1000 and event["data"]["quorum"]["present"] == 1000
        # After a barrier that the server sends later: no second bulk event, no per-person events.
        assert_not_received(delegate, lambda n, d: n == "event" and (
            d.get("type") == "attendance.changed" or (d.get("type") == "attendance.bulk_changed"
                                                      and d["seq"] != event["seq"])),
            barrier=page_turn_barrier(chair, mid, delegate), what="more than one attendance event")
        with db_session(database_url) as s:
            assert s.scalar(select(func.count()).select_from(Attendance).where(
                Attendance.meeting_id == mid, Attendance.status == "present")) == 1000
    finally:
        chair.disconnect()
        delegate.disconnect()
