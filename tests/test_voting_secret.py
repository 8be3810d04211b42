"""Secret ballots: nobody — chair, secretariat, administrator, database or log reader — learns who chose what.

Ballots are encrypted on the voter's device under the counting committee's key
(``meetings.voting.elgamal``); the server stores who voted apart from the
ciphertexts and never holds a plaintext choice, a running count or the key.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from meetings import create_app
from meetings.accounts.service import create_user
from meetings.bodies.models import Participant
from meetings.core.extensions import db
from meetings.core.migrate import upgrade
from meetings.models import Base
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from meetings.voting import elgamal
from meetings.voting.models import BallotCast, EncryptedBallot, PollOption, PollTally, SecretBallotCast
from tests import factories
from tests.conftest import _empty_all_tables
from tests.test_voting_support import close_secret, count_secret, open_poll, option, position, start_meeting, vote

VOTERS = ("delegate", "delegate2", "secretary")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
# Columns (and the same fields inside stored JSON) that hold ciphertexts, proofs, hashes or the
# random ids and keys of a sitting's committee and polls: they differ between any two sittings.
RANDOM = {"content", "board_id", "public_key", "encrypted_tally", "uid", "round1", "verification_key",
          "ephemeral", "ciphertext", "shares"}


def test_secret_choices_reach_nobody_but_as_totals(as_user, world):
    """Over REST and in storage (the sockets' side is in test_voting_socket.py)."""
    w = world
    start_meeting(w)
    poll = open_poll(as_user, w, secret=True, title="Bỏ phiếu kín: bầu Chủ tịch")
    labels = {o["id"]: o["label"] for o in poll["options"]}
    codes = []
    for name, choice in zip(VOTERS, ("for", "against", "for"), strict=True):
        r = vote(as_user, name, poll, choice)
        assert r.status_code == 201 and set(r.json) == {"poll_id", "voter_id", "voted", "tracking_code"}, r.json
        assert r.json["voter_id"] == getattr(w, name).id and re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){2}",
                                                                           r.json["tracking_code"])
        codes.append(r.json["tracking_code"])
    mine = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json["my_ballot"]
    assert mine == {"voted": True, "cast_by_id": w.delegate.id}  # no tracking code kept beside the voter
    for name in ("chair", "secretary", "admin"):
        seen = as_user(name).get(f"/api/v1/polls/{poll['id']}").json
        assert seen["voted"] == 3 and seen["entitled"] == 4 and "counts" not in seen and "result" not in seen
    assert "voted" not in as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    assert closed["status"] == "counting" and "result" not in closed  # waiting for the committee
    assert closed["count"] == {"partials": [], "threshold": 2}
    closed = count_secret(as_user, w, poll)
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
    board = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/board").json
    assert sorted(b["tracking_code"] for b in board["ballots"]) == sorted(codes)  # each voter finds theirs
    assert w.delegate.full_name not in json.dumps(board, ensure_ascii=False)

    # Stored: no has-voted row holds a choice; the audit names only who voted.
    assert db.session.execute(select(BallotCast)).scalars().all() == []
    assert len(db.session.execute(select(SecretBallotCast)).scalars().all()) == 3
    for entry in db.session.execute(select(AuditEntry).where(AuditEntry.action == "vote.cast")).scalars():
        assert set(entry.details) == {"voter_id", "by_proxy"}
    for ev in db.session.execute(select(MeetingEvent)).scalars():
        text = json.dumps(ev.data, ensure_ascii=False)
        assert not any(code in text for code in codes)
        assert not any(label in text for label in labels.values()) or ev.type in ("poll.opened", "poll.published")
    db.session.remove()


