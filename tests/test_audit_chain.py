"""The audit log is hash-chained: a changed, inserted or deleted entry is found, also by the CLI."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform.audit import service as audit
from meetings.platform.audit.models import AuditEntry


@pytest.fixture
def chain(app):
    """Five entries written the normal way (app context pushed for the test's duration)."""
    with app.app_context():
        for n in range(5):
            audit.record(db.session, "test.action", actor_id=None, object_type="thing", object_id=n,
                         meeting_id=7, details={"n": n, "note": "Biên bản số " + str(n)})
        db.session.commit()
        ids = db.session.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars().all()
        yield ids
        db.session.remove()


def _verify_cli(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    try:
        err = result.stderr  # Click ≥ 8.2 keeps stderr apart (and also in output)
    except ValueError:
        err = ""
    return result.exit_code, result.output + err


def test_intact_chain_verifies(app, chain):
    assert audit.verify_chain(db.session) == []
    code, out = _verify_cli(app)
    assert code == 0 and "audit log intact" in out


def test_entries_link_to_each_other(app, chain):
    rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


def test_changed_entry_is_found(app, chain):
    db.session.execute(update(AuditEntry).where(AuditEntry.id == chain[2])
                       .values(details={"n": 2, "note": "đã sửa"}))
    db.session.commit()
    problems = audit.verify_chain(db.session)
    assert [(p.entry_id, p.problem) for p in problems] == [(chain[2], "content changed after it was written")]
    code, out = _verify_cli(app)
    assert code == 1 and f"entry {chain[2]}: content changed" in out


def test_changed_actor_or_time_is_found(app, chain):
    db.session.execute(update(AuditEntry).where(AuditEntry.id == chain[1]).values(at=utcnow()))
    db.session.commit()
    assert [p.entry_id for p in audit.verify_chain(db.session)] == [chain[1]]


def test_rehashed_change_still_breaks_the_next_link(app, chain):
    # A forger who recomputes the changed entry's own hash still breaks the entry after it.
    entry = db.session.get(AuditEntry, chain[2])
    entry.details = {"n": 2, "note": "giả mạo"}
    entry.hash = audit.entry_hash(entry)
    db.session.commit()
    problems = audit.verify_chain(db.session)
    assert [p.entry_id for p in problems] == [chain[3]]
    assert "inserted or deleted" in problems[0].problem


def test_deleted_entry_is_found(app, chain):
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == chain[2]))
    db.session.commit()
    problems = audit.verify_chain(db.session)
    assert [p.entry_id for p in problems] == [chain[3]]
    code, out = _verify_cli(app)
    assert code == 1 and f"entry {chain[3]}" in out and "inserted or deleted" in out


def test_inserted_entry_is_found(app, chain):
    # A row slipped in with a self-consistent hash but the wrong link to its predecessor.
    forged = AuditEntry(id=chain[-1] + 10, at=utcnow(), actor_id=None, action="minutes.signed",
                        object_type="minutes", object_id=1, meeting_id=7, details={}, prev_hash=audit.GENESIS)
    forged.hash = audit.entry_hash(forged)
    db.session.add(forged)
    db.session.commit()
    problems = audit.verify_chain(db.session)
    assert [p.entry_id for p in problems] == [forged.id]
    code, _ = _verify_cli(app)
    assert code == 1


def test_deleting_the_entry_before_the_newest_is_found(app, chain):
    # (Cutting off the newest entries leaves a shorter valid chain: only an anchor kept elsewhere,
    # such as the hash copied into an exported bag, shows that; see docs/signing.md.)
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == chain[-2]))
    db.session.commit()
    assert [p.entry_id for p in audit.verify_chain(db.session)] == [chain[-1]]


def test_minutes_actions_are_in_the_chain(app, world, as_user):
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/minutes", json={})
    assert r.status_code == 201
    as_user("secretary").patch(f"/api/v1/minutes/{r.json['id']}", json={"number": "1/BB"})
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.meeting_id == world.meeting.id)
                                     .order_by(AuditEntry.id)).scalars().all()
        assert actions[-2:] == ["minutes.created", "minutes.updated"]
        assert audit.verify_chain(db.session) == []
