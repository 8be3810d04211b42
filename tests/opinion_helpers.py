"""Shared by the opinion tests: a body of 12 members with a secretariat, signing keys, a form."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from meetings.accounts.service import create_user
from meetings.bodies.models import Body
from meetings.bodies.service import set_body_member
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.minutes.signers import issue_key
from tests.factories import PASSWORD
from tests.minutes_support import CA_PASS, CHAIR_PASS, SECRETARY_PASS

MEMBER_PASS = SECRETARY_PASS  # the delegate's key passphrase
EXTRA = [f"member{i}" for i in range(1, 8)]  # with the world's five body members: twelve


@pytest.fixture
def body12(app, world):
    """The world's body with twelve members; the world's secretary is in its secretariat (the office).

    Also a second body with its own member (``other``), who must never see the first body's forms."""
    admin = db.session.merge(world.admin)
    body = db.session.get(Body, world.body.id)
    set_body_member(db.session, body, admin, user_id=world.secretary.id, position="Chánh Văn phòng",
                    is_secretariat=True)
    for name in EXTRA:
        user = create_user(db.session, name, PASSWORD, f"Thành viên {name[-1]}")
        set_body_member(db.session, body, admin, user_id=user.id, position="Giám đốc Sở")
        world.users[name] = user
    other_body = Body(name="Ủy ban nhân dân huyện Khác", short_name="UBND", place_name="Khác")
    db.session.add(other_body)
    db.session.flush()
    other = create_user(db.session, "other", PASSWORD, "Thành viên cơ quan khác")
    set_body_member(db.session, other_body, admin, user_id=other.id, position="Thành viên")
    world.users["other"] = other
    for name, user in world.users.items():
        user = db.session.merge(user)
        user.email = f"{name}@meetings.test"
    db.session.commit()
    return world


@pytest.fixture
def opinion_keys(app, body12, pki):
    """The organization CA in the app's instance, keys for the delegate (answers) and the chair (report)."""
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config["MINUTES_FONT_CACHE"] = str(pki["instance"] / "fonts")
    with app.app_context():
        issue_key(db.session, app.config, db.session.merge(body12.delegate), ca_passphrase=CA_PASS,
                  passphrase=MEMBER_PASS)
        issue_key(db.session, app.config, db.session.merge(body12.chair), ca_passphrase=CA_PASS,
                  passphrase=CHAIR_PASS)
        db.session.commit()
    return body12


def form_body(world, **over) -> dict:
    """A form with an agree question and a choice question, closing in a day, the chair signing its report."""
    data = {
        "title": "Xin ý kiến về dự thảo Quyết định ban hành Quy chế quản lý cụm công nghiệp",
        "explanation": "Văn phòng UBND tỉnh xin ý kiến các thành viên UBND tỉnh.",
        "closes_at": (utcnow() + timedelta(days=1)).isoformat(),
        "chair_id": world.chair.id, "signer_id": world.chair.id, "signer_title": "CHỦ TỊCH",
        "questions": [
            {"kind": "agree", "text": "Đồng ý ban hành Quy chế theo dự thảo?"},
            {"kind": "choice", "text": "Chọn địa điểm cụm công nghiệp (tối đa 2)",
             "options": ["Đức Trọng", "Lâm Hà", "Di Linh"], "min_choices": 1, "max_choices": 2},
        ],
    }
    data.update(over)
    return data


def agree_and_choose(form: dict, choice: str = "agree", options: list[str] | None = None,
                     comment: str = "") -> list[dict]:
    q1, q2 = form["questions"]
    return [{"question_id": q1["id"], "choice": choice, "comment": comment},
            {"question_id": q2["id"], "options": options or ["o1"]}]
