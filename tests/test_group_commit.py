"""Group commit for ballots (meetings/voting/group_commit.py, ballot_box.py): real threads, each
with its own session, on a real SQLite file or PostgreSQL (TEST_DB=postgresql).

The window is made long (BALLOT_GROUP_WINDOW_MS) so that ballots released together by a barrier
land in one batch; a spy around ``ballot_box.write`` (the real function still runs) says which
ballots each batch held, so "in the same window" is checked, not assumed.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Participant
from meetings.core.db import ends_savepoint, has_written
from meetings.core.errors import DomainError
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.voting import ballot_box, group_commit
from meetings.voting.casting import cast_ballot
from meetings.voting.models import BallotCast, EncryptedBallot, PollTally, SecretBallotCast
from tests.test_voting_support import encrypted_ballot, open_poll, option, start_meeting

VOTERS = 10
WINDOW_MS = 1500  # long enough for every thread of a race to finish its checks and join the batch


@pytest.fixture
def voters(app, world) -> list[int]:
    """The meeting in progress with VOTERS extra delegates; their user ids."""
    start_meeting(world)
    extra = [User(username=f"gc{i}", full_name=f"Đại biểu số {i}", password_hash="!") for i in range(VOTERS)]
    db.session.add_all(extra)
    db.session.flush()
    db.session.add_all(Participant(meeting_id=world.meeting.id, user_id=u.id, role="delegate") for u in extra)
    db.session.commit()
    ids = [u.id for u in extra]
    db.session.remove()
    app.config["BALLOT_GROUP_WINDOW_MS"] = WINDOW_MS
    return ids


@pytest.fixture
def batches(monkeypatch) -> list[list[tuple[int, int]]]:
    """Each batch written, as [(poll id, voter id)], in order (the real ``ballot_box.write`` runs)."""
    seen: list[list[tuple[int, int]]] = []
    real = ballot_box.write

    def spy(session, ballots):
        seen.append([(b.poll_id, b.voter_id) for b in ballots])
        return real(session, ballots)

    monkeypatch.setattr(ballot_box, "write", spy)
    return seen


def _race(app, jobs: list) -> list[object]:
    """Run every job at once, each in a thread of its own with its own session: a job is
    (poll id, user id, option ids, encrypted ballot) for cast_ballot, or a PendingBallot given
    straight to group_commit. Each outcome: the acknowledgement, or the refusal's code."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job) -> None:
        barrier.wait(timeout=60)
        with app.app_context(), Session(db.engine, expire_on_commit=False) as s:
            try:
                if isinstance(job, ballot_box.PendingBallot):
                    results[i] = group_commit.cast(s, job)
                else:
                    poll_id, user_id, option_ids, ballot = job
                    results[i] = cast_ballot(s, poll_id, s.get(User, user_id), option_ids, None, ballot)
                assert not has_written(s), "the caller's own session must have nothing to commit"
                s.commit()
            except DomainError as err:
                s.rollback()
                results[i] = err.code
            except Exception as err:  # reported by the test's assertions
                s.rollback()
                results[i] = repr(err)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _count(model, poll_id: int) -> int:
    n = db.session.execute(select(func.count()).select_from(model).where(model.poll_id == poll_id)).scalar_one()
    db.session.remove()
    return n


def _audited(poll_id: int) -> int:
    n = db.session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "vote.cast", AuditEntry.object_id == poll_id)).scalar_one()
    db.session.remove()
    return n


def test_a_voter_twice_in_one_window_is_stored_once_and_refused_once(app, as_user, world, voters, batches):
    poll = open_poll(as_user, world)
    yes, no = option(poll, "for"), option(poll, "against")
    twice = voters[:4]
    jobs = [(poll["id"], uid, [yes], None) for uid in voters] + [(poll["id"], uid, [no], None) for uid in twice]
    results = _race(app, jobs)
    assert len(batches) == 1 and len(batches[0]) == len(jobs), batches  # all in the same window
    assert sum(isinstance(r, dict) and r["voted"] for r in results) == VOTERS, results
    assert sorted(r for r in results if not isinstance(r, dict)) == ["already_voted"] * len(twice)
    assert _count(BallotCast, poll["id"]) == VOTERS
    row = db.session.get(PollTally, poll["id"])
    assert row.ballots == VOTERS and sum(row.counts.values()) == VOTERS
    db.session.remove()
    assert _audited(poll["id"]) == VOTERS  # one audit entry per stored ballot, none for a refusal
    # A later batch finds the stored ballots: refused there too.
    assert _race(app, [(poll["id"], twice[0], [no], None), (poll["id"], world.delegate.id, [no], None)]) == [
        "already_voted", {"poll_id": poll["id"], "voter_id": world.delegate.id, "voted": True, "option_ids": [no]}]


def test_secret_ballots_in_one_window_copies_and_second_devices_refused_once(app, as_user, world, voters, batches):
    poll = open_poll(as_user, world, secret=True)
    roles = ("for", "against", "abstain")
    ballots = {uid: encrypted_ballot(poll, roles[i % 3]) for i, uid in enumerate(voters)}
    jobs = [(poll["id"], uid, None, ballots[uid]) for uid in voters]
    jobs += [(poll["id"], voters[0], None, encrypted_ballot(poll, "for"))]  # the same voter's second device
    jobs += [(poll["id"], world.delegate.id, None, ballots[voters[1]])]  # a copy of another voter's ballot
    results = _race(app, jobs)
    assert len(batches) == 1 and len(batches[0]) == len(jobs), batches
    codes = sorted(r for r in results if not isinstance(r, dict))
    assert codes == ["already_voted", "duplicate_ballot"], results
    acks = [r for r in results if isinstance(r, dict)]
    assert len(acks) == VOTERS and len({a["tracking_code"] for a in acks}) == VOTERS
    assert _count(SecretBallotCast, poll["id"]) == _count(EncryptedBallot, poll["id"]) == VOTERS
    assert db.session.get(PollTally, poll["id"]).ballots == VOTERS
    db.session.remove()
    assert _audited(poll["id"]) == VOTERS


