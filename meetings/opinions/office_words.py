"""What the office's parts of the opinion pages need: their words (vi, en), the bodies a user drafts
forms for, and the recipients' names beside the live tally (``templates/opinions``,
``static/js/opinions/office.js``). Reads only; every write goes through the REST API."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body, BodyMember
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
    "new.remove": "Xóa câu hỏi", "new.save": "Lưu dự thảo", "new.recipients": "Gửi tới: tất cả thành viên của cơ quan.",
    "not_office": "Chỉ Văn phòng được thực hiện việc này.", "not_closed": "Phiếu chưa kết thúc.",
    "not_a_signer": "Đồng chí không phải người ký báo cáo.", "incomplete": "Phiếu còn thiếu: {missing}.",
    "invalid": "Thông tin chưa hợp lệ.", "invalid_question": "Câu hỏi chưa hợp lệ.",
    "invalid_deadline": "Hạn trả lời phải ở tương lai.", "office.passed": "Các phương án đạt: {options}",
    "office.none_passed": "Không phương án nào đạt", "new.kind_agree": "Câu hỏi đồng ý / không đồng ý",
    "new.kind_choice": "Câu hỏi lựa chọn phương án", "ended": "Phiếu đã kết thúc lấy ý kiến.",
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
    "new.save": "Save the draft", "new.recipients": "Sent to: every member of the body.",
    "not_office": "Only the office may do this.", "not_closed": "The form is not closed yet.",
    "not_a_signer": "You are not the report's signer.", "incomplete": "The form still lacks: {missing}.",
    "invalid": "Something is not valid.", "invalid_question": "A question is not valid.",
    "invalid_deadline": "The deadline must be in the future.", "office.passed": "Options passed: {options}",
    "office.none_passed": "No option passed", "new.kind_agree": "Agree / disagree question",
    "new.kind_choice": "Choice question", "ended": "This form is closed.",
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
