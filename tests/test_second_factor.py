"""Second factor: TOTP, recovery codes, WebAuthn, the login's second step, enforcement per role.

The clock of the TOTP check is moved by hand (``clock.step()``: the next 30-second window), so a
code and its replay are tested without waiting. WebAuthn runs against tests/webauthn_helpers.py's
software authenticator (a P-256 key made here, authenticator data and signatures built by hand).
"""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from meetings.accounts import second_factor
from meetings.accounts.models import ApiToken, User
from meetings.bodies.models import BodyMember
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.minutes.models import SignerKey
from meetings.platform.audit.models import AuditEntry
from tests.factories import PASSWORD
from tests.webauthn_helpers import SoftAuthenticator

TOKEN = "/api/v1/auth/token"
STEP = "/api/v1/auth/token/second-factor"


class Clock:
    """The TOTP check's clock: real time plus whole 30-second windows."""

    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset

    def step(self):
        self.offset += timedelta(seconds=30)


@pytest.fixture
def clock(app, world, monkeypatch):
    app.config["MFA_REQUIRED_ROLES"] = "admin,secretariat,signer"
    tick = Clock()
    monkeypatch.setattr(second_factor, "utcnow", tick)
    return tick


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock())


def enrol_totp(as_user, name: str, clock: Clock) -> tuple[str, list[str]]:
    client = as_user(name)
    started = client.post("/api/v1/users/me/factors/totp", json={"label": "phone"})
    assert started.status_code == 201, started.json
    assert started.json["otpauth_uri"].startswith("otpauth://totp/")
    assert started.json["qr_svg"].startswith("data:image/svg+xml")
    secret = started.json["secret"]
    confirmed = client.post("/api/v1/users/me/factors/totp/confirm", json={"code": code(secret, clock)})
    assert confirmed.status_code == 200, confirmed.json
    return secret, confirmed.json["recovery_codes"]


def password_step(client, name: str) -> dict:
    r = client.post(TOKEN, json={"username": name, "password": PASSWORD})
    assert r.status_code == 401, r.json
    return r.json["error"]


def audits(action: str) -> int:
    db.session.remove()
    return db.session.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == action)).scalar_one()


def tokens_of(user) -> int:
    db.session.remove()
    return db.session.execute(select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id)).scalar_one()


def test_totp_login_needs_the_code_once(client, as_user, world, clock):
    secret, codes = enrol_totp(as_user, "delegate", clock)
    assert len(codes) == 10 and audits("second_factor.enrolled") == 1
    before = tokens_of(world.delegate)
    error = password_step(client, "delegate")
    assert error["code"] == "second_factor_required"
    assert set(error["details"]["methods"]) == {"totp", "recovery_code"}
    assert tokens_of(world.delegate) == before  # the password alone left no token behind
    challenge = error["details"]["challenge"]

    clock.step()
    right = code(secret, clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    r = client.post(STEP, json={"challenge": challenge, "code": wrong})
    assert r.status_code == 401 and r.json["error"]["code"] == "bad_code"
    r = client.post(STEP, json={"challenge": challenge, "code": right})
    assert r.status_code == 201, r.json
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.json["username"] == "delegate"

    # The same code again, in its window, with a fresh login step: refused.
    replay = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                     "code": right})
    assert replay.status_code == 401 and replay.json["error"]["code"] == "bad_code"
    clock.step()
    again = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                    "code": code(secret, clock)})
    assert again.status_code == 201
    assert audits("second_factor.passed") == 2


def test_recovery_codes_are_good_once(client, as_user, world, clock):
    _, codes = enrol_totp(as_user, "delegate", clock)
    first = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                    "code": codes[0].upper()})
    assert first.status_code == 201, first.json
    reuse = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                    "code": codes[0]})
    assert reuse.status_code == 401 and reuse.json["error"]["code"] == "bad_code"
    second = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                     "code": codes[1]})
    assert second.status_code == 201
    assert audits("second_factor.recovery_code_used") == 2
    assert as_user("delegate").get("/api/v1/users/me/factors").json["recovery_codes_left"] == 8


def test_the_setting_requires_a_factor_of_admins(app, client, as_user, world, clock):
    app.config["MFA_REQUIRED_ROLES"] = ""
    assert client.post(TOKEN, json={"username": "admin", "password": PASSWORD}).status_code == 201
    app.config["MFA_REQUIRED_ROLES"] = "admin"
    before = tokens_of(world.admin)
    error = password_step(client, "admin")
    assert error["code"] == "second_factor_enrolment_required" and "challenge" not in error["details"]
    assert tokens_of(world.admin) == before
    assert as_user("admin").get("/api/v1/users/me/factors").json["required"] is True

    secret, _ = enrol_totp(as_user, "admin", clock)
    error = password_step(client, "admin")
    assert error["code"] == "second_factor_required"
    clock.step()
    r = client.post(STEP, json={"challenge": error["details"]["challenge"], "code": code(secret, clock)})
    assert r.status_code == 201
    # The only factor of a user who must have one stays.
    factor_id = as_user("admin").get("/api/v1/users/me/factors").json["factors"][0]["id"]
    r = as_user("admin").delete(f"/api/v1/users/me/factors/{factor_id}", json={"password": PASSWORD})
    assert r.status_code == 409 and r.json["error"]["code"] == "factor_required"


