"""Server-side sessions: logout, password change, deactivation and "sign out everywhere" end every
session and token; idle and absolute timeouts; the device list; the password policy; per-account
lockout beside a per-address limit a hall of tablets fits in. Sockets: tests/test_sessions_socket.py."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from meetings.accounts import lockout, passwords, sessions
from meetings.accounts.models import ApiToken, User
from meetings.accounts.service import hash_password, issue_token
from meetings.accounts.session_models import LoginThrottle, UserSession
from meetings.core.config import load_settings
from meetings.core.db import utcnow
from meetings.core.extensions import db
from tests.factories import PASSWORD

NEW_PASSWORD = "mua-thu-la-vang-9"
TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X200) Tablet"


def _csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def browser(app, name: str, password: str = PASSWORD, agent: str = TABLET):
    """A test client logged in through the /login form (CSRF on, as in production)."""
    app.config["WTF_CSRF_ENABLED"] = True
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = agent
    r = c.post("/login", data={"username": name, "password": password, "csrf_token": _csrf(c)})
    assert r.status_code == 302, r.get_data(as_text=True)
    c.csrf = _csrf(c)
    return c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(app, name: str, password: str = PASSWORD) -> str:
    r = app.test_client().post("/api/v1/auth/token", json={"username": name, "password": password})
    assert r.status_code == 201, r.json
    return r.json["token"]


def me(client, token: str | None = None) -> int:
    return client.get("/api/v1/users/me", headers=bearer(token) if token else {}).status_code


# --------------------------------------------------------------------------- browser sessions

def test_a_cookie_replayed_after_logout_is_refused_and_told_to_wipe(app, world):
    tablet = browser(app, "delegate")
    assert me(tablet) == 200
    stolen = tablet.get_cookie("session").value
    r = tablet.post("/logout", data={"csrf_token": tablet.csrf})
    assert r.status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    r = replay.get("/api/v1/users/me")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert r.headers["Clear-Site-Data"] == '"cache", "storage"'
    # The page answers the same way: to the login form, with the wipe.
    page = replay.get(f"/meetings/{world.meeting.id}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    row = db.session.execute(select(UserSession)).scalar_one()
    assert row.ended_at is not None and row.end_reason == "logout"


def test_a_cookie_without_a_server_side_session_is_refused(app, world):
    """A cookie forged with the secret key but no session row (or an old, pre-sessions cookie) logs no one in."""
    c = app.test_client()
    with c.session_transaction() as s:
        s["_user_id"] = str(world.admin.id)
        s["_fresh"] = True
    assert me(c) == 401


def test_idle_and_absolute_timeouts_end_sessions_and_tokens(app, world):
    idle = browser(app, "delegate")
    old = browser(app, "chair")
    idle_token, old_token = token_for(app, "delegate"), token_for(app, "chair")
    assert {me(idle), me(old), me(app.test_client(), idle_token), me(app.test_client(), old_token)} == {200}
    minutes = app.config["SESSION_IDLE_MINUTES"]
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    rows = {r.user_id: r for r in db.session.execute(select(UserSession)).scalars()}
    rows[world.delegate.id].last_seen_at = utcnow() - timedelta(minutes=minutes + 1)
    # Seen a minute ago, but logged in longer ago than the absolute limit.
    rows[world.chair.id].created_at = utcnow() - timedelta(hours=hours, minutes=1)
    rows[world.chair.id].last_seen_at = utcnow() - timedelta(minutes=1)
    tokens = {t.user_id: t for t in db.session.execute(select(ApiToken)).scalars()}
    tokens[world.delegate.id].last_seen_at = utcnow() - timedelta(minutes=minutes + 1)
    tokens[world.chair.id].created_at = utcnow() - timedelta(hours=hours, minutes=1)
    db.session.commit()
    assert [me(idle), me(old)] == [401, 401]
    assert [me(app.test_client(), idle_token), me(app.test_client(), old_token)] == [401, 401]


def test_use_keeps_a_session_alive_and_is_written_outside_the_read(app, world):
    tablet = browser(app, "delegate")
    row = db.session.execute(select(UserSession)).scalar_one()
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    db.session.commit()
    assert me(tablet) == 200  # a GET: the last-seen time is written by its own unit of work
    db.session.expire_all()
    assert utcnow() - db.session.get(UserSession, row.id).last_seen_at < timedelta(minutes=1)


# --------------------------------------------------------------------------- passwords

def test_password_change_needs_the_current_one_and_ends_every_other_session(app, world):
    keep, other = token_for(app, "delegate"), token_for(app, "delegate")
    tablet = browser(app, "delegate")
    c = app.test_client()
    r = c.post("/api/v1/users/me/password", json={"new": NEW_PASSWORD}, headers=bearer(keep))
    assert r.status_code == 422
    r = c.post("/api/v1/users/me/password", json={"current": "wrong-guess", "new": NEW_PASSWORD},
               headers=bearer(keep))
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_password"
    assert me(c, other) == 200 and me(tablet) == 200, "a refused change ends nothing"
    r = c.post("/api/v1/users/me/password", json={"current": PASSWORD, "new": "1234"}, headers=bearer(keep))
    assert r.status_code == 422 and r.json["error"]["code"] == "weak_password"
    r = c.post("/api/v1/users/me/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=bearer(keep))
    assert r.status_code == 204
    assert me(c, keep) == 200, "the credential that changed it stays"
    assert me(c, other) == 401 and me(tablet) == 401
    assert token_for(app, "delegate", NEW_PASSWORD)
    assert c.post("/api/v1/auth/token", json={"username": "delegate", "password": PASSWORD}).status_code == 401


def test_own_password_cannot_be_set_without_the_current_one(as_user, world):
    for name in ("delegate", "admin"):
        r = as_user(name).patch(f"/api/v1/users/{world.users[name].id}", json={"password": NEW_PASSWORD})
        assert r.status_code == 403 and r.json["error"]["code"] == "current_password_required"
    db.session.expire_all()
    user = db.session.get(User, world.delegate.id)
    from meetings.accounts.service import check_password

    assert check_password(user, PASSWORD)


@pytest.mark.parametrize("weak", ["1234", "password123", "qwertyuiop", "delegate-2024!", "Người dùng delegate x",
                                  "aaaaaaaaaaaaaa"])
def test_an_admin_cannot_set_a_weak_password(as_user, world, weak):
    r = as_user("admin").patch(f"/api/v1/users/{world.delegate.id}", json={"password": weak})
    assert r.status_code == 422 and r.json["error"]["code"] == "weak_password", r.json
    r = as_user("admin").post("/api/v1/users", json={"username": "delegate3", "password": weak,
                                                       "full_name": "Người dùng delegate"})
    assert r.status_code == 422, r.json


def test_an_admin_reset_ends_the_accounts_sessions(app, as_user, world):
    token, tablet = token_for(app, "delegate"), browser(app, "delegate")
    r = as_user("admin").patch(f"/api/v1/users/{world.delegate.id}", json={"password": NEW_PASSWORD})
    assert r.status_code == 200
    assert me(app.test_client(), token) == 401 and me(tablet) == 401
    assert me(as_user("admin")) == 200, "the admin's own token is not the account's"
    assert token_for(app, "delegate", NEW_PASSWORD)


def test_the_policy_refuses_short_common_and_personal_passwords():
    assert passwords.problem("1234").startswith("The password must have at least 10")
    assert "common" in passwords.problem("Password123!")
    assert "common" in passwords.problem("matkhau12345")
    assert "name" in passwords.problem("nguyenthihang-99", full_name="Nguyễn Thị Hằng")
    assert "name" in passwords.problem("xyz-chair-xyz", username="chair")
    assert passwords.problem("hoa-sen-mua-ha-7", username="delegate", full_name="Nguyễn Văn An") is None
    assert passwords.problem("advance-of-time", full_name="Trần Văn Thi") is None  # short name parts may occur


# --------------------------------------------------------------------------- deactivation, everywhere

def test_deactivation_ends_every_session_for_good(app, as_user, world):
    token, tablet = token_for(app, "delegate"), browser(app, "delegate")
    admin = as_user("admin")
    assert admin.patch(f"/api/v1/users/{world.delegate.id}", json={"active": False}).status_code == 200
    assert admin.patch(f"/api/v1/users/{world.delegate.id}", json={"active": True}).status_code == 200
    # Reactivated: the account may log in again, but the old credentials stay ended.
    assert me(app.test_client(), token) == 401 and me(tablet) == 401
    assert token_for(app, "delegate")


def test_sign_out_everywhere(app, as_user, world):
    tokens = [token_for(app, "delegate") for _ in range(2)]
    tablet = browser(app, "delegate")
    assert as_user("chair").post(f"/api/v1/users/{world.delegate.id}/sessions/revoke").status_code == 403
    r = as_user("admin").post(f"/api/v1/users/{world.delegate.id}/sessions/revoke")
    assert r.status_code == 200 and r.json["ended"] >= 3
    assert [me(app.test_client(), t) for t in tokens] == [401, 401] and me(tablet) == 401
    # One's own "everywhere" keeps the device asking.
    mine, other = token_for(app, "chair"), token_for(app, "chair")
    r = app.test_client().post(f"/api/v1/users/{world.chair.id}/sessions/revoke", headers=bearer(mine))
    assert r.status_code == 200 and r.json["ended"] >= 1
    assert me(app.test_client(), mine) == 200 and me(app.test_client(), other) == 401


# --------------------------------------------------------------------------- devices

def test_a_lost_tablet_is_listed_signed_out_and_told_to_wipe(app, world):
    tablet = browser(app, "delegate", agent=TABLET)
    phone = token_for(app, "delegate")
    c = app.test_client()
    listed = c.get("/api/v1/users/me/devices", headers=bearer(phone)).json
    kinds = {d["kind"]: d for d in listed}
    assert set(kinds) == {"session", "token"}
    assert kinds["session"]["user_agent"] == TABLET and kinds["session"]["ip_address"] == "127.0.0.1"
    assert kinds["token"]["current"] is True and kinds["session"]["current"] is False
    # Nobody else can sign it out, nor learn it exists.
    chair = token_for(app, "chair")
    assert c.delete(f"/api/v1/users/me/devices/{kinds['session']['id']}", headers=bearer(chair)).status_code == 404
    assert me(tablet) == 200
    assert c.delete(f"/api/v1/users/me/devices/{kinds['session']['id']}", headers=bearer(phone)).status_code == 204
    r = tablet.get("/api/v1/users/me")
    assert r.status_code == 401 and r.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert [d["id"] for d in c.get("/api/v1/users/me/devices", headers=bearer(phone)).json] == [kinds["token"]["id"]]
    assert c.delete(f"/api/v1/users/me/devices/{kinds['session']['id']}", headers=bearer(phone)).status_code == 404
    assert c.delete("/api/v1/users/me/devices/nonsense", headers=bearer(phone)).status_code == 404


def test_logging_in_again_replaces_the_browsers_session(app, world):
    tablet = browser(app, "delegate")
    tablet.post("/login", data={"username": "delegate", "password": PASSWORD, "csrf_token": tablet.csrf})
    rows = db.session.execute(select(UserSession).order_by(UserSession.id)).scalars().all()
    assert [r.ended_at is None for r in rows] == [False, True]


# --------------------------------------------------------------------------- throttling

def test_a_hall_of_200_tablets_behind_one_address_logs_in_within_a_minute(app, world):
    """The default per-address limit (not the suite's raised one) lets a whole hall in from one NAT address."""
    app.config["LOGIN_RATE_LIMIT"] = load_settings()["LOGIN_RATE_LIMIT"]
    shared = hash_password(PASSWORD)  # one hash for all: argon2 per user would only slow the test
    db.session.add_all([User(username=f"tablet{i}", full_name=f"Đại biểu {i}", password_hash=shared)
                        for i in range(200)])
    db.session.commit()
    c = app.test_client()
    started = time.monotonic()
    codes = [c.post("/api/v1/auth/token", json={"username": f"tablet{i}", "password": PASSWORD}).status_code
             for i in range(200)]
    assert codes == [201] * 200, {code: codes.count(code) for code in codes}
    assert time.monotonic() - started < 60, "the limit's window is a minute"


def test_wrong_passwords_lock_only_that_account(app, world):
    c = app.test_client()
    codes = [c.post("/api/v1/auth/token", json={"username": "chair", "password": f"guess-{i}"}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]
    locked = c.post("/api/v1/auth/token", json={"username": "chair", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json["error"]["code"] == "account_locked"
    assert locked.json["error"]["details"]["retry_after"] > 0
    # Same address, another account: in.
    assert c.post("/api/v1/auth/token", json={"username": "delegate", "password": PASSWORD}).status_code == 201
    # The form says so too.
    app.config["WTF_CSRF_ENABLED"] = False
    page = c.post("/login", data={"username": "chair", "password": PASSWORD})
    assert page.status_code == 429 and "Too many failed attempts" in page.get_data(as_text=True)
    # The lock passes; the right password then clears the count.
    row = db.session.get(LoginThrottle, "chair")
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert c.post("/api/v1/auth/token", json={"username": "chair", "password": PASSWORD}).status_code == 201
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "chair") is None


def test_unknown_names_are_counted_like_real_ones(app, world):
    c = app.test_client()
    codes = [c.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_the_lock_doubles_with_each_failure_up_to_the_cap():
    assert [lockout.lock_seconds(n, 5, 30, 900) for n in (1, 4, 5, 6, 7, 9, 20)] == [0, 0, 30, 60, 120, 480, 900]


def test_a_wrong_current_password_counts_towards_the_lockout(app, world):
    token = token_for(app, "delegate")
    c = app.test_client()
    for i in range(5):
        r = c.post("/api/v1/users/me/password", json={"current": f"guess-{i}", "new": NEW_PASSWORD},
                   headers=bearer(token))
        assert r.status_code == 403
    r = c.post("/api/v1/users/me/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=bearer(token))
    assert r.status_code == 429


def test_tokens_and_sessions_are_stored_only_as_hashes(app, world):
    clear, _ = issue_token(db.session, world.delegate, 1)
    db.session.commit()
    browser(app, "delegate")
    row = db.session.execute(select(UserSession)).scalar_one()
    assert len(row.session_hash) == 64 and sessions.live_session(db.session, "not-it") is None
    assert db.session.execute(select(ApiToken.token_hash)).scalars().all()[0] == sessions.digest(clear)
