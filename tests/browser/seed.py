"""Data for the browser tests: the standard world, in progress, with two published PDFs.

Written straight into the test database and the server's storage folder (the
same layout meetings.documents.storage uses), so the pages have something to
show whatever state the upload API is in.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from meetings.core.db import make_engine
from meetings.documents.models import Document
from meetings.documents.storage import blob_path
from meetings.models import Base
from tests import factories
from tests.pdfs import simple_pdf


@dataclass
class Seeded:
    meeting_id: int
    item_ids: list[int]
    doc_ids: list[int]
    user_ids: dict[str, int]


def _empty(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def _store(storage: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(storage, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha


def seed(database_url: str, storage: Path) -> Seeded:
    """Empty the database, then build the world (meeting in progress) with two documents."""
    engine = make_engine(database_url)
    _empty(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = factories.build_world(session, status="in_progress", through_service=False)
        docs = []
        for n, (item, title, pages) in enumerate([(world.items[0], "Dự thảo nghị quyết ngân sách", 4),
                                                   (world.items[1], "Báo cáo kinh tế – xã hội", 2)]):
            data = simple_pdf(pages, text=f"{title} — tài liệu số {n + 1}")
            sha = _store(storage, data)
            doc = Document(meeting_id=world.meeting.id, agenda_item_id=item.id, title=title,
                           filename=f"tai-lieu-{n + 1}.pdf", sha256=sha, size=len(data), page_count=pages,
                           published=True, uploaded_by_id=world.secretary.id)
            session.add(doc)
            session.flush()
            doc.series_id = doc.id
            docs.append(doc)
        session.commit()
        result = Seeded(world.meeting.id, [i.id for i in world.items], [d.id for d in docs],
                        {name: u.id for name, u in world.users.items()})
    engine.dispose()
    return result
