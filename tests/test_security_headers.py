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
