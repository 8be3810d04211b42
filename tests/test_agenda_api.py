"""Agenda REST API: bodies, meetings, participants, items — good input and bad."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from meetings.bodies import permissions, sittings
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.audit.service import verify_chain
from meetings.platform.realtime.models import MeetingEvent
from tests.factories import ROLES, build_draft_meeting, move_meeting


@pytest.fixture
def as_user(as_user):
    # Tokens issued up front: issuing one writes an audit entry, which would blur counts().
    for name in ROLES:
        as_user.token(name)
    return as_user


def counts() -> tuple:
    """Everything a refused request must leave as it was: the audit and event counts, and
    every row of the bodies domain (bodies, members, meetings, participants, agenda items)."""
    db.session.remove()
    rows = tuple(tuple(db.session.execute(select(table).order_by(*table.primary_key.columns)).all())
                 for table in (Body.__table__, BodyMember.__table__, Meeting.__table__, Participant.__table__,
                               AgendaItem.__table__))
    return (db.session.execute(select(func.count(AuditEntry.id))).scalar_one(),
            db.session.execute(select(func.count(MeetingEvent.id))).scalar_one(), rows)


def events(meeting_id: int) -> list[MeetingEvent]:
    db.session.remove()
    return list(db.session.execute(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                                   .order_by(MeetingEvent.seq)).scalars())


def refused(response, status: int, code: str | None = None, before: tuple | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json["error"]) >= {"code", "message"}
    if code:
        assert response.json["error"]["code"] == code
    if before is not None:
        assert counts() == before


def iso(days: float) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


# ------------------------------------------------------------------ bodies

def test_admin_creates_and_edits_bodies_others_cannot(as_user, world):
    admin, delegate = as_user("admin"), as_user("delegate")
    body = {"name": "Hội đồng nhân dân xã Ấp Bắc", "short_name": "HĐND", "quorum_numerator": 1,
            "quorum_denominator": 2}
    before = counts()
    refused(delegate.post("/api/v1/bodies", json=body), 403, "forbidden", before)
    r = admin.post("/api/v1/bodies", json=body)
    assert r.status_code == 201 and r.json["name"] == "Hội đồng nhân dân xã Ấp Bắc"
    bid = r.json["id"]
    refused(admin.post("/api/v1/bodies", json=body), 409, "conflict")
    assert delegate.get(f"/api/v1/bodies/{bid}").json["short_name"] == "HĐND"
    assert {b["id"] for b in delegate.get("/api/v1/bodies").json} == {world.body.id, bid}
    assert admin.patch(f"/api/v1/bodies/{bid}", json={"description": "Nhiệm kỳ 2026–2031"}).status_code == 200
    before = counts()
    refused(delegate.patch(f"/api/v1/bodies/{bid}", json={"name": "x"}), 403, before=before)
    refused(admin.patch(f"/api/v1/bodies/{bid}", json={"quorum_numerator": 3}), 422, before=before)  # 3/2 > 1
    refused(admin.patch(f"/api/v1/bodies/{bid}", json={"name": world.body.name}), 409, before=before)
    refused(admin.patch(f"/api/v1/bodies/{bid}", json={"quorum_numerator": "2"}), 422, before=before)
    refused(admin.patch(f"/api/v1/bodies/{bid}", json={"colour": "red"}), 422, before=before)
    refused(admin.patch(f"/api/v1/bodies/{bid}", json={}), 422, before=before)
    refused(admin.get("/api/v1/bodies/999999"), 404, "not_found")
    refused(admin.patch("/api/v1/bodies/999999", json={"name": "x"}), 404)
    refused(as_user(None).get("/api/v1/bodies"), 401, "unauthorized")
    # Anonymous callers learn nothing about the expected shape: 401 comes before validation.
    refused(as_user(None).post("/api/v1/bodies", json={"name": 5}), 401, "unauthorized")
    refused(as_user(None).post("/api/v1/meetings", data="not json", content_type="application/json"), 401)


def test_body_members_add_update_remove(as_user, world):
    admin = as_user("admin")
    url = f"/api/v1/bodies/{world.body.id}/members"
    r = admin.post(url, json={"user_id": world.archivist.id, "position": "Văn thư", "is_secretariat": True})
    assert r.status_code == 201 and r.json["is_secretariat"] is True and r.json["position"] == "Văn thư"
    r = admin.post(url, json={"user_id": world.archivist.id, "position": "Lưu trữ"})
    assert r.status_code == 200 and r.json["is_secretariat"] is False
    members = as_user("delegate").get(url).json
    assert {m["user_id"] for m in members} >= {world.archivist.id, world.delegate.id}
    assert next(m for m in members if m["user_id"] == world.archivist.id)["position"] == "Lưu trữ"
    before = counts()
    refused(admin.post(url, json={"user_id": 999999}), 422, "unknown_user", before)
    refused(admin.post(url, json={"user_id": "7"}), 422, before=before)
    refused(as_user("secretary").post(url, json={"user_id": world.outsider.id}), 403, before=before)
    refused(as_user("chair").delete(f"{url}/{world.delegate.id}"), 403, before=before)
    refused(admin.delete(f"{url}/{world.outsider.id}"), 404, before=before)
    assert admin.delete(f"{url}/{world.archivist.id}").status_code == 204
    assert world.archivist.id not in {m["user_id"] for m in admin.get(url).json}
    refused(admin.post("/api/v1/bodies/999999/members", json={"user_id": world.delegate.id}), 404)


# ------------------------------------------------------------------ meetings

def _meeting_body(world, **kw):
    return {"body_id": world.body.id, "title": "Phiên họp chuyên đề quý I", "starts_at": iso(3),
            "ends_at": iso(3.1), "place": "Hội trường A", "confidentiality": "internal", **kw}


def test_create_meeting_admin_or_body_secretariat_only(as_user, world):
    before = counts()
    for name in ("secretary", "chair", "delegate", "archivist", "outsider"):
        refused(as_user(name).post("/api/v1/meetings", json=_meeting_body(world)), 403, before=before)
    r = as_user("admin").post("/api/v1/meetings", json=_meeting_body(world))
    assert r.status_code == 201 and r.json["status"] == "draft" and r.json["confidentiality"] == "internal"
    assert r.json["starts_at"].endswith("+00:00")
    # Made a secretariat member of the body, the secretary may create the body's meetings.
    as_user("admin").post(f"/api/v1/bodies/{world.body.id}/members",
                          json={"user_id": world.secretary.id, "is_secretariat": True})
    r = as_user("secretary").post("/api/v1/meetings", json=_meeting_body(world, title="Họp giao ban"))
    assert r.status_code == 201
    assert db.session.get(Meeting, r.json["id"]).created_by_id == world.secretary.id


@pytest.mark.parametrize("change", [
    {"ends_at": iso(2)},                     # ends before it starts
    {"confidentiality": "very_secret"},
    {"body_id": 999999},
    {"body_id": "1"},
    {"title": ""},
    {"title": 42},
    {"starts_at": "tomorrow"},
    {"quorum_numerator": 3, "quorum_denominator": 2},
    {"quorum_numerator": 1},                 # half a fraction
    {"status": "closed"},                    # a new meeting is always a draft
])
def test_create_meeting_rejects_bad_input(as_user, world, change):
    before = counts()
    refused(as_user("admin").post("/api/v1/meetings", json=_meeting_body(world, **change)), 422, before=before)


def test_update_meeting(as_user, world):
    url = f"/api/v1/meetings/{world.meeting.id}"
    r = as_user("secretary").patch(url, json={"title": "<b>Phiên họp bất thường</b>", "place": "Phòng 3"})
    assert r.status_code == 200 and r.json["title"] == "<b>Phiên họp bất thường</b>"
    assert events(world.meeting.id)[-1].type == "meeting.updated"
    before = counts()
    refused(as_user("chair").patch(url, json={"place": "x"}), 403, before=before)
    refused(as_user("delegate").patch(url, json={"place": "x"}), 403, before=before)
    refused(as_user("outsider").patch(url, json={"place": "x"}), 404, before=before)
    refused(as_user("secretary").patch(url, json={"ends_at": world.meeting.starts_at.isoformat()}), 422,
            "invalid_times", before)
    refused(as_user("secretary").patch(url, json={"starts_at": None}), 422, before=before)
    refused(as_user("secretary").patch("/api/v1/meetings/999999", json={"place": "x"}), 404, before=before)


def test_list_meetings_shows_only_what_caller_may_see(as_user, world):
    draft = build_draft_meeting(db.session, world)
    other_body = Body(name="Sở Tài chính", quorum_numerator=1, quorum_denominator=2)
    db.session.add(other_body)
    db.session.flush()
    foreign = Meeting(body_id=other_body.id, title="Họp Sở", starts_at=utcnow() + timedelta(days=2),
                      status="scheduled")
    db.session.add(foreign)
    db.session.commit()
    expected = {
        "admin": {world.meeting.id, draft.id, foreign.id},
        "archivist": {world.meeting.id, foreign.id},
        "secretary": {world.meeting.id, draft.id},
        "chair": {world.meeting.id, draft.id},
        "delegate": {world.meeting.id},
        "observer": {world.meeting.id},
        "outsider": set(),
    }
    for name, ids in expected.items():
        r = as_user(name).get("/api/v1/meetings")
        assert r.status_code == 200
        assert {m["id"] for m in r.json} == ids, name
    assert [m["id"] for m in as_user("admin").get("/api/v1/meetings").json] == [world.meeting.id, foreign.id, draft.id]
    admin = as_user("admin")
    assert {m["id"] for m in admin.get("/api/v1/meetings?status=draft").json} == {draft.id}
    assert {m["id"] for m in admin.get(f"/api/v1/meetings?body_id={other_body.id}").json} == {foreign.id}
    frm = (utcnow() + timedelta(days=1.5)).strftime("%Y-%m-%dT%H:%M:%S")
    assert {m["id"] for m in admin.get(f"/api/v1/meetings?from={frm}").json} == {foreign.id, draft.id}
    assert {m["id"] for m in admin.get(f"/api/v1/meetings?to={frm}").json} == {world.meeting.id}
    refused(admin.get("/api/v1/meetings?status=bogus"), 422)
    refused(admin.get("/api/v1/meetings?body_id=abc"), 422)
    refused(admin.get("/api/v1/meetings?from=yesterday"), 422)
    refused(as_user(None).get("/api/v1/meetings"), 401)


def test_visible_meetings_query_agrees_with_can_view(world):
    """The SQL filter behind GET /meetings and permissions.can_view must never disagree."""
    draft = build_draft_meeting(db.session, world)
    closed = move_meeting(db.session, build_draft_meeting(db.session, world, title="Đã bế mạc"),
                          world.secretary, "closed")
    meetings = [world.meeting, draft, closed]
    for user in world.users.values():
        by_sql = set(db.session.execute(sittings.visible_meetings(user).with_only_columns(Meeting.id)).scalars())
        assert by_sql == {m.id for m in meetings if permissions.can_view(m, user)}, user.username


def test_get_meeting_detail_nests_agenda_and_says_what_caller_may_do(as_user, world):
    admin = as_user("admin")
    mid = world.meeting.id
    sub = admin.post(f"/api/v1/meetings/{mid}/items",
                     json={"title": "Tiểu mục 1.1", "parent_id": world.items[0].id,
                           "presenter_id": world.delegate.id, "planned_minutes": 15}).json
    r = as_user("delegate").get(f"/api/v1/meetings/{mid}")
    assert r.status_code == 200
    d = r.json
    assert d["my_role"] == "delegate" and d["can_prepare"] is False and d["can_run"] is False
    assert d["body_name"] == world.body.name
    assert [i["title"] for i in d["agenda"]] == ["Nội dung 1", "Nội dung 2", "Nội dung 3"]
    assert d["agenda"][0]["sub_items"] == [dict(sub, presenter_name="Người dùng delegate")]
    assert d["agenda"][0]["sub_items"][0]["presenter_name"] == "Người dùng delegate"
    assert [p["role"] for p in d["participants"]][:2] == ["chair", "secretary"]
    c = as_user("chair").get(f"/api/v1/meetings/{mid}").json
    assert (c["my_role"], c["can_prepare"], c["can_run"]) == ("chair", False, True)
    s = as_user("secretary").get(f"/api/v1/meetings/{mid}").json
    assert (s["my_role"], s["can_prepare"], s["can_run"]) == ("secretary", True, True)
    a = admin.get(f"/api/v1/meetings/{mid}").json
    assert (a["my_role"], a["can_prepare"]) == (None, True)
    refused(as_user("outsider").get(f"/api/v1/meetings/{mid}"), 404, "not_found")
    draft = build_draft_meeting(db.session, world)
    refused(as_user("delegate").get(f"/api/v1/meetings/{draft.id}"), 404)
    refused(as_user("archivist").get(f"/api/v1/meetings/{draft.id}"), 404)
    assert as_user("chair").get(f"/api/v1/meetings/{draft.id}").status_code == 200
    refused(admin.get("/api/v1/meetings/999999"), 404)


# ------------------------------------------------------------------ status

def test_status_follows_transitions_and_is_logged(as_user, world):
    draft = build_draft_meeting(db.session, world)
    url = f"/api/v1/meetings/{draft.id}/status"
    sec, chair = as_user("secretary"), as_user("chair")
    before = counts()
    refused(sec.post(url, json={"status": "in_progress"}), 409, "bad_transition", before)
    refused(chair.post(url, json={"status": "scheduled"}), 403, before=before)  # publishing is preparation
    refused(sec.post(url, json={"status": "postponed"}), 422, before=before)
    refused(sec.post(url, json={}), 422, before=before)
    for who, status in ((sec, "scheduled"), (chair, "in_progress"), (chair, "adjourned"), (chair, "in_progress"),
                        (chair, "adjourned"), (sec, "closed")):
        r = who.post(url, json={"status": status})
        assert r.status_code == 200 and r.json["status"] == status
    logged = [(e.seq, e.type, e.data["status"]) for e in events(draft.id)]
    assert logged == [(1, "meeting.status", "scheduled"), (2, "meeting.status", "in_progress"),
                      (3, "meeting.status", "adjourned"), (4, "meeting.status", "in_progress"),
                      (5, "meeting.status", "adjourned"), (6, "meeting.status", "closed")]
    before = counts()
    for status in ("draft", "scheduled", "in_progress", "adjourned", "closed"):
        refused(as_user("admin").post(url, json={"status": status}), 409, "bad_transition", before)
    wurl = f"/api/v1/meetings/{world.meeting.id}/status"
    refused(as_user("delegate").post(wurl, json={"status": "in_progress"}), 403)
    refused(as_user("outsider").post(wurl, json={"status": "in_progress"}), 404)
    assert chair.post(wurl, json={"status": "draft"}).status_code == 403
    assert sec.post(wurl, json={"status": "draft"}).status_code == 200
    # Back in draft, delegates lose sight of it.
    refused(as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}"), 404)


def test_closed_meeting_no_longer_changes(as_user, world):
    m = move_meeting(db.session, world.meeting, world.secretary, "closed")  # held and closed through the service
    admin = as_user("admin")
    before = counts()
    refused(admin.patch(f"/api/v1/meetings/{m.id}", json={"place": "x"}), 409, "meeting_closed", before)
    refused(admin.post(f"/api/v1/meetings/{m.id}/items", json={"title": "x"}), 409, before=before)
    refused(admin.patch(f"/api/v1/items/{world.items[0].id}", json={"conclusion": "x"}), 409, before=before)
    refused(admin.delete(f"/api/v1/items/{world.items[0].id}"), 409, before=before)
    refused(admin.post(f"/api/v1/meetings/{m.id}/participants", json={"user_id": world.outsider.id}), 409,
            before=before)


# ------------------------------------------------------------------ participants

def _pid(world, name: str, meeting_id: int | None = None) -> int:
    return db.session.execute(select(Participant.id).where(
        Participant.meeting_id == (meeting_id or world.meeting.id),
        Participant.user_id == world.users[name].id)).scalar_one()


def test_participants_add_update_remove(as_user, world):
    sec = as_user("secretary")
    url = f"/api/v1/meetings/{world.meeting.id}/participants"
    r = sec.post(url, json={"user_id": world.outsider.id, "role": "observer"})
    assert r.status_code == 201 and r.json["can_vote"] is False and r.json["vote_weight"] == 1
    pid = r.json["id"]
    assert as_user("outsider").get(f"/api/v1/meetings/{world.meeting.id}").status_code == 200
    r = sec.patch(f"{url}/{pid}", json={"role": "delegate", "can_vote": True, "vote_weight": 3})
    assert r.status_code == 200 and (r.json["role"], r.json["can_vote"], r.json["vote_weight"]) == ("delegate", True, 3)
    r = sec.patch(f"{url}/{pid}", json={"role": "observer"})
    assert r.json["can_vote"] is False  # becoming an observer drops the vote
    ev = events(world.meeting.id)
    assert [e.type for e in ev] == ["participants.changed"] * 3
    assert ev[0].data == {"action": "added", "participant_id": pid, "user_id": world.outsider.id}
    assert sec.delete(f"{url}/{pid}").status_code == 204
    assert as_user("outsider").get(f"/api/v1/meetings/{world.meeting.id}").status_code == 404
    assert events(world.meeting.id)[-1].data["action"] == "removed"
    assert len(sec.get(url).json) == 5


@pytest.mark.parametrize("payload, status, code", [
    ({"user_id": "__delegate__"}, 409, "duplicate_participant"),
    ({"user_id": "__outsider__", "role": "chair"}, 409, "chair_taken"),
    ({"user_id": "__outsider__", "role": "observer", "can_vote": True}, 422, "observer_cannot_vote"),
    ({"user_id": "__outsider__", "vote_weight": 0}, 422, "invalid"),
    ({"user_id": "__outsider__", "vote_weight": 1.5}, 422, "invalid"),
    ({"user_id": "__outsider__", "role": "president"}, 422, "invalid"),
    ({"user_id": "__outsider__", "can_vote": "maybe"}, 422, "invalid"),
    ({"user_id": 999999}, 422, "unknown_user"),
    ({"user_id": None}, 422, "invalid"),
    ({"role": "delegate"}, 422, "invalid"),
])
def test_participant_bad_input_changes_nothing(as_user, world, payload, status, code):
    payload = {k: (world.users[v.strip("_")].id if isinstance(v, str) and v.startswith("__") else v)
               for k, v in payload.items()}
    before = counts()
    refused(as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/participants", json=payload),
            status, code, before)


def test_participant_patch_rules_and_foreign_ids(as_user, world):
    sec = as_user("secretary")
    url = f"/api/v1/meetings/{world.meeting.id}/participants"
    before = counts()
    refused(sec.patch(f"{url}/{_pid(world, 'delegate')}", json={"role": "chair"}), 409, "chair_taken", before)
    refused(sec.patch(f"{url}/{_pid(world, 'observer')}", json={"can_vote": True}), 422, before=before)
    refused(sec.patch(f"{url}/{_pid(world, 'delegate')}", json={}), 422, before=before)
    refused(as_user("chair").patch(f"{url}/{_pid(world, 'delegate')}", json={"vote_weight": 2}), 403, before=before)
    refused(as_user("delegate").delete(f"{url}/{_pid(world, 'delegate2')}"), 403, before=before)
    draft = build_draft_meeting(db.session, world)
    before = counts()
    # A participant id of another meeting is not found through this meeting.
    refused(sec.patch(f"{url}/{_pid(world, 'delegate', draft.id)}", json={"vote_weight": 2}), 404, before=before)
    refused(sec.delete(f"{url}/{_pid(world, 'delegate', draft.id)}"), 404, before=before)
    refused(sec.delete(f"{url}/999999"), 404, before=before)
    # The chair may hand over: demote first, then promote someone else.
    assert sec.patch(f"{url}/{_pid(world, 'chair')}", json={"role": "delegate"}).status_code == 200
    assert sec.patch(f"{url}/{_pid(world, 'delegate')}", json={"role": "chair"}).status_code == 200


def test_removing_a_presenter_clears_their_items(as_user, world):
    sec = as_user("secretary")
    iid = world.items[1].id
    assert sec.patch(f"/api/v1/items/{iid}", json={"presenter_id": world.delegate2.id}).status_code == 200
    sec.delete(f"/api/v1/meetings/{world.meeting.id}/participants/{_pid(world, 'delegate2')}")
    db.session.remove()
    assert db.session.get(AgendaItem, iid).presenter_id is None


# ------------------------------------------------------------------ agenda items

def _agenda(client, meeting_id):
    return [(i["title"], [s["title"] for s in i["sub_items"]])
            for i in client.get(f"/api/v1/meetings/{meeting_id}/items").json]


def test_items_create_nest_reorder_delete(as_user, world):
    sec = as_user("secretary")
    mid = world.meeting.id
    i1, i2, i3 = (i.id for i in world.items)
    a = sec.post(f"/api/v1/meetings/{mid}/items", json={"title": "1.a", "parent_id": i1}).json
    b = sec.post(f"/api/v1/meetings/{mid}/items", json={"title": "1.b", "parent_id": i1, "planned_minutes": 0}).json
    assert (a["position"], b["position"]) == (0, 1)
    r = sec.post(f"/api/v1/meetings/{mid}/items", json={"title": "Nội dung 4", "presenter_id": world.chair.id,
                                                       "planned_minutes": 30, "description": "Tờ trình số 12"})
    assert r.status_code == 201 and r.json["position"] == 3 and r.json["presenter_name"] == "Người dùng chair"
    i4 = r.json["id"]
    assert _agenda(sec, mid) == [("Nội dung 1", ["1.a", "1.b"]), ("Nội dung 2", []), ("Nội dung 3", []),
                                 ("Nội dung 4", [])]
    r = sec.post(f"/api/v1/meetings/{mid}/items/order", json={"parent_id": None, "ids": [i4, i3, i1, i2]})
    assert r.status_code == 200 and [i["id"] for i in r.json] == [i4, i3, i1, i2]
    assert sec.post(f"/api/v1/meetings/{mid}/items/order",
                    json={"parent_id": i1, "ids": [b["id"], a["id"]]}).status_code == 200
    assert _agenda(sec, mid) == [("Nội dung 4", []), ("Nội dung 3", []), ("Nội dung 1", ["1.b", "1.a"]),
                                 ("Nội dung 2", [])]
    # Move 1.a under item 2; then delete item 1 with its remaining sub-item.
    r = sec.patch(f"/api/v1/items/{a['id']}", json={"parent_id": i2})
    assert r.status_code == 200 and r.json["parent_id"] == i2
    assert sec.delete(f"/api/v1/items/{i1}").status_code == 204
    assert _agenda(sec, mid) == [("Nội dung 4", []), ("Nội dung 3", []), ("Nội dung 2", ["1.a"])]
    db.session.remove()
    assert db.session.get(AgendaItem, b["id"]) is None
    assert [i.position for i in db.session.get(Meeting, mid).items if i.parent_id is None] == [0, 1, 2]
    # A top-level item without children may become a sub-item, and back.
    assert sec.patch(f"/api/v1/items/{i3}", json={"parent_id": i4}).json["position"] == 0
    assert sec.patch(f"/api/v1/items/{i3}", json={"parent_id": None}).json["position"] == 2
    types = [e.data["action"] for e in events(mid) if e.type == "agenda.changed"]
    assert types == ["created", "created", "created", "reordered", "reordered", "updated", "deleted",
                     "updated", "updated"]
    assert verify_chain(db.session) == []


@pytest.mark.parametrize("payload, code", [
    ({"title": "x", "parent_id": "__sub__"}, "bad_parent"),        # a sub-item cannot have sub-items
    ({"title": "x", "parent_id": "__draft_item__"}, "bad_parent"),  # parent in another meeting
    ({"title": "x", "parent_id": 999999}, "bad_parent"),
    ({"title": "x", "presenter_id": "__outsider__"}, "bad_presenter"),
    ({"title": "x", "presenter_id": 999999}, "bad_presenter"),
    ({"title": "x", "planned_minutes": -1}, "invalid"),
    ({"title": "x", "planned_minutes": "10"}, "invalid"),
    ({"title": "x", "status": "skipped"}, "invalid"),
    ({"title": ""}, "invalid"),
    ({"title": ["x"]}, "invalid"),
    ({}, "invalid"),
    ({"title": "x", "meeting_id": 1}, "invalid"),
])
def test_item_create_bad_input_changes_nothing(as_user, world, payload, code):
    draft = build_draft_meeting(db.session, world)
    sub = AgendaItem(meeting_id=world.meeting.id, parent_id=world.items[0].id, title="sub")
    db.session.add(sub)
    db.session.commit()
    ids = {"__sub__": sub.id, "__draft_item__": draft.items[0].id, "__outsider__": world.outsider.id}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before = counts()
    refused(as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/items", json=payload), 422, code,
            before)


def test_item_patch_rules(as_user, world):
    sec, chair = as_user("secretary"), as_user("chair")
    i1, i2, _ = (i.id for i in world.items)
    sec.post(f"/api/v1/meetings/{world.meeting.id}/items", json={"title": "1.a", "parent_id": i1})
    before = counts()
    refused(sec.patch(f"/api/v1/items/{i1}", json={"parent_id": i2}), 422, "bad_parent", before)  # has children
    refused(sec.patch(f"/api/v1/items/{i2}", json={"parent_id": i2}), 422, "bad_parent", before)
    refused(sec.patch(f"/api/v1/items/{i2}", json={"status": "finished"}), 422, before=before)
    refused(sec.patch(f"/api/v1/items/{i2}", json={"conclusion": 5}), 422, before=before)
    refused(chair.patch(f"/api/v1/items/{i2}", json={"title": "Đổi tên"}), 403, before=before)
    refused(chair.patch(f"/api/v1/items/{i2}", json={"status": "open", "title": "x"}), 403, before=before)
    refused(as_user("delegate").patch(f"/api/v1/items/{i2}", json={"status": "open"}), 403, before=before)
    refused(as_user("delegate").delete(f"/api/v1/items/{i2}"), 403, before=before)
    refused(as_user("outsider").patch(f"/api/v1/items/{i2}", json={"status": "open"}), 404, before=before)
    refused(as_user("outsider").delete(f"/api/v1/items/{i2}"), 404, before=before)
    refused(sec.patch("/api/v1/items/999999", json={"status": "open"}), 404, before=before)
    # The chair runs the meeting: opens the item and records its conclusion.
    r = chair.patch(f"/api/v1/items/{i2}", json={"status": "done", "conclusion": "Thống nhất thông qua tờ trình."})
    assert r.status_code == 200 and r.json["conclusion"] == "Thống nhất thông qua tờ trình."
    assert events(world.meeting.id)[-1].data == {"action": "updated", "item_id": i2,
                                                 "fields": ["conclusion", "status"]}


def test_items_of_a_draft_meeting_are_hidden_and_log_nothing(as_user, world):
    draft = build_draft_meeting(db.session, world)
    iid = draft.items[0].id
    before = counts()
    refused(as_user("delegate").get(f"/api/v1/meetings/{draft.id}/items"), 404, before=before)
    refused(as_user("delegate").patch(f"/api/v1/items/{iid}", json={"status": "open"}), 404, before=before)
    sec = as_user("secretary")
    assert sec.post(f"/api/v1/meetings/{draft.id}/items", json={"title": "Mới"}).status_code == 201
    assert sec.patch(f"/api/v1/items/{iid}", json={"title": "Sửa"}).status_code == 200
    assert events(draft.id) == []  # nobody sees a draft yet: audit only
    assert counts()[0] == before[0] + 2


@pytest.mark.parametrize("order", [
    "missing", "duplicate", "foreign", "strings", "not_a_list", "sub_parent", "other_meeting_parent",
])
def test_reorder_must_be_a_permutation(as_user, world, order):
    draft = build_draft_meeting(db.session, world)
    i1, i2, i3 = (i.id for i in world.items)
    sub = AgendaItem(meeting_id=world.meeting.id, parent_id=i1, title="sub")
    db.session.add(sub)
    db.session.commit()
    body = {
        "missing": {"ids": [i1, i2]},
        "duplicate": {"ids": [i1, i2, i3, i3]},
        "foreign": {"ids": [i1, i2, draft.items[0].id]},
        "strings": {"ids": [str(i1), str(i2), str(i3)]},
        "not_a_list": {"ids": i1},
        "sub_parent": {"parent_id": sub.id, "ids": []},
        "other_meeting_parent": {"parent_id": draft.items[0].id, "ids": []},
    }[order]
    before = counts()
    refused(as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/items/order", json=body), 422,
            before=before)
    assert _agenda(as_user("secretary"), world.meeting.id)[0] == ("Nội dung 1", ["sub"])


def test_openapi_documents_every_agenda_operation(client, world):
    spec = client.get("/api/v1/openapi.json").json
    ops = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
           if method != "parameters" and "agenda" in op.get("tags", [])]
    assert len(ops) == 21
    for path, method, op in ops:
        assert op.get("summary") or op.get("description"), (method, path)
        assert any(c.startswith("2") for c in op["responses"]), (method, path)
        if method in ("post", "patch"):
            assert "requestBody" in op, (method, path)
        if "{meeting_id}" in path or "{item_id}" in path:
            assert "404" in op["responses"], (method, path)
        if method in ("patch", "delete") or (method == "post" and "{" in path):
            assert "403" in op["responses"], (method, path)
    assert "409" in spec["paths"]["/api/v1/meetings/{meeting_id}/status"]["post"]["responses"]
    assert spec["paths"]["/api/v1/meetings"]["get"]["parameters"][0]["in"] == "query"
