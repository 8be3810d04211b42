"""``/enrol/<secret>``: the tablet opens its QR code's link and is signed in with one tap.

The GET only shows whose tablet this becomes, with one button; link previewers,
chat apps and mail scanners fetch URLs, so a GET never consumes the link. The
POST (the page's form, with its CSRF token) consumes it, starts an ordinary
browser session (Flask-Login, ``accounts.auth``) and goes to the meeting room.
A link that is unknown, used, expired or revoked gets a page that says so.
Words are in the delegate's language, whoever's browser this is.
"""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, g, redirect, render_template, url_for
from flask_login import current_user, login_user

from meetings.accounts import enrolment
from meetings.accounts.auth import current_credential
from meetings.accounts.models import User
from meetings.core.errors import DomainError, NotFound
from meetings.core.extensions import db, limiter

bp = Blueprint("enrolment_pages", __name__)

WORDS = {
    "vi": {
        "title": "Cấp máy tính bảng",
        "use_for": "Dùng máy tính bảng này cho {name}",
        "explain": "Máy tính bảng này sẽ được đăng nhập cho {name} mà không cần mật khẩu. "
                   "Chỉ bấm nếu đây là máy của bạn.",
        "replaces": "Máy đang đăng nhập cho {name}; xác nhận sẽ đăng xuất người đó trên máy này.",
        "expires": "Liên kết dùng được một lần, đến {when} (UTC).",
        "issued_by": "Người cấp: {name}",
        "unknown": "Liên kết này không tồn tại. Hãy hỏi thư ký cuộc họp một mã mới.",
        "used": "Liên kết này đã được dùng. Mỗi mã chỉ đăng nhập được một máy; hãy hỏi thư ký cuộc họp một mã mới.",
        "expired": "Liên kết này đã hết hạn. Hãy hỏi thư ký cuộc họp một mã mới.",
        "revoked": "Liên kết này đã bị thu hồi. Hãy hỏi thư ký cuộc họp một mã mới.",
        "not_enrollable": "Tài khoản này phải đăng nhập bằng mật khẩu (và yếu tố xác thực thứ hai).",
        "login": "Đăng nhập bằng mật khẩu",
    },
    "en": {
        "title": "Tablet enrolment",
        "use_for": "Use this tablet for {name}",
        "explain": "This tablet will be signed in for {name} without a password. Only tap if it is yours.",
        "replaces": "This tablet is signed in for {name}; confirming signs them out here.",
        "expires": "The link is good once, until {when} (UTC).",
        "issued_by": "Issued by: {name}",
        "unknown": "This link does not exist. Ask the meeting's secretary for a new code.",
        "used": "This link was used already. Each code signs in one tablet; ask the meeting's secretary for a new one.",
        "expired": "This link has expired. Ask the meeting's secretary for a new code.",
        "revoked": "This link was revoked. Ask the meeting's secretary for a new code.",
        "not_enrollable": "This account logs in with a password (and a second factor).",
        "login": "Log in with a password",
    },
}


def _limit() -> str:
    return current_app.config["ENROLMENT_RATE_LIMIT"]


def _words(user: User | None) -> dict[str, str]:
    lang = "en" if user is not None and (user.locale or "").startswith("en") else "vi"
    g.lang = lang
    return WORDS[lang]


def _refused(err: DomainError, user: User | None = None):
    """The page for a link that cannot sign anyone in (never the form)."""
    w = _words(user)
    key = {"link_used": "used", "link_expired": "expired", "link_revoked": "revoked",
           "not_enrollable": "not_enrollable"}.get(err.code, "unknown")
    status = 404 if key == "unknown" else (403 if key == "not_enrollable" else 410)
    return render_template("accounts/enrol.html", w=w, refused=w[key], reason=key), status


def _safe_path(path: str | None) -> str:
    if path and path.startswith("/") and not path.startswith("//") and urlparse(path).netloc == "":
        return path
    return url_for("meeting_pages.my_meetings")


@bp.route("/enrol/<secret>", methods=["GET"])
@limiter.limit(_limit)
def enrol_page(secret: str):
    """Whose tablet this becomes, and the one button; consumes nothing."""
    try:
        link = enrolment.find(db.session, secret)
        user = enrolment.check_usable(db.session, link)
    except DomainError as err:
        link = _link_or_none(secret)
        return _refused(err, db.session.get(User, link.user_id) if link is not None else None)
    w = _words(user)
    issuer = db.session.get(User, link.issued_by_id) if link.issued_by_id else None
    signed_in = current_user._get_current_object() if current_user.is_authenticated else None
    response = render_template(
        "accounts/enrol.html", w=w, user=user, link=link, issuer=issuer,
        other=signed_in if signed_in is not None and signed_in.id != user.id else None,
        expires=link.expires_at.strftime("%d/%m/%Y %H:%M"))
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _link_or_none(secret: str):
    try:
        return enrolment.find(db.session, secret)
    except NotFound:
        return None


@bp.route("/enrol/<secret>", methods=["POST"])
@limiter.limit(_limit)
def enrol(secret: str):
    """Consume the link, sign this browser in as its user, and go to where the link leads."""
    try:
        user, link = enrolment.redeem(db.session, secret)
    except DomainError as err:
        db.session.rollback()
        link = _link_or_none(secret)
        return _refused(err, db.session.get(User, link.user_id) if link is not None else None)
    login_user(user)  # a new server-side session (accounts.auth._started); one on this browser before ends
    enrolment.attach_device(db.session, link, user, current_credential())
    return redirect(_safe_path(link.next_path))
