"""Tablet enrolment: one-time links (QR codes) that sign a tablet in as one delegate, without a password.

Issued for a meeting's participants by those preparing it; opened (GET, consumes nothing), confirmed
(POST with the page's CSRF token, once); the tablet then holds an ordinary browser session in the
device list, ended by the device list, "sign out everywhere" or revoking the link. The real browser
and its socket: tests/browser/test_enrolment_browser.py.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from meetings.accounts import enrolment
from meetings.accounts.enrolment_models import EnrolmentLink
from meetings.accounts.factor_models import SecondFactor
from meetings.accounts.service import create_user
from meetings.accounts.session_models import UserSession
from meetings.bodies.models import Body, Meeting, Participant
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from tests.factories import PASSWORD

TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X200) Tablet"


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def tablet(app):
    """A fresh browser (test client) with CSRF on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = TABLET
    return c


def issue(as_user, world, who: str = "secretary", **body) -> dict:
    r = as_user(who).post(f"/api/v1/meetings/{world.meeting.id}/enrolment-links", json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def url_of(sheet: dict, user_id: int) -> str:
    """The path of a delegate's link (the answer has the absolute URL)."""
    url = next(i["url"] for i in sheet["issued"] if i["user_id"] == user_id)
    return "/" + url.split("/", 3)[3]


def enrol(client, path: str):
    """Open the link, then tap the button: the page's form, with its CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": _csrf(page.get_data(as_text=True))})


def audits(action: str) -> int:
    db.session.remove()
    return db.session.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == action)).scalar_one()


def live_sessions(user_id: int) -> list[UserSession]:
    db.session.remove()
    return list(db.session.execute(select(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None))).scalars())


# --------------------------------------------------------------------------- issuing

def test_the_secretary_issues_links_for_the_meetings_participants_in_one_call(as_user, world):
    sheet = issue(as_user, world)
    issued = {i["user_id"] for i in sheet["issued"]}
    assert issued == {world.delegate.id, world.delegate2.id, world.chair.id, world.observer.id}
    # The secretary prepares meetings: a password (and a second factor), never a link.
    assert sheet["skipped"] == [{"user_id": world.secretary.id, "full_name": "Người dùng secretary",
                                 "reason": "prepares_meetings"}]
    secret = url_of(sheet, world.delegate.id).rsplit("/", 1)[1]
    assert len(secret) >= 43  # 32 random bytes, 256 bits
    db.session.remove()
    rows = db.session.execute(select(EnrolmentLink)).scalars().all()
    assert len(rows) == 4 and all(secret not in (r.secret_hash, r.label, r.context) for r in rows)
    assert {r.context for r in rows} == {f"meeting-{world.meeting.id}"} and {r.issued_by_id for r in rows} == {
        world.secretary.id}
    assert audits("enrolment.issued") == 1  # one entry for the batch, naming every link
    listed = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/enrolment-links").json
    states = {r["user_id"]: (r["link"] or {}).get("status") for r in listed}
    assert states[world.delegate.id] == "pending" and states[world.secretary.id] is None
    assert "url" not in str(listed)  # only hashes are kept: the list cannot show a secret


def test_a_meetings_links_end_with_the_meeting(as_user, world):
    sheet = issue(as_user, world, user_ids=[world.delegate.id])
    expires = sheet["issued"][0]["link"]["expires_at"]
    meeting = db.session.get(Meeting, world.meeting.id)
    assert expires.startswith((meeting.starts_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))


def test_only_participants_of_the_meeting_get_links(as_user, world):
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/enrolment-links",
                                  json={"user_ids": [world.outsider.id]})
    assert r.status_code == 422 and r.json["error"]["details"] == {"user_ids": [world.outsider.id]}
    assert audits("enrolment.issued") == 0


def test_who_may_issue(as_user, world, app):
    path = f"/api/v1/meetings/{world.meeting.id}/enrolment-links"
    assert as_user("delegate").post(path, json={}).status_code == 403
    assert as_user("chair").post(path, json={}).status_code == 403
    assert as_user("outsider").post(path, json={}).status_code == 404
    # The secretary of another body's meeting: this meeting does not exist for them.
    other = create_user(db.session, "thuky2", PASSWORD, "Thư ký khác")
    body = Body(name="Hội đồng nhân dân xã Khác")
    db.session.add(body)
    db.session.flush()
    meeting = Meeting(body_id=body.id, title="Họp khác", starts_at=utcnow() + timedelta(days=2),
                      status="scheduled", created_by_id=other.id)
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Participant(meeting_id=meeting.id, user_id=other.id, role="secretary"))
    db.session.commit()
    assert as_user.__class__(app, type(world)(body=body, meeting=meeting, users={"thuky2": other}))(
        "thuky2").post(path, json={}).status_code == 404
    assert as_user("admin").post(path, json={}).status_code == 201
    assert audits("enrolment.issued") == 1  # the admin's only


def test_a_closed_meeting_enrols_no_tablets(as_user, world):
    from tests.factories import move_meeting

    move_meeting(db.session, world.meeting, world.secretary, "closed")
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/enrolment-links", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_closed"


def test_an_administrator_issues_for_one_account_but_never_for_an_admin(as_user, world, app):
    r = as_user("admin").post(f"/api/v1/users/{world.delegate.id}/enrolment-links")
    assert r.status_code == 201 and r.json["qr_svg"].startswith("data:image/svg+xml")
    path = "/" + r.json["url"].split("/", 3)[3]
    assert enrol(tablet(app), path).status_code == 302
    for name in ("admin", "archivist", "secretary"):
        refused = as_user("admin").post(f"/api/v1/users/{world.users[name].id}/enrolment-links")
        assert refused.status_code == 403 and refused.json["error"]["code"] == "not_enrollable", name
    assert as_user("secretary").post(f"/api/v1/users/{world.delegate.id}/enrolment-links").status_code == 403
    assert as_user("outsider").post(f"/api/v1/users/{world.delegate.id}/enrolment-links").status_code == 404


def test_a_second_factor_is_never_replaced_by_a_link(as_user, world, app):
    sheet = issue(as_user, world, user_ids=[world.delegate.id, world.delegate2.id])
    # delegate2 sets up an authenticator after the sheet was printed: their link no longer works.
    db.session.add(SecondFactor(user_id=world.delegate2.id, kind="totp", totp_secret="JBSWY3DPEHPK3PXP",
                                confirmed_at=utcnow()))
    db.session.commit()
    c = tablet(app)
    page = c.get(url_of(sheet, world.delegate2.id))
    assert page.status_code == 403 and 'data-reason="not_enrollable"' in page.get_data(as_text=True)
    assert live_sessions(world.delegate2.id) == []
    again = issue(as_user, world, user_ids=[world.delegate2.id])
    assert again["issued"] == [] and again["skipped"][0]["reason"] == "second_factor"
    # A role that requires a second factor (MFA_REQUIRED_ROLES) is refused too, factor or not.
    app.config["MFA_REQUIRED_ROLES"] = "admin,secretariat,signer"
    with app.app_context():
        assert enrolment.refusal(db.session, db.session.get(type(world.delegate), world.delegate.id)) is None
        app.config["MFA_REQUIRED_ROLES"] = "everyone"  # an unknown role fails closed
        assert enrolment.refusal(db.session, db.session.get(type(world.delegate), world.delegate.id)) == \
            "second_factor"


# --------------------------------------------------------------------------- using

def test_opening_the_link_consumes_nothing_and_the_button_signs_the_tablet_in(as_user, world, app):
    path = url_of(issue(as_user, world), world.delegate.id)
    c = tablet(app)
    for _ in range(3):  # a link previewer, the scanner, the tablet: GETs change nothing
        page = c.get(path)
        assert page.status_code == 200 and "Dùng máy tính bảng này cho Người dùng delegate" in page.get_data(
            as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
    assert live_sessions(world.delegate.id) == [] and audits("enrolment.used") == 0
    assert c.get(f"/meetings/{world.meeting.id}/room").status_code == 302  # not signed in yet
    r = c.post(path, data={"csrf_token": _csrf(c.get(path).get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/meetings/{world.meeting.id}/room")
    assert c.get(f"/meetings/{world.meeting.id}/room").status_code == 200
    assert c.get("/api/v1/users/me").json["id"] == world.delegate.id
    (row,) = live_sessions(world.delegate.id)
    assert row.label == "Cấp qua liên kết (người cấp: Người dùng secretary)"
    link = db.session.execute(select(EnrolmentLink).where(EnrolmentLink.user_id == world.delegate.id)).scalar_one()
    assert link.used_at is not None and link.device == f"session-{row.id}"
    assert audits("enrolment.used") == 1
    # The delegate's device list shows it, as any device.
    devices = as_user("delegate").get("/api/v1/users/me/devices").json
    assert any(d["id"] == link.device and d["label"].startswith("Cấp qua liên kết") for d in devices)


def test_a_link_is_good_once(as_user, world, app):
    path = url_of(issue(as_user, world), world.delegate.id)
    first, second = tablet(app), tablet(app)
    token = _csrf(second.get(path).get_data(as_text=True))  # both opened it before either tapped
    assert enrol(first, path).status_code == 302
    r = second.post(path, data={"csrf_token": token})
    assert r.status_code == 410 and 'data-reason="used"' in r.get_data(as_text=True)
    assert second.get("/api/v1/users/me").status_code == 401
    assert len(live_sessions(world.delegate.id)) == 1 and audits("enrolment.used") == 1
    assert first.get(path).status_code == 410  # even for the tablet it enrolled


def test_two_tablets_racing_on_one_link_get_one_session(as_user, world, app, monkeypatch):
    """Both read the link as unused before either wrote: the conditional write lets one through."""
    path = url_of(issue(as_user, world), world.delegate.id)
    first, second = tablet(app), tablet(app)
    token = _csrf(second.get(path).get_data(as_text=True))
    assert enrol(first, path).status_code == 302
    monkeypatch.setattr(enrolment, "status_of", lambda link, now=None: "pending")  # the stale read
    r = second.post(path, data={"csrf_token": token})
    assert r.status_code == 410 and 'data-reason="used"' in r.get_data(as_text=True)
    assert len(live_sessions(world.delegate.id)) == 1 and audits("enrolment.used") == 1


def test_an_expired_link_is_refused(as_user, world, app, monkeypatch):
    path = url_of(issue(as_user, world), world.delegate.id)
    later = utcnow() + timedelta(days=8)
    monkeypatch.setattr(enrolment, "utcnow", lambda: later)
    c = tablet(app)
    page = c.get(path)
    assert page.status_code == 410 and 'data-reason="expired"' in page.get_data(as_text=True)
    assert live_sessions(world.delegate.id) == []


def test_unknown_links_and_forms_without_the_csrf_token(as_user, world, app):
    c = tablet(app)
    page = c.get("/enrol/" + "x" * 43)
    assert page.status_code == 404 and 'data-reason="unknown"' in page.get_data(as_text=True)
    path = url_of(issue(as_user, world), world.delegate.id)
    assert c.post(path, data={}).status_code == 400  # a forged cross-site form consumes nothing
    assert live_sessions(world.delegate.id) == [] and enrol(c, path).status_code == 302


def test_opening_a_link_on_a_signed_in_tablet_replaces_that_session(as_user, world, app):
    sheet = issue(as_user, world)
    c = tablet(app)
    assert enrol(c, url_of(sheet, world.delegate.id)).status_code == 302
    page = c.get(url_of(sheet, world.delegate2.id)).get_data(as_text=True)
    assert "Máy đang đăng nhập cho Người dùng delegate" in page
    assert c.post(url_of(sheet, world.delegate2.id), data={"csrf_token": _csrf(page)}).status_code == 302
    assert c.get("/api/v1/users/me").json["id"] == world.delegate2.id
    assert live_sessions(world.delegate.id) == []


def test_the_page_speaks_the_delegates_language(as_user, world, app):
    db.session.get(type(world.delegate), world.delegate.id).locale = "en"
    db.session.commit()
    page = tablet(app).get(url_of(issue(as_user, world), world.delegate.id)).get_data(as_text=True)
    assert "Use this tablet for Người dùng delegate" in page and '<html lang="en">' in page


def test_opening_links_is_rate_limited_per_address(as_user, world, app):
    app.config["ENROLMENT_RATE_LIMIT"] = "3 per minute"
    c = tablet(app)
    codes = [c.get("/enrol/" + "y" * 43).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


# --------------------------------------------------------------------------- ending

def test_reissuing_voids_the_unused_link(as_user, world, app):
    old = url_of(issue(as_user, world), world.delegate.id)
    new = url_of(issue(as_user, world, user_ids=[world.delegate.id]), world.delegate.id)
    page = tablet(app).get(old)
    assert page.status_code == 410 and 'data-reason="revoked"' in page.get_data(as_text=True)
    assert enrol(tablet(app), new).status_code == 302


def test_a_link_revoked_before_use_is_refused(as_user, world, app):
    sheet = issue(as_user, world)
    link_id = next(i["link"]["id"] for i in sheet["issued"] if i["user_id"] == world.delegate.id)
    path = f"/api/v1/meetings/{world.meeting.id}/enrolment-links/{link_id}"
    assert as_user("delegate").delete(path).status_code == 403
    assert as_user("outsider").delete(path).status_code == 404
    r = as_user("secretary").delete(path)
    assert r.status_code == 200 and r.json == {"device_ended": False}
    assert audits("enrolment.revoked") == 1
    page = tablet(app).get(url_of(sheet, world.delegate.id))
    assert page.status_code == 410 and 'data-reason="revoked"' in page.get_data(as_text=True)


@pytest.mark.parametrize("how", ["device list", "sign out everywhere", "revoke the link", "admin revokes the link"])
def test_ending_the_enrolled_tablet(as_user, world, app, how):
    sheet = issue(as_user, world)
    c = tablet(app)
    assert enrol(c, url_of(sheet, world.delegate.id)).status_code == 302
    link_id = next(i["link"]["id"] for i in sheet["issued"] if i["user_id"] == world.delegate.id)
    (row,) = live_sessions(world.delegate.id)
    if how == "device list":
        assert as_user("delegate").delete(f"/api/v1/users/me/devices/session-{row.id}").status_code == 204
    elif how == "sign out everywhere":
        r = as_user("admin").post(f"/api/v1/users/{world.delegate.id}/sessions/revoke")
        assert r.status_code == 200
    elif how == "revoke the link":
        r = as_user("secretary").delete(f"/api/v1/meetings/{world.meeting.id}/enrolment-links/{link_id}")
        assert r.json == {"device_ended": True}
    else:
        assert as_user("chair").delete(f"/api/v1/enrolment-links/{link_id}").status_code == 404  # not the issuer
        assert as_user("admin").delete(f"/api/v1/enrolment-links/{link_id}").json == {"device_ended": True}
    r = c.get("/api/v1/users/me")
    assert r.status_code == 401 and r.headers["Clear-Site-Data"] == '"cache", "storage"'
    page = c.get(f"/meetings/{world.meeting.id}/room")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert live_sessions(world.delegate.id) == []


# --------------------------------------------------------------------------- the sheet

def test_the_printable_sheet_has_one_qr_code_per_delegate_and_its_links_work(app, world):
    from tests.test_sessions import browser

    secretary = browser(app, "secretary")
    page = secretary.get(f"/meetings/{world.meeting.id}/tablets")
    assert page.status_code == 200 and "console/enrol.js" in page.get_data(as_text=True)
    r = secretary.post(f"/meetings/{world.meeting.id}/enrolment-sheet", data={"csrf_token": secretary.csrf})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert html.count("<svg") == 4 and html.count('class="enrol-card"') == 4
    assert "Người dùng delegate" in html and "Thành viên" in html  # name and position
    assert f'data-user-id="{world.secretary.id}" data-reason="prepares_meetings"' in html
    assert "Người dùng secretary <span class=\"muted\">(người chuẩn bị cuộc họp)</span>" in html  # and why
    url = html.split('class="url">')[1].split("<")[0]
    assert enrol(tablet(app), "/" + url.split("/", 3)[3]).status_code == 302
    assert secretary.post(f"/meetings/{world.meeting.id}/enrolment-sheet", data={}).status_code == 400
    delegate = browser(app, "delegate")
    assert delegate.post(f"/meetings/{world.meeting.id}/enrolment-sheet",
                         data={"csrf_token": delegate.csrf}).status_code == 403
    assert delegate.get(f"/meetings/{world.meeting.id}/tablets").status_code == 403
