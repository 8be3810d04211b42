"""Accounts: tokens, login pages, throttling, user administration."""
from __future__ import annotations

from tests.factories import PASSWORD


def test_token_issue_use_and_revoke(client, world):
    r = client.post("/api/v1/auth/token", json={"username": "delegate", "password": PASSWORD})
    assert r.status_code == 201
    token = r.json["token"]
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["username"] == "delegate"
    assert client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    again = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    assert again.json["error"]["code"] == "unauthorized"


def test_wrong_password_is_a_clear_401(client, world):
    r = client.post("/api/v1/auth/token", json={"username": "delegate", "password": "nope"})
    assert r.status_code == 401
    assert r.json["error"]["code"] == "bad_credentials"
    r = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope"})
    assert r.status_code == 401


def test_malformed_token_request_is_422(client, world):
    r = client.post("/api/v1/auth/token", json={"username": 5})
    assert r.status_code == 422
    assert r.json["error"]["code"] == "invalid"


def test_expired_token_is_refused(client, world):
    from datetime import timedelta

    from meetings.accounts.service import issue_token
    from meetings.core.db import utcnow
    from meetings.core.extensions import db

    clear, row = issue_token(db.session, world.delegate, 1)
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 401


def test_unknown_route_and_method_are_json(client, world):
    r = client.get("/api/v1/does-not-exist")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.put("/api/v1/users/me")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"


def test_only_admin_creates_users(as_user):
    body = {"username": "newbie", "password": "hoa-sen-mua-ha-7", "full_name": "Nguyễn Văn Mới"}
    assert as_user("secretary").post("/api/v1/users", json=body).status_code == 403
    r = as_user("admin").post("/api/v1/users", json=body)
    assert r.status_code == 201 and r.json["full_name"] == "Nguyễn Văn Mới"
    assert as_user("admin").post("/api/v1/users", json=body).status_code == 409


def test_browser_login_needs_csrf_and_logs_in(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    c = app.test_client()
    r = c.post("/login", data={"username": "delegate", "password": PASSWORD})
    assert r.status_code == 400  # no CSRF token
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/login", data={"username": "delegate", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    assert c.get("/api/v1/users/me").json["username"] == "delegate"


def test_cookie_session_api_writes_need_csrf(app, world):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    body = {"username": "x1", "password": "hoa-sen-mua-ha-7", "full_name": "X"}
    assert c.post("/api/v1/users", json=body).status_code == 400
    assert c.post("/api/v1/users", json=body, headers={"X-CSRFToken": token}).status_code == 201


def test_login_is_throttled(app, world):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    c = app.test_client()
    codes = [c.post("/api/v1/auth/token", json={"username": "chair", "password": "bad"}).status_code
             for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]
    limited = c.post("/api/v1/auth/token", json={"username": "chair", "password": "bad"})
    assert limited.json["error"]["code"] == "too_many_requests"


def test_healthz_reports_database_and_storage(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json["checks"] == {"database": "ok", "storage": "ok"}
