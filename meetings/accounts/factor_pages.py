"""The browser's second login step (``/login/second-factor``) and the set-up of a first factor.

``hold`` is called by the login page once the password is right: a user who
must pass a second step is not logged in yet; the signed login-step
challenge waits in the (signed) session cookie until the code, the recovery
code or the key's answer comes.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user

from meetings.accounts import second_factor, second_step, webauthn_keys
from meetings.accounts.models import User
from meetings.core.errors import DomainError
from meetings.core.extensions import db, limiter

bp = Blueprint("factor_pages", __name__)
_PENDING = "second_factor_step"


def hold(user: User, next_url: str) -> Response | None:
    """After a right password: None when no second step is due, else the redirect to it.

    ``next_url`` is where to go afterwards, already checked by the login page (same-site paths only);
    it waits in the signed session cookie, so it cannot be changed on the way."""
    if second_factor.second_step(db.session, user) is None:
        return None
    session[_PENDING] = {"challenge": second_factor.issue_challenge(user), "next": next_url}
    return redirect(url_for("factor_pages.second_factor"))


def _pending() -> tuple[User, str, str] | None:
    data = session.get(_PENDING)
    if not isinstance(data, dict):
        return None
    try:
        user = second_factor.user_for_challenge(db.session, str(data.get("challenge", "")))
    except DomainError:
        session.pop(_PENDING, None)
        return None
    return user, data["challenge"], str(data.get("next") or "/")


def _sign_in(user: User, next_url: str) -> str:
    """Log the browser in (the second step is passed) and say where to go."""
    session.pop(_PENDING, None)
    login_user(user)
    return next_url


def _render(user: User, status: int = 200, **extra: Any):
    step = second_factor.second_step(db.session, user)
    context: dict[str, Any] = {"step": step, "user": user, **extra}
    if step == "enrol":
        pending = second_factor.pending_totp(db.session, user)
        if pending is not None:
            uri = second_factor.provisioning_uri(pending, user)
            context.update(pending=pending, otpauth_uri=uri, qr=second_factor.qr_data_uri(uri))
    else:
        context["methods"] = second_factor.methods(db.session, user)
    return render_template("accounts/second_factor.html", **context), status


@bp.route("/login/second-factor", methods=["GET", "POST"], endpoint="second_factor")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def second_factor_page():
    """Show the second step; POST: a TOTP or recovery code (or the first code of a new authenticator)."""
    held = _pending()
    if held is None:
        return redirect(url_for("accounts_pages.login"))
    user, challenge, next_url = held
    if request.method == "GET":
        return _render(user)
    code = request.form.get("code", "")
    try:
        if second_factor.second_step(db.session, user) == "enrol":
            codes = second_factor.confirm_totp(db.session, user, code)
            second_factor.complete_login(db.session, user, "totp")
            target = _sign_in(user, next_url)
            return render_template("accounts/recovery_codes.html", codes=codes, target=target)
        second_step.pass_second_step(db.session, challenge, code=code)
    except DomainError as err:
        flash(err.message, "error")
        return _render(user, err.status)
    return redirect(_sign_in(user, next_url))


@bp.route("/login/second-factor/enrol", methods=["POST"])
def enrol():
    """Start setting up an authenticator app (the QR code shows on the step's page)."""
    held = _pending()
    if held is None:
        return redirect(url_for("accounts_pages.login"))
    second_factor.start_totp(db.session, held[0], "")
    return redirect(url_for("factor_pages.second_factor"))


@bp.route("/login/second-factor/webauthn", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def webauthn_step():
    """GET: options for ``navigator.credentials.get()``; POST: the key's answer → ``{"redirect": …}``."""
    held = _pending()
    if held is None:
        return jsonify(error={"code": "challenge_invalid", "message": "Log in again."}), 401
    user, challenge, next_url = held
    try:
        if request.method == "GET":
            return jsonify(webauthn_keys.authentication_options(db.session, challenge))
        second_step.pass_second_step(db.session, challenge, assertion=request.get_json(silent=True) or {})
    except DomainError as err:
        return jsonify(error=err.to_dict()), err.status
    return jsonify(redirect=_sign_in(user, next_url))
