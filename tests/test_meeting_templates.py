"""Meeting copies, a body's templates and its monthly regular sitting, through the public API.

The body's office ("office", a secretariat member of the world's body) prepares a
December sitting with everything a copy must carry — and things it must not carry
(conclusions, item statuses, a document) — then copies it, saves it as the body's
regular template and makes next month's sitting from it.
"""
from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from meetings.accounts.service import create_user
from meetings.bodies import recurrence, regular, service
from meetings.bodies.models import AgendaItem, Body, Meeting
from meetings.bodies.template_models import AgendaDocumentSlot, MeetingTemplate
from meetings.core.extensions import db
from meetings.documents.models import Document
from meetings.platform.audit.models import AuditEntry
from meetings.platform.signals import participant_added
from tests.factories import PASSWORD, ROLES
from tests.pdfs import simple_pdf, upload

# 08:00 in Hà Nội (UTC+7) on Tuesday 8 December 2099, the second Tuesday of the month.
DEC_START = "2099-12-08T01:00:00+00:00"
DEC_END = "2099-12-08T04:30:00+00:00"
DEC_TITLE = "Phiên họp thường kỳ tháng 12/2099"


@pytest.fixture
def office(world):
    """A secretariat member of the world's body (may create its meetings and manage its templates)."""
    user = create_user(db.session, "office", PASSWORD, "Chánh Văn phòng")
    db.session.commit()
    service.set_body_member(db.session, db.session.get(Body, world.body.id), db.session.get(type(user), world.admin.id),
                            user_id=user.id, is_secretariat=True)
    db.session.commit()
    return user


@pytest.fixture
def clients(as_user, office):
    for name in ROLES:
        as_user.token(name)
    as_user.world.users["office"] = office
    as_user.token("office")
    return as_user


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json if status != 204 else None


def counts() -> tuple[int, int, int, int]:
    db.session.remove()
    return tuple(db.session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (Meeting, AuditEntry, MeetingTemplate, AgendaDocumentSlot))


@pytest.fixture
def december(clients, world):
    """The December sitting, prepared through the API by the office."""
    office = clients("office")
    m = ok(office.post("/api/v1/meetings", json={
        "body_id": world.body.id, "title": DEC_TITLE, "place": "Phòng họp số 1, tầng 3", "starts_at": DEC_START,
        "ends_at": DEC_END, "confidentiality": "internal", "quorum_numerator": 3, "quorum_denominator": 4,
        "description": "Kỳ họp cuối năm"}), 201)
    mid = m["id"]
    parts = {}
    for name, role, extra in (("chair", "chair", {}), ("secretary", "secretary", {}),
                              ("delegate", "delegate", {"vote_weight": 3}),
                              ("delegate2", "delegate", {"can_vote": False}), ("observer", "observer", {})):
        parts[name] = ok(office.post(f"/api/v1/meetings/{mid}/participants",
                                     json={"user_id": world.users[name].id, "role": role, **extra}), 201)
    one = ok(office.post(f"/api/v1/meetings/{mid}/items", json={
        "title": "Báo cáo tình hình kinh tế - xã hội năm 2099", "description": "Sở Kế hoạch và Đầu tư trình bày",
        "presenter_id": world.users["delegate"].id, "planned_minutes": 30}), 201)
    sub = ok(office.post(f"/api/v1/meetings/{mid}/items", json={
        "title": "Thu chi ngân sách", "parent_id": one["id"], "planned_minutes": 10}), 201)
    two = ok(office.post(f"/api/v1/meetings/{mid}/items", json={"title": "Kế hoạch đầu tư công năm 2100"}), 201)
    ok(office.post(f"/api/v1/items/{one['id']}/slots", json={"title": "Báo cáo KT-XH năm 2099"}), 201)
    ok(office.post(f"/api/v1/items/{one['id']}/slots", json={"title": "Phụ lục số liệu"}), 201)
    ok(office.post(f"/api/v1/items/{sub['id']}/slots", json={"title": "Báo cáo quyết toán"}), 201)
    ok(office.patch(f"/api/v1/items/{two['id']}", json={"status": "done", "conclusion": "Thống nhất thông qua."}))
    ok(upload(office, mid, simple_pdf(1), "Báo cáo KT-XH năm 2099.pdf", agenda_item_id=str(one["id"])), 201)
    return {"id": mid, "items": (one, sub, two), "participants": parts}


