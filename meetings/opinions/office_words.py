"""What the office's parts of the opinion pages need: their words (vi, en), the bodies a user drafts
forms for, the recipients' names beside the live tally and the recipient chooser's people
(``templates/opinions``, ``static/js/opinions/office.js``). Reads only; every write goes through the REST API."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import Body, BodyMember
from meetings.core.db import utcnow
from meetings.minutes.models import SignerKey
from meetings.opinions.models import OpinionForm, OpinionRecipient

OFFICE_VI = {
    "office.title": "Theo dõi và điều hành (Văn phòng)", "office.answered": "Đã trả lời {answered}/{recipients}",
    "office.missing": "Chưa trả lời", "office.nobody": "không có", "office.signed": "Đã ký số",
    "office.option": "Phương án", "office.count": "Số ý kiến", "office.required": "Cần ít nhất {n} ý kiến",
    "office.comments": "Ý kiến cụ thể", "office.live": "Cập nhật trực tiếp khi thành viên trả lời.",
    "office.open": "Gửi phiếu tới thành viên", "office.close": "Kết thúc lấy ý kiến",
    "office.compose": "Lập báo cáo tổng hợp", "office.sign": "Ký báo cáo", "office.publish": "Công bố báo cáo",
    "office.report_pdf": "Xem báo cáo (PDF)", "office.bundle": "Tải hồ sơ lưu trữ",
    "office.attach": "Thêm tài liệu kèm theo", "office.upload": "Tải lên", "office.done": "Đã thực hiện.",
    "office.failed": "Không thực hiện được", "office.confirm_close": "Kết thúc lấy ý kiến ngay bây giờ?",
    "outcome.adopted": "Được thông qua", "outcome.rejected": "Không được thông qua",
    "outcome.no_quorum": "Không đủ số lượng", "report.none": "Chưa lập báo cáo", "report.composed": "Chờ ký",
    "report.signed": "Đã ký, chưa công bố", "report.published": "Đã công bố", "report.state": "Báo cáo",
    "new.title": "Soạn phiếu lấy ý kiến", "new.body": "Cơ quan", "new.form_title": "Tiêu đề phiếu",
    "new.explanation": "Nội dung xin ý kiến", "new.closes_at": "Hạn trả lời", "new.allow_change":
        "Cho phép sửa ý kiến đến hạn", "new.require_signature": "Phiếu trả lời phải ký số",
    "new.questions": "Câu hỏi", "new.add_agree": "Thêm câu hỏi đồng ý / không đồng ý",
    "new.add_choice": "Thêm câu hỏi lựa chọn", "new.question_text": "Nội dung câu hỏi",
    "new.options": "Các phương án (mỗi dòng một phương án)", "new.max_choices": "Số phương án được chọn tối đa",
    "new.remove": "Xóa câu hỏi", "new.save": "Lưu dự thảo", "new.recipients":
        "Gửi tới: tất cả thành viên của cơ quan; lưu dự thảo rồi chọn người nhận và người ký trên trang của phiếu.",
    "not_office": "Chỉ Văn phòng được thực hiện việc này.", "not_closed": "Phiếu chưa kết thúc.",
    "not_a_signer": "Đồng chí không phải người ký báo cáo.", "incomplete": "Phiếu còn thiếu: {missing}.",
    "invalid": "Thông tin chưa hợp lệ.", "invalid_question": "Câu hỏi chưa hợp lệ.",
    "invalid_deadline": "Hạn trả lời phải ở tương lai.", "office.passed": "Các phương án đạt: {options}",
    "office.none_passed": "Không phương án nào đạt", "new.kind_agree": "Câu hỏi đồng ý / không đồng ý",
    "new.kind_choice": "Câu hỏi lựa chọn phương án", "ended": "Phiếu đã kết thúc lấy ý kiến.",
    "who.title": "Người nhận và người ký báo cáo", "who.count": "{n} người nhận", "who.all": "Tất cả thành viên",
    "who.none": "Bỏ chọn tất cả", "who.unit": "Đơn vị", "who.signer": "Người ký báo cáo",
    "who.signer_title": "Chức danh người ký (xuống dòng để in thành nhiều dòng)",
    "who.save": "Lưu người nhận và người ký",
    "who.saved": "Đã lưu: {n} người nhận; người ký: {signer}.", "who.unsaved": "Có thay đổi chưa lưu.",
    "who.locked": "Phiếu đã gửi: không thay đổi được người nhận và người ký.",
    "who.no_key": "{name} (chưa có khóa ký)",
    "preview": "Bản xem trước: phiếu chưa gửi, các thành viên sẽ thấy và trả lời như dưới đây.",
    "who.no_key_hint": "Người ký này chưa có khóa ký số: đề nghị quản trị viên cấp khóa trước khi ký báo cáo.",
    "who.outside": "{name} (không phải thành viên)", "who.save_first": "Đề nghị lưu người nhận trước khi gửi phiếu.",
    "invalid_member": "Người nhận và người ký phải là thành viên của cơ quan.",
    "not_draft": "Phiếu đã gửi hoặc đã kết thúc: không sửa được nữa.",
    "missing.questions": "câu hỏi", "missing.recipients": "người nhận", "missing.closes_at": "hạn trả lời",
    "missing.signer_id": "người ký báo cáo",
}
OFFICE_EN = {
    "office.title": "Follow and run (the office)", "office.answered": "Answered {answered}/{recipients}",
    "office.missing": "Not answered", "office.nobody": "nobody", "office.signed": "Signed",
    "office.option": "Option", "office.count": "Answers", "office.required": "At least {n} needed",
    "office.comments": "Comments", "office.live": "Updated live as members answer.",
    "office.open": "Send the form to the members", "office.close": "Close the form",
    "office.compose": "Compose the report", "office.sign": "Sign the report", "office.publish": "Publish the report",
    "office.report_pdf": "Open the report (PDF)", "office.bundle": "Download the archive bundle",
    "office.attach": "Attach a document", "office.upload": "Upload", "office.done": "Done.",
    "office.failed": "Could not do that", "office.confirm_close": "Close the form now?",
    "outcome.adopted": "Adopted", "outcome.rejected": "Not adopted", "outcome.no_quorum": "Too few answers",
    "report.none": "Not composed", "report.composed": "Waiting for signature", "report.signed": "Signed, not published",
    "report.published": "Published", "report.state": "Report",
    "new.title": "Draft an opinion form", "new.body": "Body", "new.form_title": "Title",
    "new.explanation": "What the members are asked", "new.closes_at": "Deadline",
    "new.allow_change": "Members may change their answer until the deadline",
    "new.require_signature": "Answers must be signed digitally", "new.questions": "Questions",
    "new.add_agree": "Add an agree / disagree question", "new.add_choice": "Add a choice question",
    "new.question_text": "Question", "new.options": "Options (one per line)",
    "new.max_choices": "Options a member may choose (at most)", "new.remove": "Remove the question",
    "new.save": "Save the draft", "new.recipients":
        "Sent to: every member of the body; once the draft is saved, choose the recipients and the signer on its page.",
    "not_office": "Only the office may do this.", "not_closed": "The form is not closed yet.",
    "not_a_signer": "You are not the report's signer.", "incomplete": "The form still lacks: {missing}.",
    "invalid": "Something is not valid.", "invalid_question": "A question is not valid.",
    "invalid_deadline": "The deadline must be in the future.", "office.passed": "Options passed: {options}",
    "office.none_passed": "No option passed", "new.kind_agree": "Agree / disagree question",
    "new.kind_choice": "Choice question", "ended": "This form is closed.",
    "who.title": "Recipients and the report's signer", "who.count": "{n} recipients", "who.all": "All members",
    "who.none": "None", "who.unit": "Unit", "who.signer": "Signs the report",
    "who.signer_title": "Signer's title (one line per printed line)", "who.save": "Save recipients and signer",
    "who.saved": "Saved: {n} recipients; signer: {signer}.", "who.unsaved": "Unsaved changes.",
    "who.locked": "The form was sent: its recipients and signer no longer change.",
    "who.no_key": "{name} (no signing key)",
    "preview": "Preview: the form is not sent yet; members will see and answer it as below.",
    "who.no_key_hint": ("This signer has no signing key yet: ask an administrator to issue one before the "
                        "report is signed."),
    "who.outside": "{name} (not a member)", "who.save_first": "Save the recipients before sending the form.",
    "invalid_member": "Recipients and the signer must be members of the body.",
    "not_draft": "The form was sent or closed: it no longer changes.",
    "missing.questions": "questions", "missing.recipients": "recipients", "missing.closes_at": "a deadline",
    "missing.signer_id": "the report's signer",
}


def office_bodies(session: Session, user: User) -> list[Body]:
    """The bodies whose office ``user`` is (an administrator: every body), by name."""
    query = select(Body).order_by(Body.name)
    if not user.is_admin:
        query = query.join(BodyMember, BodyMember.body_id == Body.id).where(
            BodyMember.user_id == user.id, BodyMember.is_secretariat.is_(True))
    return list(session.scalars(query))


def recipient_names(session: Session, form: OpinionForm) -> dict[int, str]:
    """The recipients' names by id (the tally names them by id only)."""
    rows = session.execute(select(User.id, User.full_name).join(OpinionRecipient, OpinionRecipient.user_id == User.id)
                           .where(OpinionRecipient.form_id == form.id))
    return {uid: name for uid, name in rows}


