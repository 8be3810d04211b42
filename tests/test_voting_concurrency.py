"""Exactly once under concurrency: real threads, each with its own session and connection.

Run on SQLite (busy_timeout, one writer at a time) and on PostgreSQL
(TEST_DB=postgresql: real row locks and the unique index decide).
"""
from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Participant
from meetings.core.errors import Conflict
from meetings.core.extensions import db
from meetings.voting.casting import cast_ballot
from meetings.voting.models import BallotCast, PollTally
from tests.test_voting_support import open_poll, option, start_meeting

THREADS = 12


def _race(app, jobs: list[tuple[int, int, list[int]]]) -> list[object]:
    """Run cast_ballot(poll_id, user_id, option_ids) for every job at once; return each outcome."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, poll_id: int, user_id: int, option_ids: list[int]) -> None:
        # Wait before touching the pool: more threads than pooled connections must not deadlock here.
        barrier.wait(timeout=60)
        with app.app_context(), Session(db.engine, expire_on_commit=False) as s:
            try:
                results[i] = cast_ballot(s, poll_id, s.get(User, user_id), option_ids)
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
    jobs = [(poll["id"], uid, [option(poll, roles[i % 3])]) for i, uid in enumerate(ids)]
    # Every voter twice at once: each counted exactly once.
    results = _race(app, jobs + jobs)
    assert sum(isinstance(r, dict) for r in results) == THREADS, results
    assert [r for r in results if not isinstance(r, dict)] == ["already_voted"] * THREADS
    tally = db.session.get(PollTally, poll["id"])
    assert tally.ballots == THREADS
    assert tally.counts == {str(option(poll, r)): THREADS // 3 for r in roles}
    assert db.session.execute(select(func.count()).select_from(BallotCast)
                              .where(BallotCast.poll_id == poll["id"])).scalar_one() == THREADS
    db.session.remove()