def test_secretariat_and_signers_by_the_setting(app, client, world, clock):
    assert client.post(TOKEN, json={"username": "secretary", "password": PASSWORD}).status_code == 201
    member = db.session.execute(select(BodyMember).where(BodyMember.user_id == world.secretary.id)).scalar_one()
    member.is_secretariat = True
    db.session.add(SignerKey(user_id=world.chair.id, kind="pkcs12", source="imported"))
    db.session.commit()
    assert password_step(client, "secretary")["code"] == "second_factor_enrolment_required"
    assert password_step(client, "chair")["code"] == "second_factor_enrolment_required"
    app.config["MFA_REQUIRED_ROLES"] = "admin"
    assert client.post(TOKEN, json={"username": "secretary", "password": PASSWORD}).status_code == 201
    assert client.post(TOKEN, json={"username": "chair", "password": PASSWORD}).status_code == 201
    app.config["MFA_REQUIRED_ROLES"] = "admin,secretaryship"  # a typo fails closed
    assert password_step(client, "delegate")["code"] == "second_factor_enrolment_required"


def test_code_attempts_are_limited_per_account(app, client, as_user, world, clock):
    app.config["MFA_ATTEMPT_LIMIT"] = "3 per 5 minutes"
    secret, _ = enrol_totp(as_user, "delegate", clock)
    enrol_totp(as_user, "delegate2", clock)
    clock.step()
    for _ in range(3):
        challenge = password_step(client, "delegate")["details"]["challenge"]
        assert client.post(STEP, json={"challenge": challenge, "code": "nope-nope"}).status_code == 401
    # Past the limit even the right code waits, whatever login step (or address) it comes with.
    r = client.post(STEP, json={"challenge": password_step(client, "delegate")["details"]["challenge"],
                                "code": code(secret, clock)})
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"
    other = password_step(client, "delegate2")["details"]["challenge"]
    assert client.post(STEP, json={"challenge": other, "code": "nope-nope"}).status_code == 401  # not 429


def test_a_login_step_is_signed_and_ends(app, client, as_user, world, clock):
    from meetings.accounts import service

    secret, _ = enrol_totp(as_user, "delegate", clock)
    clock.step()
    challenge = password_step(client, "delegate")["details"]["challenge"]
    forged = challenge[:-2] + ("AA" if challenge[-2:] != "AA" else "BB")
    r = client.post(STEP, json={"challenge": forged, "code": code(secret, clock)})
    assert r.status_code == 401 and r.json["error"]["code"] == "challenge_invalid"
    user = db.session.get(User, world.delegate.id)
    user.password_hash = service.hash_password("another-pass-42")
    db.session.commit()
    r = client.post(STEP, json={"challenge": challenge, "code": code(secret, clock)})
    assert r.status_code == 401 and r.json["error"]["code"] == "challenge_invalid"  # the password changed
    app.config["MFA_CHALLENGE_SECONDS"] = -1
    r = client.post(TOKEN, json={"username": "delegate", "password": "another-pass-42"})
    r = client.post(STEP, json={"challenge": r.json["error"]["details"]["challenge"], "code": code(secret, clock)})
    assert r.status_code == 401 and r.json["error"]["code"] == "challenge_expired"


def test_removing_a_factor_needs_the_password_or_a_code(client, as_user, world, clock):
    enrol_totp(as_user, "delegate", clock)
    me = as_user("delegate")
    factor_id = me.get("/api/v1/users/me/factors").json["factors"][0]["id"]
    r = me.delete(f"/api/v1/users/me/factors/{factor_id}", json={})
    assert r.status_code == 401 and r.json["error"]["code"] == "reauthentication_required"
    assert me.delete(f"/api/v1/users/me/factors/{factor_id}", json={"password": "wrong"}).status_code == 401
    assert as_user("delegate2").delete(f"/api/v1/users/me/factors/{factor_id}",
                                       json={"password": PASSWORD}).status_code == 404
    assert me.delete(f"/api/v1/users/me/factors/{factor_id}", json={"password": PASSWORD}).status_code == 204
    assert audits("second_factor.removed") == 1
    assert me.get("/api/v1/users/me/factors").json == {"required": False, "factors": [], "recovery_codes_left": 0}
    assert client.post(TOKEN, json={"username": "delegate", "password": PASSWORD}).status_code == 201


# --------------------------------------------------------------------------- browser

def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def _password(client, name: str):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login?next=/archive", data={"username": name, "password": PASSWORD, "csrf_token": token})


