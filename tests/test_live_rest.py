"""REST views of the live room's state (the same data the socket gives)."""
from __future__ import annotations

from meetings.core.extensions import db
from meetings.live import attendance, presenter, room, speakers


def test_snapshot_needs_a_participant(as_user, world):
    mid = world.meeting.id
    assert as_user(None).get(f"/api/v1/meetings/{mid}/live").status_code == 401
    r = as_user("outsider").get(f"/api/v1/meetings/{mid}/live")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"  # ids do not leak
    assert as_user("delegate").get("/api/v1/meetings/999999/live").json["error"]["code"] == "not_found"
    r = as_user("delegate").get(f"/api/v1/meetings/{mid}/live")
    assert r.status_code == 200 and r.json["seq"] == 0 and r.json["meeting"]["title"] == world.meeting.title
    assert "online" not in r.json
    assert "online" in as_user("chair").get(f"/api/v1/meetings/{mid}/live").json


def test_secretary_marks_attendance_over_rest(as_user, world):
    mid, uid = world.meeting.id, world.delegate.id
    url = f"/api/v1/meetings/{mid}/attendance/{uid}"
    assert as_user("delegate").put(url, json={"status": "present"}).status_code == 403
    assert as_user("secretary").put(url, json={"status": "asleep"}).status_code == 422
    assert as_user("secretary").put(url, json={"status": "present", "extra": 1}).status_code == 422
    r = as_user("secretary").put(f"/api/v1/meetings/{mid}/attendance/{world.outsider.id}", json={"status": "present"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_participant"
    r = as_user("secretary").put(url, json={"status": "excused"})
    assert r.status_code == 422 and r.json["error"]["code"] == "reason_required"
    assert as_user("delegate").get(f"/api/v1/meetings/{mid}/live").json["seq"] == 0  # nothing happened
    r = as_user("secretary").put(url, json={"status": "present"})
    assert r.status_code == 200
    row = next(a for a in r.json["attendance"] if a["user_id"] == uid)
    assert row["status"] == "present" and row["arrived_at"].endswith("+00:00")
    assert r.json["quorum"] == {"members": 4, "present": 1, "required": 3, "met": False, "rule": [2, 3]}
    listed = as_user("observer").get(f"/api/v1/meetings/{mid}/attendance").json
    assert listed == r.json
    events = as_user("delegate").get(f"/api/v1/meetings/{mid}/events?after=0").json
    assert [e["type"] for e in events["events"]] == ["attendance.changed"] and events["seq"] == 1
    assert attendance.present_user_ids(db.session, mid) == {uid}


def test_events_over_rest_and_too_far_behind(app, as_user, world):
    app.config["EVENT_CATCHUP_LIMIT"] = 3
    mid = world.meeting.id
    meeting = room.meeting_for(db.session, mid)
    for page in range(2, 7):
        presenter.set_presenter(db.session, meeting, world.chair, {"page": page})
    db.session.commit()
    r = as_user("delegate").get(f"/api/v1/meetings/{mid}/events?after=2")
    assert [e["seq"] for e in r.json["events"]] == [3, 4, 5] and r.json["seq"] == 5
    r = as_user("delegate").get(f"/api/v1/meetings/{mid}/events?after=0")
    assert r.status_code == 409 and r.json["error"]["code"] == "snapshot_required"
    assert as_user("delegate").get(f"/api/v1/meetings/{mid}/events?after=-1").status_code == 422
    assert as_user("outsider").get(f"/api/v1/meetings/{mid}/events").status_code == 404


def test_speakers_over_rest_and_history_for_the_minutes(as_user, world):
    mid = world.meeting.id
    meeting = room.meeting_for(db.session, mid)
    r = speakers.request_to_speak(db.session, meeting, world.delegate, "speech", "against")
    db.session.commit()
    chair_view = room.meeting_for(db.session, mid)
    speakers.call(db.session, chair_view, world.chair, r["request"]["id"], 60)
    speakers.end_speech(db.session, chair_view, world.chair)
    db.session.commit()
    body = as_user("delegate2").get(f"/api/v1/meetings/{mid}/speakers").json
    assert body["current"] is None and body["waiting"] == []
    (h,) = body["history"]
    assert (h["user_id"], h["position"], h["status"], h["limit_seconds"]) == (world.delegate.id, "against", "done", 60)
    assert h["started_at"].endswith("+00:00") and h["ended_at"].endswith("+00:00")
    (m,) = speakers.speaker_history(db.session, mid)
    assert m["duration_seconds"] >= 0 and m["ended_at"] >= m["started_at"]
    assert as_user("outsider").get(f"/api/v1/meetings/{mid}/speakers").status_code == 404
