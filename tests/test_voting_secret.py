"""Secret ballots: nobody — chair, secretariat, administrator, database or log reader — learns who chose what."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

from sqlalchemy import select

from meetings.core.extensions import db
from meetings.models import Base
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from meetings.voting.models import BallotCast, PollOption, PollTally
from tests import factories
from tests.conftest import _empty_all_tables
from tests.test_voting_support import open_poll, option, start_meeting, vote

VOTERS = ("delegate", "delegate2", "secretary")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


def test_secret_choices_reach_nobody_but_as_totals(as_user, world):
    """Over REST and in storage (the sockets' side is in test_voting_socket.py)."""
    w = world
    start_meeting(w)
    poll = open_poll(as_user, w, secret=True, title="Bỏ phiếu kín: bầu Chủ tịch")
    labels = {o["id"]: o["label"] for o in poll["options"]}
    for name, choice in zip(VOTERS, ("for", "against", "for"), strict=True):
        r = vote(as_user, name, poll, choice)
        assert r.status_code == 201 and r.json == {"poll_id": poll["id"], "voter_id": getattr(w, name).id,
                                                   "voted": True}
    mine = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json["my_ballot"]
    assert mine == {"voted": True, "cast_by_id": w.delegate.id}
    for name in ("chair", "secretary", "admin"):
        seen = as_user(name).get(f"/api/v1/polls/{poll['id']}").json
        assert seen["voted"] == 3 and seen["entitled"] == 4 and "counts" not in seen and "result" not in seen
    assert "voted" not in as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    assert closed["status"] == "closing" and "result" not in closed  # withheld until the tally is scrubbed
    closed = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json  # scrubbed right after the commit
    assert closed["status"] == "closed" and closed["named_votes"] is None
    assert {o["label"]: o["count"] for o in closed["result"]["options"]} == {
        "Tán thành": 2, "Không tán thành": 1, "Không biểu quyết": 0}
    as_user("chair").post(f"/api/v1/polls/{poll['id']}/publish")
    for name in ("chair", "secretary", "admin", "delegate", "archivist"):
        seen = as_user(name).get(f"/api/v1/polls/{poll['id']}").json
        assert seen["named_votes"] is None and "option_ids" not in seen["my_ballot"]
        assert as_user(name).get(f"/api/v1/polls/{poll['id']}/results.json").json["named_votes"] is None
    csv_text = as_user("chair").get(f"/api/v1/polls/{poll['id']}/results.csv").get_data(as_text=True)
    assert "voter" not in csv_text and w.delegate.full_name not in csv_text

    # Stored: the has-voted rows hold no choice; the audit names only who voted.
    assert all(b.choice is None for b in db.session.execute(select(BallotCast)).scalars())
    for entry in db.session.execute(select(AuditEntry).where(AuditEntry.action == "vote.cast")).scalars():
        assert set(entry.details) == {"voter_id", "by_proxy"}
    for ev in db.session.execute(select(MeetingEvent)).scalars():
        assert not any(label in json.dumps(ev.data, ensure_ascii=False) for label in labels.values()) \
            or ev.type in ("poll.opened", "poll.published")
    db.session.remove()


def _normalized(value):
    if isinstance(value, dt.datetime):
        return "<time>"
    if isinstance(value, str):
        return _ISO.sub("<time>", value)
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def _dump() -> dict[str, list]:
    """Every row of every table in primary-key order, without times and random hashes."""
    out = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
            out[table.name] = [{k: _normalized(v) for k, v in row.items() if "hash" not in k} for row in rows]
    return out


def _secret_sitting(app, choices: dict[str, str], caplog) -> tuple[dict, list[str], dict]:
    world = factories.build_world(db.session)
    start_meeting(world)
    as_user = factories.TokenClients(app, world)
    for name in ("chair", *VOTERS):
        as_user(name)
    caplog.clear()
    poll = open_poll(as_user, world, secret=True, title="Bỏ phiếu kín")
    intermediate = []
    counts = {str(o["id"]): 0 for o in poll["options"]}
    for name in VOTERS:  # the same order in every sitting: only the choices differ
        assert vote(as_user, name, poll, choices[name]).status_code == 201
        counts[str(option(poll, choices[name]))] += 1
        intermediate.append(json.dumps(counts))
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").status_code == 200
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/publish").status_code == 200
    logs = [f"{r.name}:{r.levelname}:{_ISO.sub('<time>', r.getMessage())}" for r in caplog.records]
    db.session.remove()
    return _dump(), logs, {"poll": poll, "intermediate": intermediate}


def test_database_and_logs_cannot_attribute_secret_choices(app, caplog):
    """Two sittings, same voters in the same order, choices swapped between them: if the stored
    database and the logs come out identical, nothing in them can tell who chose what."""
    caplog.set_level(logging.DEBUG)
    dump_a, logs_a, a = _secret_sitting(app, {"delegate": "for", "delegate2": "against", "secretary": "abstain"},
                                        caplog)
    if db.engine.dialect.name == "sqlite":
        _assert_no_old_tally_versions_on_disk(a["intermediate"])
    _empty_all_tables()
    dump_b, logs_b, b = _secret_sitting(app, {"delegate": "abstain", "delegate2": "for", "secretary": "against"},
                                        caplog)
    assert a["poll"]["id"] == b["poll"]["id"]  # same ids: the dumps are comparable row by row
    assert dump_a["ballots_cast"] and dump_a["poll_tallies"] and dump_a["audit_entries"]
    assert dump_a == dump_b
    assert logs_a == logs_b
    # And structurally: the has-voted rows carry no choice, the tally no voter and no time.
    assert all(row["choice"] is None for row in dump_a["ballots_cast"])
    assert set(PollTally.__table__.columns.keys()) == {"poll_id", "counts", "ballots", "weight", "sealed"}
    option_fks = [fk for t in Base.metadata.sorted_tables for fk in t.foreign_keys
                  if fk.column.table is PollOption.__table__]
    assert option_fks == []  # no table refers to an option row
    labels = [o["label"] for o in a["poll"]["options"]]
    assert not any(label in line for line in logs_a for label in labels)
    assert not any("could not scrub" in line for line in logs_a + logs_b)  # closing scrubbed the tally table


def _assert_no_old_tally_versions_on_disk(intermediate: list[str]) -> None:
    """SQLite: after closing (WAL checkpointed and truncated, secure_delete on), the tally's earlier
    states are nowhere in the database files, though the final one is."""
    path = Path(db.engine.url.database)
    wal = Path(str(path) + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    *earlier, final = intermediate
    assert final.encode() in raw  # the search works: the final state is there
    for state in earlier:
        assert state.encode() not in raw, state