def test_a_copy_carries_agenda_skeleton_slots_participants_and_settings_but_no_outcome_or_document(
        clients, world, december):
    received = []

    def invited(_sender, *, participant, **_kw):  # the copy invites like any other meeting would
        received.append(participant.user_id)

    participant_added.connect(invited)
    try:
        copy = ok(clients("office").post(f"/api/v1/meetings/{december['id']}/copy",
                                         json={"starts_at": "2100-01-12T01:00:00Z"}), 201)
    finally:
        participant_added.disconnect(invited)
    db.session.remove()
    new = db.session.get(Meeting, copy["id"])
    assert (new.status, new.title, new.place, new.confidentiality, new.description) == (
        "draft", DEC_TITLE, "Phòng họp số 1, tầng 3", "internal", "Kỳ họp cuối năm")
    assert (new.quorum_numerator, new.quorum_denominator) == (3, 4)
    assert new.starts_at == datetime(2100, 1, 12, 1, tzinfo=UTC)
    assert new.ends_at == datetime(2100, 1, 12, 4, 30, tzinfo=UTC)  # the source's length, 3 h 30
    roles = {(p.user.username, p.role, p.can_vote, p.vote_weight) for p in new.participants}
    assert roles == {("chair", "chair", True, 1), ("secretary", "secretary", True, 1),
                     ("delegate", "delegate", True, 3), ("delegate2", "delegate", False, 1),
                     ("observer", "observer", False, 1)}
    assert len(received) == 5
    tops = sorted((i for i in new.items if i.parent_id is None), key=lambda i: i.position)
    assert [(i.title, i.description, i.planned_minutes, i.status, i.conclusion) for i in tops] == [
        ("Báo cáo tình hình kinh tế - xã hội năm 2099", "Sở Kế hoạch và Đầu tư trình bày", 30, "pending", None),
        ("Kế hoạch đầu tư công năm 2100", None, None, "pending", None)]
    assert tops[0].presenter_id == world.users["delegate"].id
    subs = [i for i in new.items if i.parent_id == tops[0].id]
    assert [(s.title, s.planned_minutes) for s in subs] == [("Thu chi ngân sách", 10)]
    slots = ok(clients("office").get(f"/api/v1/meetings/{new.id}/slots"))
    assert [(s["agenda_item_id"], s["title"]) for s in slots] == [
        (tops[0].id, "Báo cáo KT-XH năm 2099"), (tops[0].id, "Phụ lục số liệu"), (subs[0].id, "Báo cáo quyết toán")]
    assert db.session.execute(select(func.count(Document.id)).where(Document.meeting_id == new.id)).scalar_one() == 0
    # Audited like any meeting created, then as a copy naming its source.
    actions = [a for (a,) in db.session.execute(select(AuditEntry.action).where(AuditEntry.meeting_id == new.id)
                                                .order_by(AuditEntry.id))]
    assert actions == ["meeting.created", "meeting.copied"]
    details = db.session.execute(select(AuditEntry.details).where(AuditEntry.action == "meeting.copied")).scalar_one()
    assert details == {"from_meeting_id": december["id"], "participants": 5, "items": 3, "slots": 3}
    # The source did not change.
    assert db.session.get(Meeting, december["id"]).title == DEC_TITLE
    assert db.session.get(AgendaItem, december["items"][2]["id"]).conclusion == "Thống nhất thông qua."


def test_copy_refuses_who_may_not_create_the_bodys_meetings_and_changes_nothing(clients, world, december):
    before = counts()
    body = {"starts_at": "2100-01-12T01:00:00Z"}
    # The meeting's secretary prepares it, but is not the body's secretariat: a copy is a new meeting of the body.
    for name, status in (("secretary", 403), ("chair", 403), ("delegate", 404), ("outsider", 404), (None, 401)):
        response = clients(name).post(f"/api/v1/meetings/{december['id']}/copy", json=body)
        assert response.status_code == status, (name, response.get_data(as_text=True))
    assert clients("office").post(f"/api/v1/meetings/{december['id']}/copy", json={}).status_code == 422
    assert counts() == before
    ok(clients("admin").post(f"/api/v1/meetings/{december['id']}/copy", json=body), 201)


