"""Encrypted secret ballots end to end: cast (REST and socket), refused, counted by the committee, verified.

Voters' and committee members' devices are simulated in Python (``meetings.voting.elgamal``, the
same protocol as the tablets' ``static/js/core/elgamal.js``); everything else is the real app.
"""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from meetings.bodies.models import Participant
from meetings.core.extensions import db, socketio
from meetings.voting import elgamal, verify_board
from meetings.voting.models import PartialDecryption, Poll
from meetings.voting.results import poll_results_for_minutes
from tests.test_voting_support import (
    close_secret,
    count_secret,
    encrypted_ballot,
    new_poll,
    open_poll,
    option,
    ready_committee,
    start_meeting,
    state,
    vote,
)

COMMITTEE = ["chair", "secretary", "delegate"]  # 2 of 3: any two count


@pytest.fixture
def sitting(as_user, world):
    """A sitting in progress whose elected committee of three (k = 2) has run its key ceremony."""
    start_meeting(world)
    ready_committee(as_user, world, COMMITTEE, 2)
    for name in ("chair", "secretary", "delegate", "delegate2"):
        as_user.token(name)  # issued now: a token's audit entry must not count as a refusal's trace
    return world


def _ballots_url(poll: dict) -> str:
    return f"/api/v1/polls/{poll['id']}/ballots"


def _partial(as_user, world, name: str, poll: dict, shares=None):
    board = as_user(name).get(f"/api/v1/polls/{poll['id']}/board").json
    device = world.__dict__["committee_devices"][name]
    shares = shares if shares is not None else device.partial_decrypt(board["board_id"], board["encrypted_tally"])
    return as_user(name).post(f"/api/v1/polls/{poll['id']}/partial-decryption", json={"shares": shares})


def _counts(poll_json: dict) -> dict[str, int]:
    return {o["role"] or o["label"]: o["count"] for o in poll_json["result"]["options"]}


def test_encrypted_ballots_are_checked_before_anything_is_stored(as_user, sitting):
    w = sitting
    poll = open_poll(as_user, w, secret=True, title="Bầu Trưởng ban kiểm phiếu")
    other = open_poll(as_user, w, secret=True, title="Bầu Phó ban")
    assert poll["public_key"] == other["public_key"] and poll["board_id"] != other["board_id"]
    before = state(poll["id"])
    good = encrypted_ballot(poll, "for")

    tampered = copy.deepcopy(good)  # the "for" and "against" ciphertexts swapped: each proof now lies
    cts = tampered["ciphertexts"]
    cts[0]["a"], cts[1]["a"] = cts[1]["a"], cts[0]["a"]
    twice = encrypted_ballot(poll, "for")  # a ballot saying "for" twice: every option proof holds, the total's not
    twice["ciphertexts"][1] = encrypted_ballot(poll, "for")["ciphertexts"][0]
    refused = [
        ({"option_ids": [option(poll, "for")]}, 400, "encrypted_ballot_required"),
        ({"ballot": good, "option_ids": [option(poll, "for")]}, 400, "encrypted_ballot_required"),
        ({}, 400, "encrypted_ballot_required"),
        ({"ballot": tampered}, 400, "invalid_ballot"),
        ({"ballot": twice}, 400, "invalid_ballot"),
        ({"ballot": encrypted_ballot(other, "for")}, 400, "invalid_ballot"),  # made for another poll's board
        ({"ballot": {**good, "ciphertexts": good["ciphertexts"][:2]}}, 400, "invalid_ballot"),
        ({"ballot": {"ciphertexts": [{"a": "00" * 32, "b": "ff" * 32, "proof": []}] * 3, "total_proof": []}},
         400, "invalid_ballot"),
        ({"ballot": "not a ballot"}, 422, None),
    ]
    for body, status, code in refused:
        r = as_user("delegate").post(_ballots_url(poll), json=body)
        assert r.status_code == status and (code is None or r.json["error"]["code"] == code), (body.keys(), r.json)
        assert state(poll["id"]) == before  # nothing stored, no audit entry, no event
    r = as_user("delegate").post(_ballots_url(poll), json={"ballot": good})
    assert r.status_code == 201
    code = r.json["tracking_code"]
    after_one = state(poll["id"])
    # The same voter again (a fresh ballot), and another voter with a copy of the first ballot.
    again = as_user("delegate").post(_ballots_url(poll), json={"ballot": encrypted_ballot(poll, "against")})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_voted"
    copied = as_user("delegate2").post(_ballots_url(poll), json={"ballot": good})
    assert copied.status_code == 409 and copied.json["error"]["code"] == "duplicate_ballot"
    assert state(poll["id"]) == after_one
    board = as_user("delegate2").get(f"/api/v1/polls/{poll['id']}/board").json
    assert [b["tracking_code"] for b in board["ballots"]] == [code] and board["voters"] == 1
    assert board["encrypted_tally"] is None and board["result"] is None  # open: ballots so far only
    # A named poll takes no encrypted ballot; and has no board.
    named = open_poll(as_user, w, title="Biểu quyết công khai")
    r = as_user("delegate").post(_ballots_url(named), json={"ballot": good})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_choice"
    r = as_user("delegate").get(f"/api/v1/polls/{named['id']}/board")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_secret"


