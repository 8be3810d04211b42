"""Fixtures of the fuzz suite: one app per module over the worker's database, and a seeded world.

``seed_world`` empties the tables and builds a world where every kind of object
exists (a live meeting with a published document, a draft and an open poll, a
proxy, an annotation; a draft and a closed meeting), so generated requests can
reach real objects as well as missing ones. Fuzz tests carry the ``fuzz``
marker; ``make test`` runs them with the rest of the suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from meetings import create_app
from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.documents import service as documents
from meetings.documents.models import Document
from tests import factories, pdfs
from tests.conftest import _empty_all_tables

ROLE_NAMES = ("outsider", "observer", "delegate", "archivist", "chair", "secretary", "admin")


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: fuzzing of inputs (bounded, derandomized); part of make test")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fuzz)


@dataclass
class Seeded:
    """Ids of the seeded objects, by the path parameter name that takes them, and a token per role."""

    ids: dict[str, list] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    meeting_id: int = 0


@pytest.fixture(scope="module")
def fuzz_app(database_url, tmp_path_factory) -> Flask:
    """An application for one fuzz module: low intake limits, generous rate limits."""
    tmp = tmp_path_factory.mktemp("fuzz")
    application = create_app({
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp / "instance"),
        "STORAGE_PATH": str(tmp / "storage"),
        "SECRET_KEY": "fuzz-secret",
        "TESTING": True,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "PDF_CHECK_SECONDS": 5,
        "PDF_CHECK_MEMORY_MB": 512,
        "MAX_UPLOAD_MB": 8,
        "MAX_PDF_PAGES": 50,
    })
    yield application
    db.session.remove()
    db.engine.dispose()


@pytest.fixture(scope="module")
def sample_blob(fuzz_app) -> tuple[str, int, int]:
    """One real PDF accepted by the real check once: (sha256, size, pages), reused by every seed."""
    with fuzz_app.app_context():
        return documents.ingest(pdfs.simple_pdf(3), fuzz_app.config["STORAGE_PATH"],
                                documents.default_limits())


def seed_world(app: Flask, blob: tuple[str, int, int]) -> Seeded:
    """Empty the database and build the fuzz world (see the module docstring)."""
    _empty_all_tables()
    db.session.remove()
    world = factories.build_world(db.session, status="in_progress")
    draft = factories.build_draft_meeting(db.session, world)
    closed = Meeting(body_id=world.body.id, title="Phiên họp đã kết thúc", place="Phòng 3",
                     starts_at=world.meeting.starts_at, status="closed",
                     created_by_id=world.users["secretary"].id)
    db.session.add(closed)
    sha, size, pages = blob
    doc = Document(meeting_id=world.meeting.id, agenda_item_id=world.items[0].id, title="Tờ trình",
                   filename="to-trinh.pdf", sha256=sha, size=size, page_count=pages, version=1,
                   is_current=True, published=True, confidentiality="normal",
                   uploaded_by_id=world.users["secretary"].id)
    db.session.add(doc)
    db.session.flush()
    doc.series_id = doc.id
    db.session.commit()
    clients = factories.TokenClients(app, world)
    tokens = {name: clients.token(name) for name in ROLE_NAMES}
    sec, dele = clients("secretary"), clients("delegate")
    mid = world.meeting.id
    polls = []
    for title in ("Biểu quyết dự thảo", "Biểu quyết thông qua"):
        r = sec.post(f"/api/v1/meetings/{mid}/polls", json={"title": title})
        assert r.status_code == 201, r.json
        polls.append(r.json["id"])
    assert sec.post(f"/api/v1/polls/{polls[1]}/open").status_code == 200
    r = sec.post(f"/api/v1/meetings/{mid}/proxies",
                 json={"grantor_id": world.users["delegate2"].id, "holder_id": world.users["delegate"].id})
    assert r.status_code == 201, r.json
    proxies = [r.json["id"]]
    r = dele.post(f"/api/v1/documents/{doc.id}/annotations",
                  json={"kind": "note", "page": 1, "text": "Ghi chú", "geometry": {"point": [72, 700]}})
    assert r.status_code in (200, 201), r.json
    annotations = [r.json["id"]]
    db.session.remove()
    users = world.users
    participants = _participant_ids(mid)
    return Seeded(
        ids={
            "meeting_id": [mid, draft.id, closed.id],
            "body_id": [world.body.id],
            "user_id": [users[n].id for n in ("delegate", "delegate2", "chair", "admin")],
            "participant_id": participants,
            "item_id": [i.id for i in world.items],
            "document_id": [doc.id],
            "poll_id": polls,
            "proxy_id": proxies,
            "annotation_id": annotations,
            "minutes_id": [1],
        },
        tokens=tokens,
        meeting_id=mid,
    )


def _participant_ids(meeting_id: int) -> list[int]:
    from sqlalchemy import select

    from meetings.bodies.models import Participant

    ids = list(db.session.execute(select(Participant.id).where(Participant.meeting_id == meeting_id)).scalars())
    db.session.remove()
    return ids