def test_the_office_of_another_body_cannot_copy_or_use_its_templates(clients, world, december):
    admin = clients("admin")
    other = ok(admin.post("/api/v1/bodies", json={"name": "Hội đồng nhân dân tỉnh Thử Nghiệm"}), 201)
    ok(admin.post(f"/api/v1/bodies/{other['id']}/members", json={"user_id": world.users["outsider"].id,
                                                                  "is_secretariat": True}), 201)
    template = ok(clients("office").post(f"/api/v1/meetings/{december['id']}/template",
                                         json={"name": "Thường kỳ", "regular": True}), 201)
    before = counts()
    outsider = clients("outsider")
    assert outsider.post(f"/api/v1/meetings/{december['id']}/copy",
                         json={"starts_at": "2100-01-12T01:00:00Z"}).status_code == 404
    for method, path, body in (("GET", f"/templates/{template['id']}", None),
                               ("POST", f"/templates/{template['id']}/meetings", {"starts_at": "2100-01-12T01:00:00Z"}),
                               ("PATCH", f"/templates/{template['id']}", {"name": "Của tôi"}),
                               ("DELETE", f"/templates/{template['id']}", None),
                               ("GET", f"/bodies/{world.body.id}/templates", None),
                               ("GET", f"/bodies/{world.body.id}/regular-sittings/next", None),
                               ("POST", f"/bodies/{world.body.id}/regular-sittings", {})):
        response = outsider.open(f"/api/v1{path}", method=method, json=body)
        assert response.status_code == 403, (method, path, response.get_data(as_text=True))
    assert counts() == before


def test_template_keeps_the_meeting_as_saved_and_makes_meetings(clients, world, december):
    office = clients("office")
    saved = ok(office.post(f"/api/v1/meetings/{december['id']}/template", json={"name": "Thường kỳ"}), 201)
    assert (saved["regular"], saved["items"], saved["participants"]) == (False, 2, 5)
    assert (saved["date_rule"], saved["weekday"], saved["week"], saved["day"], saved["start_time"],
            saved["duration_minutes"]) == ("weekday_of_month", 1, 2, 8, "08:00", 210)
    # Changing the meeting afterwards does not change the template…
    ok(office.patch(f"/api/v1/items/{december['items'][0]['id']}", json={"title": "Đã đổi tên"}))
    made = ok(office.post(f"/api/v1/templates/{saved['id']}/meetings",
                          json={"starts_at": "2100-03-09T01:00:00Z", "title": "Phiên họp chuyên đề"}), 201)
    db.session.remove()
    new = db.session.get(Meeting, made["id"])
    assert new.title == "Phiên họp chuyên đề" and new.status == "draft"
    assert sorted(i.title for i in new.items)[0] == "Báo cáo tình hình kinh tế - xã hội năm 2099"
    assert len(new.participants) == 5
    # …until it is saved again under the same name (replaced: 200), which keeps one template of that name.
    again = ok(office.post(f"/api/v1/meetings/{december['id']}/template", json={"name": "Thường kỳ", "regular": True}))
    assert again["id"] == saved["id"] and again["regular"] is True
    assert again["content"]["items"][0]["title"] == "Đã đổi tên"
    second = ok(office.post(f"/api/v1/meetings/{december['id']}/template", json={"name": "Chuyên đề",
                                                                                   "regular": True}), 201)
    listed = ok(office.get(f"/api/v1/bodies/{world.body.id}/templates"))
    assert [(t["name"], t["regular"]) for t in listed] == [("Chuyên đề", True), ("Thường kỳ", False)]
    assert office.patch(f"/api/v1/templates/{saved['id']}", json={"name": "Chuyên đề"}).status_code == 409
    assert office.patch(f"/api/v1/templates/{saved['id']}", json={"title_pattern": "Tháng {month}"}).status_code == 422
    ok(office.delete(f"/api/v1/templates/{second['id']}"), 204)
    assert [t["name"] for t in ok(office.get(f"/api/v1/bodies/{world.body.id}/templates"))] == ["Thường kỳ"]
    actions = [a for (a,) in db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "meeting_template").order_by(AuditEntry.id))]
    assert actions == ["meeting_template.saved"] * 3 + ["meeting_template.deleted"]