def test_two_of_three_count_the_absent_third_blocks_nothing_and_a_wrong_partial_is_refused(as_user, sitting, app):
    w = sitting
    poll = open_poll(as_user, w, secret=True, title="Bầu Chủ tịch")
    choices = {"chair": "for", "secretary": "against", "delegate": "for", "delegate2": "abstain"}
    for name, choice in choices.items():
        assert vote(as_user, name, poll, choice).status_code == 201
    early = _partial(as_user, w, "chair", poll, shares=[{"d": "00", "c": "00", "z": "00"}] * 3)
    assert early.status_code == 409 and early.json["error"]["code"] == "poll_not_counting"
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    assert closed["status"] == "counting" and "result" not in closed
    assert closed["count"] == {"partials": [], "threshold": 2}

    first = _partial(as_user, w, "chair", poll)
    assert first.status_code == 200 and first.json["status"] == "counting" and first.json["partials"] == 1
    again = _partial(as_user, w, "chair", poll)  # the same member twice: the stored one, nothing new
    assert again.status_code == 200 and again.json["shares"] == first.json["shares"] and again.json["partials"] == 1
    # Wrong partials: the chair's shares under the delegate's seat, one share of a member changed, too few.
    board = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/board").json
    own = w.__dict__["committee_devices"]["delegate"].partial_decrypt(board["board_id"], board["encrypted_tally"])
    changed = copy.deepcopy(own)
    changed[0]["d"] = own[1]["d"]
    before = state(poll["id"])
    for shares in (first.json["shares"], changed, own[:2], [{**own[0], "x": 1}, *own[1:]], "nope"):
        r = _partial(as_user, w, "delegate", poll, shares=shares)
        assert r.status_code in (400, 422), r.json
        assert r.status_code == 422 or r.json["error"]["code"] == "invalid_partial"
        assert state(poll["id"]) == before
    outsider = as_user("delegate2").post(f"/api/v1/polls/{poll['id']}/partial-decryption", json={"shares": own})
    assert outsider.status_code == 403 and outsider.json["error"]["code"] == "not_committee_member"
    assert state(poll["id"]) == before
    # The secretary never comes: the delegate is the second of two.
    done = _partial(as_user, w, "delegate", poll)
    assert done.status_code == 200 and done.json["status"] == "closed" and done.json["partials"] == 2
    result = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json
    assert _counts(result) == {"for": 2, "against": 1, "abstain": 1}
    assert result["result"]["ballots"] == 4 and result["result"]["cast"] == 4
    late = _partial(as_user, w, "secretary", poll)  # after the result: nothing more to do
    assert late.status_code == 409 and late.json["error"]["code"] == "poll_not_counting"

    board = as_user("chair").get(f"/api/v1/polls/{poll['id']}/board").json
    assert board["result"] == {"counts": [2, 1, 1]} and [p["member_index"] for p in board["partial_decryptions"]] \
        == [1, 3]
    report = verify_board.verify(board)
    assert report.ok, report.failures
    cli = app.test_cli_runner()
    ok = cli.invoke(args=["poll", "verify", str(poll["id"])])
    assert ok.exit_code == 0 and ok.output.startswith("OK"), ok.output
    forged = copy.deepcopy(board)
    forged["result"]["counts"] = [3, 0, 1]
    assert not verify_board.verify(forged).ok