def chooser(session: Session, form: OpinionForm) -> dict:
    """The recipient chooser: the body's members by name, its active units (their members in the body),
    who is asked now and who signs the report. The signer may be any member of the body (the check of
    ``meetings.opinions.service``); a signer outside it (the drafting administrator, by default) is named
    apart and kept until another is chosen. ``signer_ids`` are those with a usable signing key: the office
    may still name someone without one (a key can be issued before the report is signed), and is warned.
    ``editable`` only while a draft (the service refuses after)."""
    rows = session.execute(select(BodyMember.user_id, User.full_name, BodyMember.position)
                           .join(User, User.id == BodyMember.user_id)
                           .where(BodyMember.body_id == form.body_id).order_by(User.full_name, User.id)).all()
    ids = {r.user_id for r in rows}
    groups = [{"id": u.id, "name": u.name, "member_ids": sorted(i for i in units.member_ids(u) if i in ids)}
              for u in units.units_of(session, session.get(Body, form.body_id))]
    outside = None
    if form.signer_id is not None and form.signer_id not in ids:
        signer = session.get(User, form.signer_id)
        outside = {"id": form.signer_id, "name": signer.full_name if signer else f"#{form.signer_id}"}
    now = utcnow()
    with_key = set(session.scalars(select(SignerKey.user_id).where(
        SignerKey.user_id.in_(ids | ({form.signer_id} if form.signer_id else set())),
        SignerKey.revoked_at.is_(None), or_(SignerKey.not_after.is_(None), SignerKey.not_after > now))))
    return {"members": [{"id": r.user_id, "name": r.full_name, "position": r.position or ""} for r in rows],
            "units": [g for g in groups if g["member_ids"]],
            "recipient_ids": sorted(r.user_id for r in form.recipients),
            "signer_id": form.signer_id, "signer_title": form.signer_title or "", "outside_signer": outside,
            "signer_ids": sorted(with_key),
            "editable": form.status == "draft"}