def test_next_months_regular_sitting_in_two_clicks_across_the_year_end(clients, world, december):
    office = clients("office")
    ok(office.post(f"/api/v1/meetings/{december['id']}/template", json={"name": "Thường kỳ", "regular": True}), 201)
    plan = ok(office.get(f"/api/v1/bodies/{world.body.id}/regular-sittings/next"))
    # The month after the last one (12/2099), the second Tuesday at 08:00 Hà Nội time, 3 h 30 long.
    assert (plan["year"], plan["month"], plan["title"]) == (2100, 1, "Phiên họp thường kỳ tháng 1/2100")
    assert plan["starts_at"] == "2100-01-12T01:00:00+00:00" and plan["ends_at"] == "2100-01-12T04:30:00+00:00"
    assert plan["last"] == {"year": 2099, "month": 12}
    made = ok(office.post(f"/api/v1/bodies/{world.body.id}/regular-sittings",
                          json={"year": plan["year"], "month": plan["month"]}), 201)
    assert (made["title"], made["status"], made["starts_at"]) == (plan["title"], "draft", plan["starts_at"])
    # The same click again (or a second tab) finds January made: 409, nothing more created.
    before = counts()
    again = office.post(f"/api/v1/bodies/{world.body.id}/regular-sittings", json={"year": 2100, "month": 1})
    assert again.status_code == 409 and again.json["error"]["code"] == "sitting_exists"
    assert counts() == before
    nxt = ok(office.get(f"/api/v1/bodies/{world.body.id}/regular-sittings/next"))
    assert (nxt["title"], nxt["starts_at"]) == ("Phiên họp thường kỳ tháng 2/2100", "2100-02-09T01:00:00+00:00")
    db.session.remove()
    jan = db.session.get(Meeting, made["id"])
    assert len(jan.participants) == 5 and len([i for i in jan.items if i.parent_id is None]) == 2
    assert db.session.execute(select(AuditEntry.details).where(
        AuditEntry.action == "meeting.regular_sitting")).scalar_one() == {"body_id": world.body.id, "year": 2100,
                                                                          "month": 1}


def test_without_a_template_the_last_regular_sitting_is_repeated(clients, world, december):
    office = clients("office")
    plan = ok(office.get(f"/api/v1/bodies/{world.body.id}/regular-sittings/next"))
    assert (plan["template_id"], plan["source_meeting_id"], plan["title"]) == (
        None, december["id"], "Phiên họp thường kỳ tháng 1/2100")
    made = ok(office.post(f"/api/v1/bodies/{world.body.id}/regular-sittings", json={}), 201)
    assert made["starts_at"] == "2100-01-12T01:00:00+00:00"


def test_a_body_with_neither_template_nor_regular_sitting_says_so(clients, world):
    admin = clients("admin")
    body = ok(admin.post("/api/v1/bodies", json={"name": "Ban Chỉ đạo"}), 201)
    response = admin.get(f"/api/v1/bodies/{body['id']}/regular-sittings/next")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_regular_template"


def test_plan_on_the_service_follows_the_clock(app, clients, world, december):
    """Dates across a year end, with the clock given: the month after today when the last one is long past."""
    office = clients("office")
    ok(office.post(f"/api/v1/meetings/{december['id']}/template", json={"name": "Thường kỳ", "regular": True}), 201)
    with app.app_context():
        body = db.session.get(Body, world.body.id)
        user = db.session.get(type(world.admin), world.admin.id)
        # A clock past the last sitting's next month: never a sitting in the past.
        plan = regular.plan_next(db.session, body, user, now=datetime(2100, 3, 20, tzinfo=UTC))
        assert (plan["year"], plan["month"], plan["starts_at"]) == (2100, 4, datetime(2100, 4, 13, 1, tzinfo=UTC))
        # On the day of the next sitting, after its start: the one after.
        plan = regular.plan_next(db.session, body, user, now=datetime(2100, 1, 12, 2, tzinfo=UTC))
        assert (plan["year"], plan["month"]) == (2100, 2)


# ------------------------------------------------------------------ the pure rules

def test_months_and_dates_by_rule():
    assert recurrence.month_after(2026, 12) == (2027, 1)
    assert recurrence.month_after(2026, 11, 14) == (2028, 1)
    anchor = recurrence.anchor_of(date(2026, 12, 8))  # second Tuesday
    assert anchor == {"day": 8, "weekday": 1, "week": 2}
    assert recurrence.sitting_date("weekday_of_month", 2027, 1, **anchor) == date(2027, 1, 12)
    fifth = recurrence.anchor_of(date(2026, 12, 29))  # a fifth Tuesday: the last one in a shorter month
    assert recurrence.sitting_date("weekday_of_month", 2027, 2, **fifth) == date(2027, 2, 23)
    assert recurrence.sitting_date("weekday_of_month", 2027, 3, **fifth) == date(2027, 3, 30)
    assert recurrence.sitting_date("last_weekday_of_month", 2027, 1, **anchor) == date(2027, 1, 26)
    thirty_first = recurrence.anchor_of(date(2027, 1, 31))
    assert recurrence.sitting_date("day_of_month", 2027, 2, **thirty_first) == date(2027, 2, 28)
    assert recurrence.sitting_date("day_of_month", 2028, 2, **thirty_first) == date(2028, 2, 29)
    assert recurrence.sitting_date("day_of_month", 2027, 4, **thirty_first) == date(2027, 4, 30)
    with pytest.raises(ValueError):
        recurrence.sitting_date("every_full_moon", 2027, 1, **anchor)