def test_the_cli_verifies_a_board_file_and_fails_a_tampered_one(as_user, sitting, app, tmp_path):
    w = sitting
    poll = open_poll(as_user, w, secret=True)
    for name, choice in (("chair", "for"), ("delegate2", "against")):
        vote(as_user, name, poll, choice)
    close_secret(as_user, w, poll)
    board = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/board").json
    assert board["result"] is None and board["partial_decryptions"] == []  # not published: not for a delegate
    as_user("chair").post(f"/api/v1/polls/{poll['id']}/publish")
    board = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/board").json
    good, bad = tmp_path / "board.json", tmp_path / "tampered.json"
    good.write_text(json.dumps(board), "utf-8")
    board["ballots"][0]["weight"] = 2  # one ballot counted twice
    bad.write_text(json.dumps(board), "utf-8")
    cli = app.test_cli_runner()
    assert cli.invoke(args=["poll", "verify", "--file", str(good)]).exit_code == 0
    failed = cli.invoke(args=["poll", "verify", "--file", str(bad)])
    assert failed.exit_code == 1 and "FAILED" in failed.output, failed.output
    assert cli.invoke(args=["poll", "verify", "999999"]).exit_code == 2
    assert cli.invoke(args=["poll", "verify"]).exit_code == 2


def test_weighted_secret_poll_counts_each_ballot_with_its_weight(as_user, sitting):
    w = sitting
    for name, weight in (("delegate", 5), ("delegate2", 3)):
        db.session.execute(select(Participant).where(Participant.meeting_id == w.meeting.id,
                                                     Participant.user_id == w.users[name].id)
                           ).scalar_one().vote_weight = weight
    db.session.commit()
    db.session.remove()
    poll = open_poll(as_user, w, secret=True, weighted=True)
    for name, choice in (("delegate", "against"), ("delegate2", "for"), ("chair", "for")):
        assert vote(as_user, name, poll, choice).status_code == 201
    result = close_secret(as_user, w, poll)
    assert _counts(result) == {"for": 4, "against": 5, "abstain": 0}
    assert result["result"]["cast"] == 9 and result["result"]["ballots"] == 3
    assert result["result"]["outcome"] == "rejected"  # 4 of 9 is not more than half
    board = as_user("chair").get(f"/api/v1/polls/{poll['id']}/board").json
    assert sorted(b["weight"] for b in board["ballots"]) == [1, 3, 5]
    assert verify_board.verify(board).ok


def test_no_ballot_no_count_needed(as_user, sitting):
    w = sitting
    poll = open_poll(as_user, w, secret=True, publish_on_close=True)
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    assert closed["status"] == "published"  # nothing to decrypt: straight to the result
    assert _counts(closed) == {"for": 0, "against": 0, "abstain": 0} and closed["result"]["ballots"] == 0
    board = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/board").json
    assert board["encrypted_tally"] == [] and board["result"] == {"counts": [0, 0, 0]}
    assert verify_board.verify(board).ok


def test_a_multiple_choice_poll_refuses_an_over_vote(as_user, sitting):
    w = sitting
    poll = open_poll(as_user, w, secret=True, kind="multiple", options=["An", "Bình", "Chi"], min_choices=0,
                     max_choices=2)
    assert vote(as_user, "chair", poll, "An", "Chi").status_code == 201
    assert vote(as_user, "secretary", poll).status_code == 201  # a blank ballot: 0 chosen is allowed
    three = elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], 3, [0, 1, 2], 0, 3)  # proves 0..3
    r = as_user("delegate").post(_ballots_url(poll), json={"ballot": three})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_ballot"
    result = close_secret(as_user, w, poll)
    assert _counts(result) == {"An": 1, "Bình": 0, "Chi": 1}


