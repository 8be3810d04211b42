"""Login and logout pages for browsers."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from meetings.accounts import factor_pages, service
from meetings.accounts.lockout import AccountLocked
from meetings.core.extensions import db, limiter

bp = Blueprint("accounts_pages", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would help phishing.
    if target and urlparse(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("meeting_pages.my_meetings")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if request.method == "POST":
        user = service.log_in(db.session, request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            held = factor_pages.hold(user, _safe_next(request.args.get("next")))  # a second factor due
            if held is not None:
                return held
            login_user(user)  # the audit entry is committed with the redirect (platform/http/commit.py)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
        return render_template("accounts/login.html"), 401
    return render_template("accounts/login.html")


@bp.errorhandler(AccountLocked)
def _locked(err: AccountLocked):
    # Too many wrong passwords for this account: the form again, saying when to retry.
    flash(f"Too many failed attempts for this account; try again in {err.retry_after} seconds.", "error")
    return render_template("accounts/login.html"), 429, {"Retry-After": str(err.retry_after)}


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    resp = redirect(url_for("accounts_pages.login"))
    # A shared tablet hands nothing to the next person: the browser drops the offline document
    # cache and the outbox (app.js clears them too, for browsers without Clear-Site-Data).
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp
