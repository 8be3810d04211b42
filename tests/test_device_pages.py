""""My devices" in the browser: a tablet enrolled by QR code is listed with its label and signed out from
the page by its own delegate, without the REST API; nobody signs out another's device; the page speaks the
user's language. The device list's API: tests/test_sessions.py."""
from __future__ import annotations

from tests.test_enrolment import enrol, issue, tablet, url_of
from tests.test_sessions import TABLET, browser


def _page(client) -> str:
    r = client.get("/devices")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _row_of(html: str, label_start: str) -> str:
    """The device id of the row whose label starts so."""
    for chunk in html.split('<tr data-device="')[1:]:
        if f"<strong>{label_start}" in chunk:
            return chunk.split('"')[0]
    raise AssertionError(f"no row labelled {label_start!r}")


def test_an_enrolled_tablet_is_signed_out_from_my_devices(app, as_user, world):
    hall_tablet = tablet(app)
    assert enrol(hall_tablet, url_of(issue(as_user, world), world.delegate.id)).status_code == 302
    assert hall_tablet.get("/api/v1/users/me").status_code == 200
    own = browser(app, "delegate", agent="Mozilla/5.0 (X11; Linux x86_64) Laptop")
    html = _page(own)
    assert "Thiết bị của tôi" in html and "Thiết bị này" in html and "Laptop" in html
    device = _row_of(html, "Cấp qua liên kết (người cấp: Người dùng secretary)")

    # Another user cannot end it, even with a good form of their own.
    other = browser(app, "delegate2")
    r = other.post(f"/devices/{device}/sign-out", data={"csrf_token": other.csrf})
    assert r.status_code == 302 and hall_tablet.get("/api/v1/users/me").status_code == 200
    assert "Thiết bị đó đã được đăng xuất." in _page(other)
    # Without the form's CSRF token nothing happens.
    assert own.post(f"/devices/{device}/sign-out").status_code == 400
    assert hall_tablet.get("/api/v1/users/me").status_code == 200

    r = own.post(f"/devices/{device}/sign-out", data={"csrf_token": own.csrf})
    assert r.status_code == 302 and r.headers["Location"].endswith("/devices")
    gone = hall_tablet.get("/api/v1/users/me")
    assert gone.status_code == 401 and gone.headers["Clear-Site-Data"] == '"cache", "storage"'
    html = _page(own)
    assert "Đã đăng xuất thiết bị" in html and 'data-device="' + device not in html


def test_sign_out_the_others_keeps_this_one_and_ending_this_one_ends_the_page(app, world):
    tablet = browser(app, "delegate", agent=TABLET)
    own = browser(app, "delegate", agent="Laptop")
    r = own.post("/devices/sign-out-others", data={"csrf_token": own.csrf})
    assert r.status_code == 302
    assert tablet.get("/api/v1/users/me").status_code == 401
    html = _page(own)
    assert "Đã đăng xuất 1 thiết bị khác." in html and html.count('<tr data-device="') == 1
    this = html.split('<tr data-device="')[1].split('"')[0]
    r = own.post(f"/devices/{this}/sign-out", data={"csrf_token": own.csrf})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert own.get("/devices").status_code == 302  # to /login: the page's own session ended


def test_the_page_in_english(app, world):
    from meetings.accounts.models import User
    from meetings.core.extensions import db

    db.session.get(User, world.delegate.id).locale = "en"
    db.session.commit()
    html = _page(browser(app, "delegate"))
    assert "My devices" in html and "This device" in html and "Thiết bị của tôi" not in html