def test_the_minutes_figures_of_an_encrypted_poll_equal_those_of_a_named_one(as_user, sitting):
    w = sitting
    choices = {"chair": "for", "secretary": "for", "delegate": "against"}
    polls = []
    for secret in (False, True):
        poll = open_poll(as_user, w, secret=secret, title=f"Thông qua Nghị quyết ({secret})")
        for name, choice in choices.items():
            assert vote(as_user, name, poll, choice).status_code == 201
        if secret:
            close_secret(as_user, w, poll)
        else:
            as_user("chair").post(f"/api/v1/polls/{poll['id']}/close")
        polls.append(poll["id"])
    minutes = {p["poll_id"]: p for p in poll_results_for_minutes(db.session, w.meeting.id)}
    skip = {"poll_id", "title", "secret", "named_votes", "opened_at", "closed_at"}
    named, secret = ({k: v for k, v in minutes[i].items() if k not in skip} for i in polls)
    for figures in (named, secret):  # each poll has option rows of its own
        figures["options"] = [{k: v for k, v in o.items() if k != "id"} for o in figures["options"]]
    assert [o["count"] for o in secret["options"]] == [2, 1, 0]
    assert secret == named
    stored = [db.session.get(Poll, i).result for i in polls]
    for figures in stored:
        figures["options"] = [{k: v for k, v in o.items() if k != "id"} for o in figures["options"]]
    assert stored[0] == stored[1]  # the same figures dict: rules.decide with the decrypted counts
    db.session.remove()


def test_a_count_left_with_k_partials_is_finished_by_the_next_read(as_user, sitting):
    """Resume (as after a kill -9, or a combine that failed): k partials stored, no result yet."""
    w = sitting
    poll = open_poll(as_user, w, secret=True)
    for name, choice in (("chair", "against"), ("delegate", "against"), ("delegate2", "for")):
        vote(as_user, name, poll, choice)
    as_user("chair").post(f"/api/v1/polls/{poll['id']}/close")
    assert _partial(as_user, w, "chair", poll).json["status"] == "counting"
    board = as_user("chair").get(f"/api/v1/polls/{poll['id']}/board").json
    shares = w.__dict__["committee_devices"]["secretary"].partial_decrypt(board["board_id"], board["encrypted_tally"])
    db.session.add(PartialDecryption(poll_id=poll["id"], member_index=2, shares=shares))  # stored, never combined
    db.session.commit()
    db.session.remove()
    assert db.session.get(Poll, poll["id"]).status == "counting"
    db.session.remove()
    seen = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["status"] == "closed"
    assert _counts(as_user("chair").get(f"/api/v1/polls/{poll['id']}").json) == {"for": 1, "against": 2,
                                                                               "abstain": 0}


def test_over_a_socket_the_ack_carries_the_tracking_code_and_refusals_store_nothing(app, as_user, sitting):
    w = sitting
    poll = open_poll(as_user, w, secret=True)
    tablet = socketio.test_client(app, auth={"token": as_user.token("delegate2")})
    try:
        before = state(poll["id"])
        bad = encrypted_ballot(poll, "for")
        bad["total_proof"][0]["z"] = bad["total_proof"][0]["c"]
        for payload, code in (({"poll_id": poll["id"], "option_ids": [option(poll, "for")]},
                               "encrypted_ballot_required"),
                              ({"poll_id": poll["id"], "ballot": bad}, "invalid_ballot")):
            ack = tablet.emit("vote.cast", payload, callback=True)
            assert ack["ok"] is False and ack["error"]["code"] == code, ack
            assert state(poll["id"]) == before
        ballot = encrypted_ballot(poll, "against")
        ack = tablet.emit("vote.cast", {"poll_id": poll["id"], "ballot": ballot}, callback=True)
        assert ack["ok"] and ack["tracking_code"] == elgamal.tracking_code(elgamal.ballot_hash(poll["board_id"],
                                                                                               ballot)), ack
        assert "option_ids" not in ack
    finally:
        tablet.disconnect()
    assert count_secret(as_user, w, _closed(as_user, poll))["result"]["cast"] == 1


def _closed(as_user, poll: dict) -> dict:
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["status"] == "counting"
    return poll


def test_a_secret_poll_opens_only_with_a_ready_committee(as_user, world):
    start_meeting(world)
    poll = new_poll(as_user, world, secret=True)  # makes the default committee: chair + secretary, 2 of 2
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "committee_not_ready"
    committee = as_user("chair").get(f"/api/v1/meetings/{world.meeting.id}/counting-committee").json
    assert committee["threshold"] == 2 and sorted(m["user_id"] for m in committee["members"]) == sorted(
        [world.chair.id, world.secretary.id])
    ready_committee(as_user, world)
    opened = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open").json
    assert opened["status"] == "open" and opened["public_key"] == as_user("chair").get(
        f"/api/v1/meetings/{world.meeting.id}/counting-committee").json["public_key"]
