"""Exactly once under concurrency: real threads, each with its own session and connection,
and two real OS processes casting into the same poll.

Run on SQLite (busy_timeout, one writer at a time) and on PostgreSQL
(TEST_DB=postgresql: real row locks and the unique index decide).

The thread tests run with the process's ballot gate on (as in production) and
off: with it on, one thread at a time reaches the database, so only the run
with the gate off shows that the database itself (the tally row's FOR UPDATE,
the has-voted unique index) keeps every count.
"""
from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Participant
from meetings.core.errors import Conflict
from meetings.core.extensions import db
from meetings.voting import casting
from meetings.voting.casting import cast_ballot
from meetings.voting.models import BallotCast, EncryptedBallot, PollTally, SecretBallotCast
from tests.test_voting_support import close_secret, encrypted_ballot, open_poll, option, start_meeting

THREADS = 12


@pytest.fixture(params=["gate_on", "gate_off"])
def write_gate(request, monkeypatch):
    """Each thread test twice: with the in-process ballot gate (production) and without it."""
    if request.param == "gate_off":
        monkeypatch.setattr(casting, "WRITE_GATE_ENABLED", False)
    return request.param


def _race(app, jobs: list[tuple]) -> list[object]:
    """Run cast_ballot(poll_id, user_id, option_ids[, encrypted ballot]) for every job at once; return
    each outcome."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, poll_id: int, user_id: int, option_ids: list[int] | None, ballot: dict | None = None) -> None:
        # Wait before touching the pool: more threads than pooled connections must not deadlock here.
        barrier.wait(timeout=60)
        with app.app_context(), Session(db.engine, expire_on_commit=False) as s:
            try:
                results[i] = cast_ballot(s, poll_id, s.get(User, user_id), option_ids, None, ballot)
                s.commit()
            except Conflict as err:
                s.rollback()
                results[i] = err.code
            except Exception as err:  # anything else is a failure of the test, reported below
                s.rollback()
                results[i] = repr(err)

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.usefixtures("write_gate")
def test_concurrent_duplicates_store_one_ballot(app, as_user, world):
    start_meeting(world)
    poll = open_poll(as_user, world)
    choices = [option(poll, "for"), option(poll, "against")]
    jobs = [(poll["id"], world.delegate.id, [choices[i % 2]]) for i in range(THREADS)]
    results = _race(app, jobs)
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1, results
    assert sorted(r for r in results if not isinstance(r, dict)) == ["already_voted"] * (THREADS - 1)
    stored = db.session.execute(select(BallotCast).where(BallotCast.poll_id == poll["id"])).scalars().all()
    tally = db.session.get(PollTally, poll["id"])
    assert len(stored) == 1 and tally.ballots == 1 and sum(tally.counts.values()) == 1
    assert tally.counts[str(stored[0].choice[0])] == 1
    db.session.remove()


@pytest.mark.usefixtures("write_gate")
def test_concurrent_distinct_voters_lose_no_count(app, as_user, world):
    start_meeting(world)
    extra = [User(username=f"member{i}", full_name=f"Đại biểu số {i}", password_hash="!") for i in range(THREADS)]
    db.session.add_all(extra)
    db.session.flush()
    db.session.add_all(Participant(meeting_id=world.meeting.id, user_id=u.id, role="delegate") for u in extra)
    db.session.commit()
    ids = [u.id for u in extra]
    db.session.remove()
    poll = open_poll(as_user, world, secret=True)
    roles = ("for", "against", "abstain")
    # Every voter twice at once (two devices, each encrypting the choice afresh): each counted exactly once.
    jobs = [(poll["id"], uid, None, encrypted_ballot(poll, roles[i % 3])) for _ in (0, 1) for i, uid in enumerate(ids)]
    results = _race(app, jobs)
    assert sum(isinstance(r, dict) for r in results) == THREADS, results
    assert [r for r in results if not isinstance(r, dict)] == ["already_voted"] * THREADS
    tally = db.session.get(PollTally, poll["id"])
    assert tally.ballots == THREADS and tally.counts == {}  # a secret poll has no count until the result
    for model in (SecretBallotCast, EncryptedBallot):
        assert db.session.execute(select(func.count()).select_from(model)
                                  .where(model.poll_id == poll["id"])).scalar_one() == THREADS
    db.session.remove()
    closed = close_secret(as_user, world, poll)
    assert {o["id"]: o["count"] for o in closed["result"]["options"]} == {option(poll, r): THREADS // 3 for r in roles}


# ----------------------------------------------------------------------------- two OS processes

RENDEZVOUS_S = 3.0  # how long a process that read the tally waits for the other one to read it too


def _cast_in_own_process(database_url: str, root: str, start, rendezvous, jobs: list[tuple[int, int, list[int]]],
                         out) -> None:
    """A separate interpreter (spawn): its own app, engine and connections; casts ``jobs`` in order.

    On PostgreSQL the first ballot of each process waits right after reading the tally row until the
    other process has read it as well (``rendezvous``, bounded by RENDEZVOUS_S): with the row lock
    the second reader blocks in its SELECT ... FOR UPDATE, so the first one times out and goes on
    alone; without it both read the same counts and one write overwrites the other.
    """
    from meetings import create_app

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": f"{root}/instance",
                      "STORAGE_PATH": f"{root}/storage", "SECRET_KEY": "test-secret", "TESTING": True})
    outcomes: list[object] = []
    with app.app_context():
        waited = {"done": rendezvous is None}

        def after_tally_read(conn, cursor, statement, *_args) -> None:
            if waited["done"] or "poll_tallies" not in statement or not statement.lstrip().upper().startswith("SELECT"):
                return
            waited["done"] = True
            try:
                rendezvous.wait(timeout=RENDEZVOUS_S)
            except threading.BrokenBarrierError:
                pass  # the other process is blocked behind our row lock (or already broke the barrier)

        event.listen(db.engine, "after_cursor_execute", after_tally_read)
        try:
            start.wait(timeout=120)  # both interpreters are up: cast at the same moment
        except threading.BrokenBarrierError:
            out.put(["the other process never started"])
            return
        for poll_id, user_id, option_ids in jobs:
            with Session(db.engine, expire_on_commit=False) as s:
                try:
                    outcomes.append(cast_ballot(s, poll_id, s.get(User, user_id), option_ids))
                    s.commit()
                except Conflict as err:
                    s.rollback()
                    outcomes.append(err.code)
                except Exception as err:  # reported to the test, which fails on it
                    s.rollback()
                    outcomes.append(repr(err))
        db.engine.dispose()
    out.put(outcomes)


def test_two_processes_cast_into_one_poll_and_lose_nothing(app, as_user, world, database_url, tmp_path):
    """Two OS processes, each with its own connections, cast into the same poll at once:
    distinct voters each counted once (no lost update of the tally row), a voter cast by both
    processes counted once (the other gets already_voted)."""
    start_meeting(world)
    voters = [User(username=f"racer{i}", full_name=f"Đại biểu đua {i}", password_hash="!") for i in range(16)]
    db.session.add_all(voters)
    db.session.flush()
    db.session.add_all(Participant(meeting_id=world.meeting.id, user_id=u.id, role="delegate") for u in voters)
    db.session.commit()
    ids = [u.id for u in voters]
    db.session.remove()
    poll = open_poll(as_user, world)
    yes, no = option(poll, "for"), option(poll, "against")
    own, contested = ids[:12], ids[12:]
    # Each process: its own six voters (the first one meets the other process at the tally),
    # then the same four contested voters in the same order, so both try each one at once.
    jobs = [[(poll["id"], uid, [yes if k % 2 else no]) for uid in own[k::2] + contested] for k in (0, 1)]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    rendezvous = ctx.Barrier(2) if db.engine.dialect.name == "postgresql" else None  # SQLite: no row lock
    out = ctx.Queue()
    procs = [ctx.Process(target=_cast_in_own_process, daemon=True,
                         args=(database_url, str(tmp_path / f"p{k}"), start, rendezvous, jobs[k], out))
             for k in (0, 1)]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=180) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    flat = [r for rs in results for r in rs]
    assert not [r for r in flat if isinstance(r, str) and r != "already_voted"], results
    assert sum(isinstance(r, dict) for r in flat) == len(ids), results
    assert flat.count("already_voted") == len(contested), results
    tally = db.session.get(PollTally, poll["id"])
    stored = db.session.execute(select(BallotCast).where(BallotCast.poll_id == poll["id"])).scalars().all()
    assert sorted(b.voter_id for b in stored) == sorted(ids)
    assert tally.ballots == len(ids), f"the tally lost updates: {tally.ballots} of {len(ids)} ballots counted"
    expected = {str(yes): 0, str(no): 0}
    for b in stored:
        expected[str(b.choice[0])] += 1
    assert {k: v for k, v in tally.counts.items() if v} == {k: v for k, v in expected.items() if v}
    db.session.remove()