def test_a_poll_closed_before_the_batch_refuses_its_own_ballots_only(app, as_user, world, voters, batches,
                                                                    monkeypatch):
    """Two polls in one batch; the first closes after the callers checked it, before the batch is written."""
    closing_poll, open_one = open_poll(as_user, world), open_poll(as_user, world)
    spy = ballot_box.write

    def close_first(session, ballots):
        r = as_user("chair").post(f"/api/v1/polls/{closing_poll['id']}/close")  # its own request, committed
        assert r.status_code == 200, r.json
        return spy(session, ballots)

    monkeypatch.setattr(ballot_box, "write", close_first)
    jobs = [(closing_poll["id"], uid, [option(closing_poll, "for")], None) for uid in voters[:4]]
    jobs += [(open_one["id"], uid, [option(open_one, "against")], None) for uid in voters]
    results = _race(app, jobs)
    assert len(batches) == 1, batches
    assert results[:4] == ["poll_not_open"] * 4, results
    assert all(isinstance(r, dict) for r in results[4:]), results
    assert _count(BallotCast, closing_poll["id"]) == 0
    assert _count(BallotCast, open_one["id"]) == VOTERS
    assert db.session.get(PollTally, open_one["id"]).ballots == VOTERS
    db.session.remove()


def test_a_ballot_the_database_refuses_loses_no_other(app, as_user, world, voters, batches):
    """A ballot that passed the checks but breaks a constraint (a voter who does not exist) fails
    alone: the batch is written again ballot by ballot."""
    poll = open_poll(as_user, world)
    yes = option(poll, "for")
    broken = ballot_box.PendingBallot(poll_id=poll["id"], meeting_id=world.meeting.id, voter_id=2**31 - 7,
                                      caster_id=voters[0], weight=1, entitled=VOTERS + 4, choice=[yes])
    jobs = [(poll["id"], uid, [yes], None) for uid in voters] + [broken]
    results = _race(app, jobs)
    assert len(batches) == 1, batches  # one batch (written again ballot by ballot inside it)
    assert results[-1] == "not_stored", results
    assert all(isinstance(r, dict) for r in results[:-1]), results
    assert _count(BallotCast, poll["id"]) == VOTERS
    assert db.session.get(PollTally, poll["id"]).ballots == VOTERS
    db.session.remove()


@pytest.fixture
def failing_commit():
    """Once on, the commit of any transaction that wrote fails (the batch's; the callers' only read)."""
    state = {"on": False, "commits": 0}

    def before_commit(session):
        if state["on"] and has_written(session) and not ends_savepoint(session):
            state["commits"] += 1
            raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", before_commit)
    yield state
    event.remove(Session, "before_commit", before_commit)


def test_a_failed_commit_fails_every_ballot_of_the_batch_and_acknowledges_none(app, as_user, world, voters,
                                                                               batches, failing_commit):
    poll = open_poll(as_user, world)
    failing_commit["on"] = True
    yes = option(poll, "for")
    jobs = [(poll["id"], uid, [yes], None) for uid in voters] + [(poll["id"], voters[0], [yes], None)]
    results = _race(app, jobs)
    assert len(batches) == 1 and failing_commit["commits"] == 1, (batches, failing_commit)
    # Even the duplicate: the ballot it was refused against is not stored either.
    assert results == ["not_stored"] * len(jobs), results
    assert _count(BallotCast, poll["id"]) == 0 and _audited(poll["id"]) == 0
    assert db.session.get(PollTally, poll["id"]).ballots == 0
    db.session.remove()
    failing_commit["on"] = False  # the disk has room again: the same ballots go in, once each
    again = _race(app, jobs)
    assert sum(isinstance(r, dict) for r in again) == VOTERS and again.count("already_voted") == 1, again
    assert _count(BallotCast, poll["id"]) == VOTERS


def test_every_acknowledgement_comes_after_the_commit(app, as_user, world, voters, monkeypatch):
    poll = open_poll(as_user, world)
    yes = option(poll, "for")
    log: list[str] = []

    def slow_commit(session):  # the batch's commit takes a while: an early answer would show
        if has_written(session) and not ends_savepoint(session):
            threading.Event().wait(0.3)
            log.append("committing")

    def committed(session):
        if log and log[-1] == "committing":
            log.append("committed")

    event.listen(Session, "before_commit", slow_commit)
    event.listen(Session, "after_commit", committed)
    real_cast = group_commit.cast

    def noting(session, ballot, **kw):
        answer = real_cast(session, ballot, **kw)
        log.append("ack")
        return answer

    monkeypatch.setattr(group_commit, "cast", noting)
    try:
        results = _race(app, [(poll["id"], uid, [yes], None) for uid in voters])
    finally:
        event.remove(Session, "before_commit", slow_commit)
        event.remove(Session, "after_commit", committed)
    assert all(isinstance(r, dict) for r in results), results
    assert log[:2] == ["committing", "committed"] and log[2:] == ["ack"] * VOTERS, log