def test_browser_login_asks_for_the_code(app, as_user, world, clock):
    secret, _ = enrol_totp(as_user, "delegate", clock)
    browser = app.test_client()
    r = _password(browser, "delegate")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/second-factor")
    assert browser.get("/api/v1/users/me").status_code == 401  # not logged in yet
    page = browser.get("/login/second-factor").get_data(as_text=True)
    clock.step()
    r = browser.post("/login/second-factor", data={"code": "12345x", "csrf_token": _csrf(page)})
    assert r.status_code == 401 and browser.get("/api/v1/users/me").status_code == 401
    r = browser.post("/login/second-factor", data={"code": code(secret, clock), "csrf_token": _csrf(page)})
    assert r.status_code == 302 and r.headers["Location"] == "/archive"
    assert browser.get("/api/v1/users/me").json["username"] == "delegate"


def test_browser_enrols_a_required_admin(app, world, clock):
    browser = app.test_client()
    assert _password(browser, "admin").headers["Location"].endswith("/login/second-factor")
    page = browser.get("/login/second-factor").get_data(as_text=True)
    assert 'data-testid="start-totp"' in page
    assert browser.post("/login/second-factor/enrol", data={"csrf_token": _csrf(page)}).status_code == 302
    page = browser.get("/login/second-factor").get_data(as_text=True)
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert browser.get("/api/v1/users/me").status_code == 401
    r = browser.post("/login/second-factor", data={"code": code(secret, clock), "csrf_token": _csrf(page)})
    assert r.status_code == 200 and r.get_data(as_text=True).count("<li><code>") == 10  # shown once
    assert browser.get("/api/v1/users/me").json["username"] == "admin"
    assert browser.get("/login/second-factor").status_code == 302  # nothing pending any more


# --------------------------------------------------------------------------- WebAuthn

def register_key(as_user, name: str, key: SoftAuthenticator) -> dict:
    client = as_user(name)
    offer = client.get("/api/v1/users/me/factors/webauthn/options").json
    assert offer["options"]["rp"]["id"] == "localhost"
    r = client.post("/api/v1/users/me/factors/webauthn",
                    json={"state": offer["state"], "credential": key.register(offer["options"]), "label": "key"})
    assert r.status_code == 201, r.json
    return r.json


@pytest.mark.parametrize("counts", [True, False], ids=["sign-count", "passkey-without-count"])
def test_webauthn_register_then_token(client, as_user, world, clock, counts):
    key = SoftAuthenticator(counts=counts)
    assert len(register_key(as_user, "delegate", key)["recovery_codes"]) == 10
    error = password_step(client, "delegate")
    assert error["details"]["methods"] == ["webauthn", "recovery_code"]
    challenge = error["details"]["challenge"]
    options = client.get(STEP + "/webauthn", query_string={"challenge": challenge}).json
    assertion = key.assert_(options)
    r = client.post(STEP, json={"challenge": challenge, "assertion": assertion})
    assert r.status_code == 201, r.json
    replay = client.post(STEP, json={"challenge": challenge, "assertion": assertion})
    assert replay.status_code == 401 and replay.json["error"]["code"] == "bad_assertion"


def test_webauthn_refuses_a_foreign_origin_and_a_bad_signature(client, as_user, world, clock):
    key = SoftAuthenticator()
    register_key(as_user, "delegate", key)
    challenge = password_step(client, "delegate")["details"]["challenge"]
    options = client.get(STEP + "/webauthn", query_string={"challenge": challenge}).json
    phished = key.assert_(options, origin="http://evil.example")
    assert client.post(STEP, json={"challenge": challenge, "assertion": phished}).status_code == 401
    forged = key.assert_(options)
    forged["response"]["signature"] = SoftAuthenticator().assert_(options)["response"]["signature"]
    assert client.post(STEP, json={"challenge": challenge, "assertion": forged}).status_code == 401
    other = SoftAuthenticator().assert_(options)  # a key never registered
    assert client.post(STEP, json={"challenge": challenge, "assertion": other}).status_code == 401
    assert client.post(STEP, json={"challenge": challenge, "assertion": key.assert_(options)}).status_code == 201


def test_webauthn_registration_is_bound_to_its_challenge(as_user, world, clock):
    me = as_user("delegate")
    first = me.get("/api/v1/users/me/factors/webauthn/options").json
    second = me.get("/api/v1/users/me/factors/webauthn/options").json
    answer = SoftAuthenticator().register(first["options"])
    r = me.post("/api/v1/users/me/factors/webauthn", json={"state": second["state"], "credential": answer})
    assert r.status_code == 422 and r.json["error"]["code"] == "webauthn_invalid"
    r = as_user("delegate2").post("/api/v1/users/me/factors/webauthn",
                                  json={"state": first["state"], "credential": answer})
    assert r.status_code == 422 and r.json["error"]["code"] == "state_invalid"
    assert me.get("/api/v1/users/me/factors").json["factors"] == []
