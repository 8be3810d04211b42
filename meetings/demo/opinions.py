"""The demo's written opinion form: the office asks the People's Committee's members in writing.

"Xin ý kiến thành viên UBND tỉnh về dự thảo Quyết định ban hành Quy chế quản lý cụm công nghiệp",
sent to every member of the demo body (a yes/no question and a choice of two locations among
three), closing in five days; five members have answered already, one with another opinion. Built
through the opinions services as the office and the members would do it; found by its title, so a
second run changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.core.db import utcnow
from meetings.opinions import answering, service
from meetings.opinions.models import OpinionForm

TITLE = "Xin ý kiến thành viên UBND tỉnh về dự thảo Quyết định ban hành Quy chế quản lý cụm công nghiệp"
EXPLANATION = ("Thực hiện Quy chế làm việc của UBND tỉnh, Văn phòng UBND tỉnh xin ý kiến các thành viên UBND "
               "tỉnh bằng văn bản về dự thảo Quyết định ban hành Quy chế quản lý cụm công nghiệp trên địa bàn "
               "tỉnh (Sở Công Thương trình).")
QUESTIONS = [
    {"kind": "agree", "text": "Đồng chí có đồng ý ban hành Quy chế theo dự thảo không?"},
    {"kind": "choice", "text": "Ưu tiên thành lập mới cụm công nghiệp tại (chọn tối đa 2 địa điểm)",
     "options": ["Huyện Đức Trọng", "Huyện Lâm Hà", "Huyện Di Linh"], "min_choices": 1, "max_choices": 2},
]
# username → (answer to the first question, options of the second, comment)
ANSWERS = {
    "chair": ("agree", ["o1"], ""),
    "delegate1": ("agree", ["o1", "o2"], ""),
    "delegate3": ("agree", ["o1"], "Đề nghị làm rõ cơ chế hỗ trợ đầu tư hạ tầng."),
    "delegate5": ("other", ["o2", "o3"], "Đề nghị bổ sung quy định chuyển tiếp cho các cụm đã có chủ đầu tư."),
    "delegate7": ("disagree", ["o3"], "Chưa đánh giá đủ tác động môi trường."),
}


def load_demo_opinions(session: Session, body: Body, users: dict[str, User], config,
                       now: datetime | None = None) -> bool:
    """Create the demo form and its answers when missing; True when something was made."""
    if session.execute(select(OpinionForm.id).where(OpinionForm.body_id == body.id,
                                                    OpinionForm.title == TITLE)).first():
        return False
    now = now or utcnow()
    office, chair = users["secretary"], users["chair"]
    form = service.create_form(session, body, office, {
        "title": TITLE, "explanation": EXPLANATION, "closes_at": now + timedelta(days=5), "questions": QUESTIONS,
        "chair_id": chair.id, "signer_id": chair.id, "signer_title": "CHỦ TỊCH", "allow_change": True})
    service.open_form(session, form, office, now=now)
    q1, q2 = form.questions
    for name, (choice, options, comment) in ANSWERS.items():
        answering.submit_answer(session, form, users[name], [
            {"question_id": q1.id, "choice": choice, "comment": comment},
            {"question_id": q2.id, "options": options}], config)
    return True