def _normalized(value, key: str | None = None):
    if key in RANDOM:
        return "<random>"
    if isinstance(value, dt.datetime):
        return "<time>"
    if isinstance(value, str):
        return _ISO.sub("<time>", value)
    if isinstance(value, dict):
        return {k: _normalized(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def _dump() -> dict[str, list]:
    """Every row of every table, without times, hashes, and the sitting's random ids, keys,
    ciphertexts and proofs (each table's rows sorted once those are out, so the hash order goes)."""
    out = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
            kept = [{k: _normalized(v, k) for k, v in row.items() if "hash" not in k} for row in rows]
            out[table.name] = sorted(kept, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def _secret_sitting(app, choices: dict[str, str], caplog) -> tuple[dict, list[str], dict]:
    world = factories.build_world(db.session)
    start_meeting(world)
    as_user = factories.TokenClients(app, world)
    for name in ("chair", *VOTERS):
        as_user(name)
    caplog.clear()
    poll = open_poll(as_user, world, secret=True, title="Bỏ phiếu kín")
    for name in VOTERS:  # the same order in every sitting: only the choices differ
        assert vote(as_user, name, poll, choices[name]).status_code == 201
    close_secret(as_user, world, poll)
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/publish").status_code == 200
    logs = [f"{r.name}:{r.levelname}:{_ISO.sub('<time>', r.getMessage())}" for r in caplog.records]
    db.session.remove()
    return _dump(), logs, {"poll": poll}


def test_database_and_logs_cannot_attribute_secret_choices(app, caplog):
    """Two sittings, same voters in the same order, choices swapped between them: if the stored
    database and the logs come out identical (once the random keys, ciphertexts and proofs are
    left out), nothing in them can tell who chose what."""
    caplog.set_level(logging.DEBUG)
    dump_a, logs_a, a = _secret_sitting(app, {"delegate": "for", "delegate2": "against", "secretary": "abstain"},
                                        caplog)
    _empty_all_tables()
    dump_b, logs_b, b = _secret_sitting(app, {"delegate": "abstain", "delegate2": "for", "secretary": "against"},
                                        caplog)
    assert a["poll"]["id"] == b["poll"]["id"]  # same ids: the dumps are comparable row by row
    assert dump_a["secret_ballots_cast"] and dump_a["encrypted_ballots"] and dump_a["partial_decryptions"]
    assert dump_a["poll_tallies"] and dump_a["audit_entries"]
    assert dump_a == dump_b
    assert logs_a == logs_b
    # And structurally: neither the has-voted rows nor the ballots carry a time or a serial id.
    assert set(SecretBallotCast.__table__.columns.keys()) == {"poll_id", "voter_id", "cast_by_id", "weight"}
    assert set(EncryptedBallot.__table__.columns.keys()) == {"poll_id", "hash", "weight", "content"}
    assert set(PollTally.__table__.columns.keys()) == {"poll_id", "counts", "ballots", "weight", "sealed"}
    option_fks = [fk for t in Base.metadata.sorted_tables for fk in t.foreign_keys
                  if fk.column.table is PollOption.__table__]
    assert option_fks == []  # no table refers to an option row
    labels = [o["label"] for o in a["poll"]["options"]]
    assert not any(label in line for line in logs_a for label in labels)


# --- the attack of issue 14, automated ---------------------------------------------------------

SIX = ("chair", "secretary", "delegate", "delegate2", "delegate3", "delegate4")  # in voting order
CHOICES = ("for", "against", "abstain", "for", "for", "against")  # voter i's choice, in voting order


def _snapshot(path: Path, into: Path) -> Path:
    """A backup as a careless operator takes it mid-poll: the database file with its -wal and -shm."""
    into.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            shutil.copyfile(src, into / f"db{suffix}")
    return into / "db"


def _raw(snap: Path) -> bytes:
    return b"".join(Path(f"{snap}{s}").read_bytes() for s in ("", "-wal", "-shm") if Path(f"{snap}{s}").exists())


def _rows(snap: Path) -> dict[str, list[tuple]]:
    """Every table of a snapshot as SQLite reads it (the WAL applied), in its physical scan order."""
    conn = sqlite3.connect(f"file:{snap}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
    finally:
        conn.close()


def _hex_values(value) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return re.findall(r"\b[0-9a-f]{64}\b", value)
        return _hex_values(value) if not isinstance(value, str) else re.findall(r"\b[0-9a-f]{64}\b", value)
    if isinstance(value, dict):
        return [h for v in value.values() for h in _hex_values(v)]
    if isinstance(value, list):
        return [h for v in value for h in _hex_values(v)]
    return []


@pytest.fixture
def six_voters(tmp_path, caplog):
    """A sitting of 6 voting members on a database file of its own (nothing from other tests in its
    free pages), with the counting committee's devices and a recorder of each ballot's randomness."""
    if os.environ.get("TEST_DB", "").startswith("postgresql"):
        pytest.skip("reads SQLite's files")
    url = f"sqlite:///{tmp_path / 'attacked.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "STORAGE_PATH": str(tmp_path / "storage"), "SECRET_KEY": "test-secret", "TESTING": True})
    world = factories.build_world(db.session)
    for name in SIX[4:]:  # chair, secretary, delegate, delegate2 vote already: two more members
        user = create_user(db.session, name, factories.PASSWORD, f"Đại biểu {name}")
        world.users[name] = user
        db.session.add(Participant(meeting_id=world.meeting.id, user_id=user.id, role="delegate", can_vote=True))
    db.session.commit()
    start_meeting(world)
    yield app, world, Path(tmp_path / "attacked.sqlite3")
    db.session.remove()
    db.engine.dispose()


def test_a_mid_poll_backup_the_wal_and_the_log_link_no_voter_to_a_choice(six_voters, tmp_path, caplog):
    """Issue 14's attack: 6 voters in a known order; after each ballot, a copy of the database file,
    its WAL and shared memory (a backup taken mid-poll) and the log so far. Every way we know of
    lining voters up with choices is tried on them, and fails."""
    app, world, path = six_voters
    caplog.set_level(logging.DEBUG)
    as_user = factories.TokenClients(app, world)
    poll = open_poll(as_user, world, secret=True, title="Bầu Trưởng ban")
    ids = [o["id"] for o in poll["options"]]
    snaps, logs, draws = [], [], []

    def recording_rng():
        s = elgamal.random_scalar()
        draws.append(s)
        return s

    def encrypt(choice: str) -> dict:
        return elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], 3, [position(poll, choice)], 1, 1,
                                      rng=recording_rng)

    ballots = [encrypt(choice) for choice in CHOICES]  # each voter's device, before the voting starts
    while [elgamal.ballot_hash(poll["board_id"], b) for b in ballots[:2]] == sorted(
            elgamal.ballot_hash(poll["board_id"], b) for b in ballots[:2]):
        ballots[0] = encrypt(CHOICES[0])  # so that arrival order and hash order surely differ
    counts, states = {str(i): 0 for i in ids}, []
    for i, (voter, choice, ballot) in enumerate(zip(SIX, CHOICES, ballots, strict=True)):
        r = as_user(voter).post(f"/api/v1/polls/{poll['id']}/ballots", json={"ballot": ballot})
        assert r.status_code == 201, r.json
        counts[str(option(poll, choice))] += 1
        states.append(dict(counts))
        db.session.remove()
        snaps.append(_snapshot(path, tmp_path / f"snap{i}"))
        logs.append("\n".join(rec.getMessage() for rec in caplog.records))
    closed = close_secret(as_user, world, poll)
    assert {o["id"]: o["count"] for o in closed["result"]["options"]} == {int(k): v for k, v in counts.items()}
    db.session.remove()
    snaps.append(_snapshot(path, tmp_path / "after"))
    logs.append("\n".join(rec.getMessage() for rec in caplog.records))

    # 1. The old attack: a plaintext tally changing with each ballot. No table holds a count before the
    #    result, and no running tally is in any byte of any snapshot (file, WAL, free pages).
    encodings = [enc for st in states for enc in (json.dumps(st), json.dumps(st, separators=(",", ":")))]
    for snap in snaps[:-1]:
        tables = _rows(snap)
        assert [row[1] for row in tables["poll_tallies"]] == ["{}"]  # counts: none until the result
        raw = _raw(snap)
        assert not any(e.encode() in raw for e in encodings)
    final_raw = _raw(snaps[-1])
    assert json.dumps(states[-1]).encode() in final_raw  # the search works: the result is stored at the end
    assert not any(json.dumps(st).encode() in final_raw for st in states[:-1])
    for snap in snaps:  # no choice in any encoding a ballot or an audit entry could carry
        raw = _raw(snap)
        assert b"option_ids" not in raw and b'"choice":' not in raw and b'"choice": ' not in raw
    boxed = _board(as_user, poll)["ballots"]
    for text in logs:  # the log names no choice, and no ballot (a ballot beside a request names its voter)
        assert "option_ids" not in text and not any(o["label"] in text for o in poll["options"])
        assert not any(b["hash"] in text or b["tracking_code"] in text for b in boxed)

    # 2. Order and time: has-voted rows and ballots carry no time and no serial id, have no rowid, and
    #    are read back in key order (ballots by hash), whatever order they came in.
    assert set(SecretBallotCast.__table__.columns.keys()) == {"poll_id", "voter_id", "cast_by_id", "weight"}
    assert set(EncryptedBallot.__table__.columns.keys()) == {"poll_id", "hash", "weight", "content"}
    conn = sqlite3.connect(f"file:{snaps[-1]}?mode=ro", uri=True)
    try:
        for table in ("secret_ballots_cast", "encrypted_ballots"):
            with pytest.raises(sqlite3.OperationalError, match="rowid"):
                conn.execute(f"SELECT rowid FROM {table}")
    finally:
        conn.close()
    for snap in snaps:
        tables = _rows(snap)
        hashes = [row[1] for row in tables["encrypted_ballots"]]
        assert hashes == sorted(hashes)
        voters = [row[1] for row in tables["secret_ballots_cast"]]
        assert voters == sorted(voters)  # by voter id, not by when they voted
    assert [world.users[n].id for n in SIX] != sorted(world.users[n].id for n in SIX)  # (they voted out of id order)
    arrival = [elgamal.ballot_hash(poll["board_id"], b) for b in ballots]
    assert arrival != sorted(arrival)  # the check above means something: they came in another order

    # 3. The database alone cannot decrypt: no stored 32-byte value is the committee's private key,
    #    a member's key share, a coefficient, a transport secret, a ballot's randomness or a proof's
    #    nonce — the only scalars stored are the proofs' public responses and the partial decryptions.
    devices = _committee_devices(world)
    y = elgamal.parse_point(poll["public_key"])
    secrets_ = [d.key_share for d in devices] + [a for d in devices for a in d._coefficients] \
        + [d._transport for d in devices] + draws[:]
    secrets_.append(sum(d._coefficients[0] for d in devices) % elgamal.ORDER)  # the key itself
    public = {e for b in ballots for ct in b["ciphertexts"] for br in ct["proof"] for e in br.values()} | {
        e for b in ballots for br in b["total_proof"] for e in br.values()}
    for snap in snaps:
        raw = _raw(snap)
        for s in secrets_:
            if elgamal.scalar_hex(s) in public:  # a simulated branch's c or z: drawn at random, then published
                continue
            assert elgamal.scalar_hex(s).encode() not in raw and s.to_bytes(32, "little") not in raw
        keys = {elgamal.parse_point(m["verification_key"]) for m in _board(as_user, poll)["committee"]["members"]}
        for values in _rows(snap).values():
            for row in values:
                for h in (h for cell in row for h in _hex_values(cell)):
                    s = int.from_bytes(bytes.fromhex(h), "little")
                    if 0 < s < elgamal.ORDER:
                        assert elgamal._base(s) != y and elgamal._base(s) not in keys, "a private scalar is stored"
    # The choices are in the ciphertexts (the key opens them): only the key, which no table holds, is missing.
    key = sum(d._coefficients[0] for d in devices) % elgamal.ORDER
    for ballot, choice in zip(ballots, CHOICES, strict=True):
        opened = [elgamal._sub(elgamal.parse_point(ct["b"]), elgamal._mul(key, elgamal.parse_point(ct["a"])))
                  for ct in ballot["ciphertexts"]]
        assert [p == elgamal.G for p in opened] == [i == position(poll, choice) for i in range(3)]
    assert y == elgamal._base(key)


def _committee_devices(world) -> list:
    return list(world.__dict__["committee_devices"].values())


def _board(as_user, poll: dict) -> dict:
    return as_user("chair").get(f"/api/v1/polls/{poll['id']}/board").json