def test_next_sitting_the_month_after_the_last_or_after_today():
    anchor, eight = recurrence.anchor_of(date(2026, 12, 8)), time(8, 0)
    now = datetime(2026, 12, 20, 9, 0)
    assert recurrence.next_sitting("weekday_of_month", anchor, eight, last=(2026, 12), now_local=now)[:2] == (2027, 1)
    assert recurrence.next_sitting("weekday_of_month", anchor, eight, last=None, now_local=now)[:2] == (2027, 1)
    # The last one long ago: the first month whose date is still ahead.
    assert recurrence.next_sitting("weekday_of_month", anchor, eight, last=(2026, 3),
                                   now_local=datetime(2026, 12, 1, 9, 0))[:2] == (2026, 12)
    assert recurrence.next_sitting("weekday_of_month", anchor, eight, last=(2026, 3),
                                   now_local=datetime(2026, 12, 8, 9, 0))[:2] == (2027, 1)


def test_vietnamese_titles_made_and_read_back():
    pattern = recurrence.DEFAULT_TITLE_PATTERN
    assert recurrence.regular_title(pattern, 2027, 1) == "Phiên họp thường kỳ tháng 1/2027"
    assert recurrence.month_in_title(pattern, "Phiên họp thường kỳ tháng 1/2027") == (2027, 1)
    assert recurrence.month_in_title(pattern, "PHIÊN HỌP  THƯỜNG KỲ THÁNG 12/2026") == (2026, 12)
    decomposed = unicodedata.normalize("NFD", "Phiên họp thường kỳ tháng 3/2027")
    assert recurrence.month_in_title(pattern, decomposed) == (2027, 3)
    assert recurrence.month_in_title(pattern, "Phiên họp thường kỳ tháng 13/2027") is None
    assert recurrence.month_in_title(pattern, "Phiên họp chuyên đề tháng 1/2027") is None
    assert recurrence.month_in_title(pattern, "Phiên họp thường kỳ tháng 1/2027 (bổ sung)") is None


def test_slots_are_for_those_running_the_meeting(clients, world, december):
    item = december["items"][0]["id"]
    assert clients("delegate").get(f"/api/v1/meetings/{december['id']}/slots").status_code == 404  # a draft
    ok(clients("office").post(f"/api/v1/meetings/{december['id']}/status", json={"status": "scheduled"}))
    for name, status in (("delegate", 403), ("observer", 403), ("outsider", 404), ("chair", 200), ("secretary", 200)):
        assert clients(name).get(f"/api/v1/meetings/{december['id']}/slots").status_code == status, name
    before = counts()
    assert clients("chair").post(f"/api/v1/items/{item}/slots", json={"title": "Tờ trình"}).status_code == 403
    assert clients("office").post(f"/api/v1/items/{item}/slots", json={"title": "   "}).status_code == 422
    assert counts() == before
    slot = ok(clients("secretary").post(f"/api/v1/items/{item}/slots", json={"title": "  Tờ  trình  "}), 201)
    assert slot["title"] == "Tờ trình" and slot["position"] == 2
    assert ok(clients("secretary").patch(f"/api/v1/slots/{slot['id']}", json={"title": "Tờ trình số 1"}))["title"] \
        == "Tờ trình số 1"
    ok(clients("secretary").delete(f"/api/v1/slots/{slot['id']}"), 204)
    # Deleting the item deletes its slots with it.
    ok(clients("secretary").delete(f"/api/v1/items/{item}"), 204)
    assert ok(clients("secretary").get(f"/api/v1/meetings/{december['id']}/slots")) == []


def test_last_months_closed_sitting_is_copied(clients, world):
    """The usual source is a sitting already held and closed: its copy is a fresh draft."""
    from tests.factories import move_meeting

    move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.secretary, "closed")
    copy = ok(clients("admin").post(f"/api/v1/meetings/{world.meeting.id}/copy",
                                    json={"starts_at": "2100-01-12T01:00:00Z", "title": "Phiên họp thường kỳ tháng 1"}),
              201)
    db.session.remove()
    new = db.session.get(Meeting, copy["id"])
    assert (new.status, new.closed_at, len(new.sittings)) == ("draft", None, 0)
    assert sorted(i.title for i in new.items) == ["Nội dung 1", "Nội dung 2", "Nội dung 3"]
    assert {i.status for i in new.items} == {"pending"}
