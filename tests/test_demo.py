"""The demo loader (`flask --app wsgi demo load`): complete, idempotent, readable Vietnamese PDFs."""
from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from meetings.accounts.models import User
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.bodies.template_models import MeetingTemplate
from meetings.bodies.unit_models import Unit
from meetings.conclusions.models import ConclusionNotice
from meetings.core.extensions import db
from meetings.demo import AGENDA, BODY_NAME, DELEGATES, MEETING_TITLE, PASSWORD, PLACE, USERNAMES, load_demo
from meetings.documents.models import Document
from meetings.documents.storage import blob_path
from meetings.minutes.models import SignerKey
from meetings.opinions.models import OpinionForm
from meetings.platform.audit.models import AuditEntry
from meetings.platform.audit.service import verify_chain
from meetings.tasks.models import Task

COUNTED = (User, Body, BodyMember, Meeting, Participant, AgendaItem, Document, AuditEntry, SignerKey,
           MeetingTemplate, Unit, ConclusionNotice, OpinionForm, Task)


def _counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def _load(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@pytest.fixture
def demo(app):
    """The app with the demo loaded once through the CLI command."""
    output = _load(app)
    assert output.startswith("demo loaded")
    return app


def test_loading_twice_changes_nothing_and_prints_url_and_logins(demo, monkeypatch):
    with demo.app_context():
        first = _counts()
        files = sorted(p.name for p in _storage_files(demo))
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.delenv("BIND", raising=False)
    output = _load(demo)
    assert output.startswith("demo already loaded")
    assert "http://127.0.0.1:5123/" in output
    assert "admin" in output and "delegate12" in output and f"Password: {PASSWORD}" in output
    with demo.app_context():
        assert _counts() == first  # not even an audit entry
        assert sorted(p.name for p in _storage_files(demo)) == files
        assert first["User"] == 16 and first["Meeting"] == 2 and first["Body"] == 1  # the coming sitting, last month's
        assert first["Document"] == sum(1 + len(top.children) for top in AGENDA)
        assert verify_chain(db.session) == []


def test_users_meeting_participants_and_agenda(demo):
    with demo.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert sorted(users) == sorted(USERNAMES)
        assert users["admin"].global_role == "admin" and users["archivist"].global_role == "archivist"
        assert all(users[n].global_role is None for n in USERNAMES if n not in ("admin", "archivist"))
        assert users["chair"].full_name == "Nguyễn Văn An"
        assert [users[f"delegate{i}"].full_name for i in range(1, 13)] == [name for name, _ in DELEGATES]

        meeting = db.session.scalars(select(Meeting).where(Meeting.title == MEETING_TITLE)).one()
        assert meeting.body.name == BODY_NAME and meeting.title == MEETING_TITLE and meeting.place == PLACE
        assert meeting.status == "scheduled"
        starts = meeting.starts_at if meeting.starts_at.tzinfo else meeting.starts_at.replace(tzinfo=UTC)
        # 08:00 in Asia/Ho_Chi_Minh (UTC+7, no daylight saving) is 01:00 UTC.
        assert (starts.hour, starts.minute) == (1, 0)
        assert 0 < (starts - datetime.now(UTC)).total_seconds() <= 2 * 24 * 3600

        roles = {p.user.username: p.role for p in meeting.participants}
        assert roles.pop("chair") == "chair" and roles.pop("secretary") == "secretary"
        assert roles == {f"delegate{i}": "delegate" for i in range(1, 13)}
        members = {m.user.username: m for m in meeting.body.members}
        assert members["secretary"].is_secretariat and not members["chair"].is_secretariat
        assert members["chair"].position == "Chủ tịch UBND tỉnh"
        assert "admin" not in members and "archivist" not in members

        items = db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).all()
        top = [i for i in items if i.parent_id is None]
        subs = [i for i in items if i.parent_id is not None]
        assert len(top) >= 5 and len(subs) >= 1
        assert "Các vấn đề khác" in [i.title for i in top]
        docs = db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)).all()
        assert {d.agenda_item_id for d in docs} == {i.id for i in items}
        assert all(d.published and d.is_current for d in docs)
        assert [d.confidentiality for d in docs].count("confidential") == 1

    client = demo.test_client()
    for username in USERNAMES:
        r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, username
    r = client.post("/api/v1/auth/token", json={"username": "delegate1", "password": "Demo"})
    assert r.status_code == 401


