"""Shared by the tasks tests: a world with two units, a body office, and small REST shortcuts."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from meetings.bodies.models import Body, BodyMember
from meetings.core.db import utcnow
from meetings.core.extensions import db
from tests.annotation_helpers import pdf_with_lines


@dataclass
class Units:
    finance: int        # Sở Tài chính: delegate heads it, observer works in it
    planning: int       # Sở Kế hoạch và Đầu tư: delegate2 heads it


def make_office(world, name: str = "secretary") -> None:
    """``name`` joins the body's secretariat (the office that follows tasks)."""
    member = db.session.scalars(select(BodyMember).where(
        BodyMember.body_id == world.body.id, BodyMember.user_id == world.users[name].id)).one()
    member.is_secretariat = True
    db.session.commit()


def make_units(world, as_user) -> Units:
    """Two units of the world's body, made through the REST API by the office."""
    office = as_user("secretary")
    ids = []
    for name, head, others in (("Sở Tài chính", "delegate", ["observer"]), ("Sở Kế hoạch và Đầu tư", "delegate2", [])):
        r = office.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": name})
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
        assert office.post(f"/api/v1/units/{ids[-1]}/members",
                           json={"user_id": world.users[head].id, "is_head": True}).status_code == 201
        for other in others:
            assert office.post(f"/api/v1/units/{ids[-1]}/members",
                               json={"user_id": world.users[other].id}).status_code == 201
    return Units(*ids)


def other_body_member(world) -> None:
    """The outsider becomes a member (and secretariat) of another body."""
    other = Body(name="Hội đồng nhân dân tỉnh Bên Cạnh")
    db.session.add(other)
    db.session.flush()
    db.session.add(BodyMember(body_id=other.id, user_id=world.outsider.id, is_secretariat=True))
    db.session.commit()


def iso(at: datetime) -> str:
    return at.isoformat()


def in_days(n: float) -> datetime:
    return utcnow() + timedelta(days=n)


def new_task(client, body_id: int, **fields) -> dict:
    body = {"title": "Nhiệm vụ", "deadline": iso(in_days(7)), **fields}
    if isinstance(body["deadline"], datetime):
        body["deadline"] = iso(body["deadline"])
    r = client.post(f"/api/v1/bodies/{body_id}/tasks", json=body)
    assert r.status_code == 201, r.json
    return r.json


def pdf(text: str = "Báo cáo kết quả thực hiện") -> bytes:
    return pdf_with_lines([[text, "Sở Tài chính tỉnh Thử Nghiệm"]])


def report(client, task_id: int, what: str = "progress", *, text: str = "", files: list[bytes] = (),
           progress: int | None = None):
    data: dict = {"text": text}
    if progress is not None:
        data["progress"] = str(progress)
    if files:
        data["file"] = [(io.BytesIO(f), f"bao-cao-{n}.pdf") for n, f in enumerate(files)]
    return client.post(f"/api/v1/tasks/{task_id}/{what}", data=data, content_type="multipart/form-data")
