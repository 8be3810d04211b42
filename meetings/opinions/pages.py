"""The member's pages: ``/opinions`` (my forms) and ``/opinions/<id>`` (answer one), phone-first.

Server-rendered from the same reads as the REST API (``reading.form_out``, so the same people
see the same things); the answer is sent by ``static/js/opinions/form.js`` to
``PUT /api/v1/opinion-forms/<id>/answer``, or, without JavaScript, posted to this page, which
calls the same service. Words in Vietnamese and English (the user's language).
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request
from flask_login import login_required

from meetings.bodies import units
from meetings.core.errors import DomainError
from meetings.core.extensions import db
from meetings.notifications.texts import local_time
from meetings.opinions import answering, reading, service
from meetings.opinions.office_words import OFFICE_EN, OFFICE_VI, chooser, office_bodies, recipient_names
from meetings.platform.http.caller import require_user

bp = Blueprint("opinion_pages", __name__)

WORDS = {
    "vi": {
        "list.title": "Phiếu lấy ý kiến", "none": "Không có phiếu lấy ý kiến nào.", "deadline": "Hạn trả lời",
        "status.draft": "Dự thảo", "status.open": "Đang lấy ý kiến", "status.closed": "Đã kết thúc",
        "status.reported": "Đã có báo cáo", "answered": "Đã trả lời", "not_answered": "Chưa trả lời",
        "agree": "Đồng ý", "disagree": "Không đồng ý", "other": "Ý kiến khác", "comment": "Ý kiến (nếu có)",
        "choose": "Chọn từ {min} đến {max} phương án", "choose_one": "Chọn một phương án",
        "attachments": "Tài liệu kèm theo", "sign": "Ký số phiếu trả lời", "secret": "Mật khẩu khóa ký",
        "sign_required": "Phiếu này phải được ký số.", "send": "Gửi ý kiến", "change": "Sửa ý kiến",
        "sent": "Đã ghi nhận ý kiến của đồng chí (lần {revision}).", "signed": "Đã ký số.",
        "closed": "Đã hết hạn trả lời.", "final": "Phiếu không cho phép sửa ý kiến đã gửi.",
        "changeable": "Có thể sửa ý kiến đến hạn trả lời.", "report": "Báo cáo tổng hợp ý kiến",
        "sending": "Đang gửi…", "offline": "Mất kết nối; ý kiến chưa được gửi.",
        "deadline_passed": "Đã hết hạn trả lời; ý kiến không được ghi nhận.",
        "incomplete_answer": "Đề nghị trả lời tất cả các câu hỏi.",
        "secret_required": "Phiếu này phải được ký số: nhập mật khẩu khóa ký.",
        "comment_required": "Đề nghị ghi rõ ý kiến khác.",
        "wrong_passphrase": "Sai mật khẩu khóa ký.", "no_key": "Đồng chí chưa có khóa ký số.",
        "answer_final": "Phiếu không cho phép sửa ý kiến đã gửi.", "not_open": "Phiếu chưa được gửi.",
        "not_recipient": "Phiếu này không gửi tới đồng chí.", "invalid_answer": "Câu trả lời không hợp lệ.",
        "conflict": "Ý kiến vừa được gửi từ thiết bị khác; đề nghị tải lại trang.", "pages": "{n} tr.",
        **OFFICE_VI,
    },
    "en": {
        "list.title": "Opinion forms", "none": "No opinion forms.", "deadline": "Deadline",
        "status.draft": "Draft", "status.open": "Open", "status.closed": "Closed", "status.reported": "Reported",
        "answered": "Answered", "not_answered": "Not answered",
        "agree": "Agree", "disagree": "Disagree", "other": "Other opinion", "comment": "Comment (optional)",
        "choose": "Choose {min} to {max} options", "choose_one": "Choose one option",
        "attachments": "Attached documents", "sign": "Sign my answer digitally", "secret": "Signing key passphrase",
        "sign_required": "This form must be signed.", "send": "Send my opinion", "change": "Change my opinion",
        "sent": "Your opinion was recorded (revision {revision}).", "signed": "Signed.",
        "closed": "The deadline has passed.", "final": "This form does not allow changing a sent answer.",
        "changeable": "You may change your answer until the deadline.", "report": "Opinion report",
        "sending": "Sending…", "offline": "No connection; your opinion was not sent.",
        "deadline_passed": "The deadline has passed; your opinion was not recorded.",
        "incomplete_answer": "Please answer every question.",
        "secret_required": "This form must be signed: enter your passphrase.",
        "comment_required": "Please write your other opinion.",
        "wrong_passphrase": "Wrong passphrase for the signing key.", "no_key": "You have no signing key.",
        "answer_final": "This form does not allow changing a sent answer.", "not_open": "The form has not been sent.",
        "not_recipient": "This form was not sent to you.", "invalid_answer": "This answer is not valid.",
        "conflict": "Your answer was just stored from another device; reload the page.", "pages": "{n} p.",
        **OFFICE_EN,
    },
}


def words() -> dict[str, str]:
    return WORDS.get(g.get("lang") or "vi", WORDS["vi"])


@bp.route("/opinions")
@login_required
def my_forms():
    """The forms sent to me (and, for the secretariat, every form of their bodies)."""
    user = require_user()
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    forms = [reading.form_out(db.session, f, user) for f in service.list_forms(db.session, user)]
    for f in forms:
        f["closes_local"] = local_time(f["closes_at"], g.get("lang"), tz) if f["closes_at"] else ""
    drafting = [{"id": b.id, "name": b.name} for b in office_bodies(db.session, user)]
    return render_template("opinions/list.html", forms=forms, w=words(), drafting=drafting)


def _page(form_id: int, *, status: int = 200, error: str | None = None, done: bool = False):
    user = require_user()
    form = service.find_form(db.session, form_id, user)
    view = reading.form_out(db.session, form, user)
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    mine = {e["question_id"]: e for e in (view["my_answer"] or {}).get("answers", [])}
    # The office assigns follow-up tasks from a closed form's result (static/js/tasks/assign.js); the same
    # test as meetings.tasks.policy.is_office, which the task REST applies again on every POST.
    assign = None
    if form.status in ("closed", "reported") and units.is_body_office(db.session, form.body_id, user):
        assign = {"locale": g.get("lang") or "vi", "body_id": form.body_id, "form_id": form.id, "title": form.title}
    office = None  # the office's panel: live tally, send, close, the report (static/js/opinions/office.js)
    if view["can_manage"] or form.signer_id == user.id:
        office = {"form_id": form.id, "status": form.status, "report_state": view["report_state"],
                  "can_manage": view["can_manage"], "is_signer": form.signer_id == user.id,
                  "names": recipient_names(db.session, form),
                  "who": chooser(db.session, form) if view["can_manage"] else None}
    return render_template("opinions/form.html", form=view, mine=mine, w=words(), error=error, done=done,
                           office=office,
                           closes_local=local_time(form.closes_at, g.get("lang"), tz) if form.closes_at else "",
                           api_url=f"/opinion-forms/{form.id}/answer", assign=assign), status


@bp.route("/opinions/<int:form_id>", methods=["GET", "POST"])
@login_required
def form_page(form_id: int):
    """One form and my answer; POST (without JavaScript) records it through the same service."""
    if request.method == "GET":
        return _page(form_id)
    user = require_user()
    form = service.find_form(db.session, form_id, user)
    entries = []
    for q in form.questions:
        entry = {"question_id": q.id, "comment": request.form.get(f"comment-{q.id}", "")}
        if q.kind == "agree":
            entry["choice"] = request.form.get(f"q-{q.id}")
        else:
            entry["options"] = request.form.getlist(f"q-{q.id}")
        entries.append(entry)
    try:
        answering.submit_answer(db.session, form, user, entries, current_app.config,
                                secret=request.form.get("secret") or None)
    except DomainError as err:
        db.session.rollback()
        message = words().get(err.code or "", err.message)
        asked = next((q for q in form.questions if q.id == (err.details or {}).get("question_id")), None)
        if err.code == "invalid_answer" and asked is not None and asked.kind == "choice":
            message = f"{asked.text}: " + words()["choose"].format(min=asked.min_choices, max=asked.max_choices)
        return _page(form_id, status=err.status if err.status < 500 else 422, error=message)
    return _page(form_id, done=True)