def test_tomorrow_is_computed_in_local_time():
    from meetings.demo import _tomorrow_at_eight

    # 23:30 UTC on 31 Dec is already 06:30 on 1 Jan in Hà Nội: the meeting is on 2 Jan.
    assert _tomorrow_at_eight(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == datetime(2027, 1, 2, 1, 0, tzinfo=UTC)


def test_documents_are_multi_page_vietnamese_pdfs(demo):
    with demo.app_context():
        docs = db.session.scalars(select(Document)).all()
        root = demo.config["STORAGE_PATH"]
        for doc in docs:
            path = blob_path(root, doc.sha256)
            assert path.read_bytes().startswith(b"%PDF-")
            pages = len(PdfReader(path).pages)
            assert doc.page_count == pages and 3 <= pages <= 8, (doc.filename, pages)
            text = subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                                  capture_output=True, text=True).stdout
            # Every tone mark and the đ/ơ/ư letters survive into the text layer.
            for needle in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "ỦY BAN NHÂN DÂN",
                           "TỈNH LÂM ĐỒNG", "Nơi nhận", "Nguyễn Văn An"):
                assert needle in text, (doc.filename, needle)
            assert ("MẬT" in text.split()) == (doc.confidentiality == "confidential"), doc.filename


def test_a_failed_load_leaves_nothing_behind(app, tmp_path):
    # A storage "folder" that is a file: documents cannot be stored, so the load fails midway.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app.config["STORAGE_PATH"] = str(blocker)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    with app.app_context():
        assert all(n == 0 for n in _counts().values()), _counts()


def test_existing_users_are_kept_not_overwritten(app):
    from meetings.accounts.service import authenticate, create_user

    with app.app_context():
        create_user(db.session, "chair", "someone-elses-password", "Người khác")
        db.session.commit()
        load_demo(db.session, app.config["STORAGE_PATH"])
        db.session.commit()
        chair = db.session.scalars(select(User).where(User.username == "chair")).one()
        assert chair.full_name == "Người khác"
        assert authenticate(db.session, "chair", PASSWORD) is None
        assert db.session.scalar(select(func.count()).select_from(User)) == 16


def _storage_files(app):
    from pathlib import Path

    return [p for p in Path(app.config["STORAGE_PATH"]).rglob("*") if p.is_file()]


def test_secretary_and_chair_get_demo_signing_keys(demo):
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import pkcs12

    from meetings.demo import DEMO_SIGNING_PASSPHRASE

    with demo.app_context():
        rows = db.session.execute(select(User.username, SignerKey.path).join(SignerKey, SignerKey.user_id == User.id)
                                  .where(SignerKey.revoked_at.is_(None))).all()
    assert sorted(name for name, _ in rows) == ["chair", "secretary"]
    for _, path in rows:
        data = Path(path).read_bytes()
        key, cert, _ = pkcs12.load_key_and_certificates(data, DEMO_SIGNING_PASSPHRASE.encode())
        assert key is not None and cert is not None
        with pytest.raises(ValueError):  # encrypted on disk: nothing opens it without the passphrase
            pkcs12.load_key_and_certificates(data, b"demo")


def test_the_work_around_the_sitting_is_there(demo):
    """A regular template (next month in two clicks), last month's signed notice with its tasks, an opinion form."""
    with demo.app_context():
        template = db.session.scalars(select(MeetingTemplate)).one()
        assert template.regular and "{month}" in template.title_pattern
        notice = db.session.scalars(select(ConclusionNotice)).one()
        assert notice.status == "published" and notice.number.endswith("/TB-UBND")
        tasks = db.session.scalars(select(Task)).all()
        assert len(tasks) >= 3 and len({t.lead_unit_id for t in tasks}) >= 2
        assert db.session.scalars(select(OpinionForm)).one().status == "open"
        assert db.session.scalar(select(func.count()).select_from(Unit)) >= 2


def test_next_regular_sitting_comes_from_the_demo_template(demo):
    from meetings.accounts.models import User as U
    from meetings.bodies import regular

    with demo.app_context():
        body = db.session.scalars(select(Body)).one()
        admin = db.session.scalars(select(U).where(U.username == "admin")).one()
        plan = regular.plan_next(db.session, body, admin)
        assert "Phiên họp thường kỳ tháng" in plan["title"], plan
        db.session.rollback()
