"""Security headers and cookie flags on pages and API answers."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/healthz", "/api/v1/nope"])
def test_every_answer_has_security_headers(client, path):
    r = client.get(path)
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def _login(client):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": "delegate", "password": PASSWORD, "csrf_token": token})


def test_session_cookie_is_httponly_and_samesite(client, world):
    r = _login(client)
    cookies = [v for k, v in r.headers.items() if k.lower() == "set-cookie" and v.startswith("session=")]
    assert cookies, "login must set the session cookie"
    flags = cookies[-1].lower()
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # plain http in the embedded default; see next test


def test_session_cookie_secure_when_configured(app, world):
    app.config["SESSION_COOKIE_SECURE"] = True
    r = _login(app.test_client())
    cookie = [v for k, v in r.headers.items() if k.lower() == "set-cookie" and v.startswith("session=")][-1]
    assert "secure" in cookie.lower()


def test_login_redirect_refuses_other_sites(client, world):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login?next=https://evil.example/steal",
                    data={"username": "delegate", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    assert "evil.example" not in r.headers["Location"]


# ------------------------------------------------------------------ every kind of answer

def assert_security_headers(r) -> None:
    """The headers every answer carries, whatever its kind (HTML, JSON, error, PDF, script, redirect)."""
    csp = r.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert "'unsafe-inline'" not in directives.get("script-src", []) and "'unsafe-eval'" not in directives.get(
        "script-src", []), csp
    assert directives.get("script-src") and directives.get("object-src") == ["'none'"], csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def _document_id(app, world) -> int:
    from meetings.core.extensions import db
    from tests.annotation_helpers import add_doc

    return add_doc(db.session, app, db.session.get(type(world.meeting), world.meeting.id), world.secretary).id


def test_headers_on_json_errors(as_user, world):
    mid = world.meeting.id
    answers = {
        "401": as_user(None).get("/api/v1/users/me"),
        "403": as_user("delegate").patch(f"/api/v1/meetings/{mid}", json={"place": "x"}),
        "404": as_user("outsider").get(f"/api/v1/meetings/{mid}"),
        "405": as_user("delegate").put("/api/v1/users/me"),
        "422": as_user("secretary").patch(f"/api/v1/meetings/{mid}", json={"starts_at": "soon"}),
        "409": as_user("chair").post(f"/api/v1/meetings/{mid}/status", json={"status": "closed"}),
    }
    for code, r in answers.items():
        assert str(r.status_code) == code and r.is_json, (code, r.status_code, r.get_data(as_text=True)[:200])
        assert_security_headers(r)


def test_headers_on_pdf_downloads(app, as_user, world):
    doc_id = _document_id(app, world)
    for path in (f"/api/v1/documents/{doc_id}/file", f"/api/v1/documents/{doc_id}/annotated"):
        r = as_user("delegate").get(path)
        assert r.status_code == 200 and r.mimetype == "application/pdf", path
        assert_security_headers(r)
    ranged = as_user("delegate").get(f"/api/v1/documents/{doc_id}/file", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206
    assert_security_headers(ranged)


def test_headers_on_pages_scripts_and_vendor_files(as_user, client, world):
    mid = world.meeting.id
    delegate = as_user("delegate")
    answers = [delegate.get("/"), delegate.get(f"/meetings/{mid}"), delegate.get(f"/meetings/{mid}/room"),
               as_user("outsider").get(f"/meetings/{mid}"),        # HTML 404
               as_user("delegate").get(f"/meetings/{mid}/console"),  # HTML 403
               client.get(f"/meetings/{mid}"),                      # redirect to /login
               client.get("/sw.js"), client.get("/static/js/app.js"),
               client.get("/vendor/pdfjs-dist/build/pdf.mjs"), client.get("/vendor/pdfjs-dist/nope.js")]
    assert [r.status_code for r in answers] == [200, 200, 200, 404, 403, 302, 200, 200, 200, 404]
    for r in answers:
        assert_security_headers(r)


def test_the_import_map_is_the_one_inline_script_the_csp_allows(as_user, world):
    """The room's modules import @noble/… through the page's import map; the CSP allows it by its hash."""
    from meetings.web.pages import import_map_csp_source, import_map_json

    r = as_user("delegate").get(f"/meetings/{world.meeting.id}/room")
    html = r.get_data(as_text=True)
    assert f'<script type="importmap">{import_map_json()}</script>' in html
    assert html.index('type="importmap"') < html.index('type="module"'), "the map must precede every module"
    csp = r.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'", import_map_csp_source()]


def _form_login(client, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": "chair", "password": password, "csrf_token": token})


def test_login_form_is_throttled(app, world):
    """The /login form shares the throttle of the token endpoint's kind: after the limit, even the
    right password is refused until the window passes, and nothing logs in."""
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    c = app.test_client()
    assert [_form_login(c, "sai").status_code for _ in range(2)] == [401, 401]
    limited = _form_login(c, PASSWORD)
    assert limited.status_code == 429
    assert_security_headers(limited)
    assert c.get("/").status_code == 302, "a throttled login must not log in"
    assert c.get("/login").status_code == 200, "the form itself stays reachable"
