"""Agenda pages: "my meetings" and the meeting page, through a real browser login."""
from __future__ import annotations

import re
from datetime import timedelta

from meetings.bodies.models import AgendaItem, Body, Meeting
from meetings.core.config import PROJECT_ROOT
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.documents.models import Document
from tests.factories import build_draft_meeting, page_client

XSS = "<script>alert(1)</script>"




login = page_client


def _extra_meetings(world):
    draft = build_draft_meeting(db.session, world, title="Họp kín dự thảo")
    other = Body(name="Sở Kế hoạch và Đầu tư", quorum_numerator=1, quorum_denominator=2)
    db.session.add(other)
    db.session.flush()
    foreign = Meeting(body_id=other.id, title="Họp của Sở khác", starts_at=utcnow() + timedelta(days=1),
                      status="scheduled")
    past = build_draft_meeting(db.session, world, title="Phiên họp tháng trước")
    past.status, past.starts_at = "closed", utcnow() - timedelta(days=30)
    db.session.add(foreign)
    db.session.commit()
    return draft, foreign, past


def test_home_needs_login(client, world):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get(f"/meetings/{world.meeting.id}").status_code == 302


def test_home_lists_only_my_meetings_upcoming_first(app, world):
    draft, foreign, past = _extra_meetings(world)
    html = login(app, "delegate").get("/").get_data(as_text=True)
    assert world.meeting.title in html and past.title in html
    assert draft.title not in html and foreign.title not in html
    assert html.index(world.meeting.title) < html.index(past.title)  # upcoming before past
    assert "Đã lên lịch" in html and "Đã kết thúc" in html  # status badges
    assert f'href="/meetings/{world.meeting.id}"' in html

    html = login(app, "secretary").get("/").get_data(as_text=True)
    assert draft.title in html and "Dự thảo" in html and foreign.title not in html

    html = login(app, "outsider").get("/").get_data(as_text=True)
    assert "Không có cuộc họp nào sắp diễn ra." in html
    for m in (world.meeting, draft, foreign, past):
        assert m.title not in html

    html = login(app, "admin").get("/").get_data(as_text=True)
    assert all(m.title in html for m in (world.meeting, draft, foreign, past))


def test_home_links_the_work_between_sittings(app, world):
    """Everyone finds their opinion forms and tasks; the chair and the office also their body's task dashboard."""
    dashboard = f'href="/bodies/{world.body.id}/tasks"'
    for name, sees_dashboard in (("delegate", False), ("chair", True), ("admin", True)):
        html = login(app, name).get("/").get_data(as_text=True)
        assert 'href="/opinions"' in html and 'href="/tasks"' in html
        assert (dashboard in html) is sees_dashboard, name


def test_live_meeting_comes_first(app, world):
    later = build_draft_meeting(db.session, world, title="Phiên họp đang diễn ra")
    later.status = "in_progress"  # planned next week, but running now
    db.session.commit()
    html = login(app, "delegate").get("/").get_data(as_text=True)
    assert html.index(later.title) < html.index(world.meeting.title)
    assert "Đang họp" in html


def test_meeting_page_shows_details_agenda_and_participants(app, world):
    m = world.meeting
    m.ends_at = m.starts_at + timedelta(hours=2)
    parent = world.items[0]
    db.session.add(AgendaItem(meeting_id=m.id, parent_id=parent.id, position=0, title="Báo cáo tình hình kinh tế",
                              presenter_id=world.chair.id, planned_minutes=20, status="open"))
    world.items[1].conclusion = "Thống nhất thông qua."
    db.session.commit()
    html = login(app, "delegate").get(f"/meetings/{m.id}").get_data(as_text=True)
    assert "Phiên họp thường kỳ tháng 12" in html and "Phòng họp số 1" in html
    assert "Ủy ban nhân dân tỉnh Thử Nghiệm" in html
    titles = re.findall(r'<span class="outline-title">(.*?)</span>', html)
    assert titles == ["Nội dung 1", "Báo cáo tình hình kinh tế", "Nội dung 2", "Nội dung 3"]
    assert "Trình bày: Người dùng chair" in html and "20 phút" in html and "Đang thảo luận" in html
    assert "Thống nhất thông qua." in html
    assert "Chủ tọa" in html and "Thư ký" in html and "Khách mời" in html
    assert "Vai trò của tôi</dt><dd>Đại biểu" in html
    # Hall time (UTC+7) shown, start and end.
    assert (m.starts_at + timedelta(hours=7)).strftime("%H:%M, %d/%m/%Y") in html


def test_meeting_page_escapes_untrusted_text(app, world):
    world.meeting.title = XSS
    world.meeting.place = '"><img src=x onerror=alert(2)>'
    world.items[0].title = XSS
    world.delegate.full_name = f"Nguyễn {XSS}"
    db.session.commit()
    for path in ("/", f"/meetings/{world.meeting.id}"):
        html = login(app, "delegate").get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_meeting_page_refuses_those_who_may_not_see_it(app, world):
    draft, foreign, _ = _extra_meetings(world)
    assert login(app, "outsider").get(f"/meetings/{world.meeting.id}").status_code == 404
    delegate = login(app, "delegate")
    for mid in (draft.id, foreign.id, 999999):
        assert delegate.get(f"/meetings/{mid}").status_code == 404
    assert login(app, "chair").get(f"/meetings/{draft.id}").status_code == 200
    assert login(app, "archivist").get(f"/meetings/{foreign.id}").status_code == 200


def _doc(world, title, *, item=None, published=True, current=True, version=1):
    d = Document(meeting_id=world.meeting.id, agenda_item_id=item.id if item else None, title=title,
                 filename=f"{title}.pdf", sha256="0" * 64, size=2048, page_count=3, version=version,
                 is_current=current, published=published)
    db.session.add(d)
    db.session.flush()
    return d


def test_documents_under_items_published_only_for_delegates(app, world):
    i1 = world.items[0]
    shown = _doc(world, "Tờ trình số 01", item=i1)
    draft_doc = _doc(world, "Dự thảo nghị quyết", item=i1, published=False)
    old = _doc(world, "Tờ trình cũ", item=i1, current=False)
    general = _doc(world, "Chương trình chi tiết")
    db.session.commit()
    html = login(app, "delegate").get(f"/meetings/{world.meeting.id}").get_data(as_text=True)
    assert f'href="/api/v1/documents/{shown.id}/file"' in html and "Tờ trình số 01" in html
    assert "Dự thảo nghị quyết" not in html and f"/api/v1/documents/{draft_doc.id}/" not in html
    assert "Tờ trình cũ" not in html and f"/api/v1/documents/{old.id}/" not in html
    assert "Tài liệu chung" in html and f'href="/api/v1/documents/{general.id}/file"' in html
    # The document sits under its item, before the next item.
    assert html.index("Tờ trình số 01") < html.index(">Nội dung 2<")
    html = login(app, "secretary").get(f"/meetings/{world.meeting.id}").get_data(as_text=True)
    assert "Dự thảo nghị quyết" in html and "Chưa công bố" in html and "Tờ trình cũ" not in html
    html = login(app, "observer").get(f"/meetings/{world.meeting.id}").get_data(as_text=True)
    assert "Dự thảo nghị quyết" not in html and "Tờ trình số 01" in html


def test_touch_targets_are_at_least_44px():
    """Every link the agenda pages are tapped through has a 44 px minimum height."""
    css = (PROJECT_ROOT / "static" / "css" / "app.css").read_text("utf-8")
    for selector in (".meeting-card", ".item-doc", ".back"):
        rule = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
        assert rule and "min-height:44px" in rule.group(1).replace(" ", ""), selector
