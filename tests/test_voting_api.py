"""Voting over REST: the poll's life, ballots exactly once, visibility, export, bad input."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.live.models import Attendance
from meetings.voting.models import BallotCast, Poll
from tests.test_voting_support import close_secret, new_poll, open_poll, option, start_meeting, state, vote


@pytest.fixture
def running(world):
    start_meeting(world)
    return world


def test_named_poll_life_from_draft_to_annulled(as_user, running):
    w = running
    poll = new_poll(as_user, w, "secretary", agenda_item_id=w.items[0].id)
    assert poll["status"] == "draft" and [o["label"] for o in poll["options"]] == [
        "Tán thành", "Không tán thành", "Không biểu quyết"]
    # A draft is for those who run the meeting only.
    assert as_user("delegate").get(f"/api/v1/polls/{poll['id']}").status_code == 404
    assert [p["id"] for p in as_user("delegate").get(f"/api/v1/meetings/{w.meeting.id}/polls").json] == []
    assert vote(as_user, "delegate", poll, "for").status_code in (404, 409)
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 200 and r.json["status"] == "open" and r.json["voted"] == 0 and r.json["entitled"] == 4
    poll = r.json
    for name, choice in (("chair", "for"), ("delegate", "for"), ("delegate2", "against"), ("secretary", "abstain")):
        r = vote(as_user, name, poll, choice)
        assert r.status_code == 201, r.json
        assert r.json == {"poll_id": poll["id"], "voter_id": getattr(w, name).id, "voted": True,
                          "option_ids": [option(poll, choice)]}
    before = state(poll["id"])
    r = vote(as_user, "delegate", poll, "against")
    assert r.status_code == 409 and r.json["error"]["code"] == "already_voted"
    assert state(poll["id"]) == before
    mine = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    assert mine["my_ballot"] == {"voted": True, "cast_by_id": w.delegate.id, "option_ids": [option(poll, "for")]}
    assert "result" not in mine and "counts" not in mine and "voted" not in mine

    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close")
    assert r.status_code == 200 and r.json["status"] == "closed"
    res = r.json["result"]
    assert res["outcome"] == "adopted" and res["base"] == "cast" and res["base_count"] == 3 and res["required"] == 2
    assert res["quorum"] == {"members": 4, "present": 4, "required": 3, "met": True, "rule": [2, 3]}
    assert [o["count"] for o in res["options"]] == [2, 1, 1]
    assert {v["voter_name"]: v["choice_labels"] for v in r.json["named_votes"]}[w.delegate2.full_name] == [
        "Không tán thành"]
    # Closed, not published: the delegate sees that it closed, not how.
    seen = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["status"] == "closed" and "result" not in seen
    assert as_user("delegate").get(f"/api/v1/polls/{poll['id']}/results.json").status_code == 403
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["error"]["code"] == "bad_state"
    assert vote(as_user, "delegate", poll, "for").json["error"]["code"] in ("poll_not_open", "already_voted")

    assert as_user("delegate").post(f"/api/v1/polls/{poll['id']}/publish").status_code == 403
    r = as_user("secretary").post(f"/api/v1/polls/{poll['id']}/publish")
    assert r.status_code == 200 and r.json["status"] == "published"
    seen = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["result"]["outcome"] == "adopted" and len(seen["named_votes"]) == 4
    assert as_user("archivist").get(f"/api/v1/polls/{poll['id']}").json["result"]["outcome"] == "adopted"

    data = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/results.json").json
    assert data["result"]["outcome"] == "adopted" and len(data["named_votes"]) == 4
    r = as_user("delegate").get(f"/api/v1/polls/{poll['id']}/results.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][1] == "Thông qua Nghị quyết về ngân sách năm 2027" and rows[1][5] == "adopted"
    assert ["voter_id", "voter", "cast_by", "choices", "weight", "by_proxy_for", "cast_at"] in rows
    [mine] = [r for r in rows if r[:6] == [str(w.delegate2.id), w.delegate2.full_name, w.delegate2.full_name,
                                            "Không tán thành", "1", ""]]
    assert datetime.fromisoformat(mine[6]).utcoffset() == timedelta(0)  # ISO 8601 with its offset, UTC

    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/annul", json={}).status_code == 422
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/annul", json={"reason": "  "}).status_code == 422
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/annul", json={"reason": "Sai sót trong danh sách"})
    assert r.status_code == 200 and r.json["status"] == "annulled"
    assert r.json["annul_reason"] == "Sai sót trong danh sách"
    assert r.json["result"]["outcome"] == "adopted"  # the figures stay; the status says it does not count
    again = as_user("chair").post(f"/api/v1/polls/{poll['id']}/annul", json={"reason": "x"})
    assert again.status_code == 409
    # The record for the minutes.
    from meetings.voting.results import poll_results_for_minutes

    [m] = poll_results_for_minutes(db.session, w.meeting.id)
    assert m["outcome"] == "annulled" and m["secret"] is False and m["base"] == "cast" and m["required"] == 2
    assert m["threshold"] == "more than 1/2" and m["options"][0] == {"id": option(poll, "for"), "label": "Tán thành",
                                                                     "count": 2}
    assert {v["full_name"] for v in m["named_votes"]} == {getattr(w, n).full_name
                                                          for n in ("chair", "delegate", "delegate2", "secretary")}
    db.session.remove()


def test_opening_needs_a_meeting_in_progress(as_user, world):
    poll = new_poll(as_user, world)
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_in_progress"


BAD_POLLS = [
    ({}, 422),
    ({"title": ""}, 422),
    ({"title": 5}, 422),
    ({"title": "x", "kind": "ranked"}, 422),
    ({"title": "x", "secret": "maybe"}, 422),
    ({"title": "x", "kind": "single", "options": ["Một"]}, 422),
    ({"title": "x", "kind": "single", "options": ["Một", "Một"]}, 422),
    ({"title": "x", "kind": "multiple", "options": ["A", "B"], "max_choices": 3}, 422),
    ({"title": "x", "kind": "multiple", "options": ["A", "B"], "max_choices": 1, "min_choices": 2}, 422),
    ({"title": "x", "secret": True, "results_live": True}, 422),
    ({"title": "x", "secret": True, "allow_change": True}, 422),
    ({"title": "x", "secret": True, "tie_rule": "chair"}, 422),
    ({"title": "x", "threshold_numerator": 3, "threshold_denominator": 2}, 422),
    ({"title": "x", "threshold_numerator": 1, "threshold_denominator": 1, "threshold_strict": True}, 422),
    ({"title": "x", "threshold": "most"}, 422),
    ({"title": "x", "quorum_numerator": 2}, 422),
    ({"title": "x", "quorum_numerator": 4, "quorum_denominator": 3}, 422),
    ({"title": "x", "majority_base": "everyone"}, 422),
    ({"title": "x", "agenda_item_id": 999999}, 422),
    ({"title": "x", "time_limit_seconds": 0}, 422),
    ({"title": "x", "agenda_item_id": "1"}, 422),
]


def test_bad_poll_definitions_are_refused(as_user, running):
    chair = as_user("chair")
    before = state(0)
    for body, code in BAD_POLLS:  # one world for all: building one is slow (argon2)
        r = chair.post(f"/api/v1/meetings/{running.meeting.id}/polls", json=body)
        assert r.status_code == code and r.json["error"]["code"] in (
            "invalid", "secret_live_results", "secret_change", "secret_tie_rule", "duplicate_options",
            "unknown_agenda_item"), (body, r.json)
        assert state(0) == before, body


def test_who_may_create_and_run_polls(as_user, running):
    w = running
    url = f"/api/v1/meetings/{w.meeting.id}/polls"
    assert as_user("delegate").post(url, json={"title": "x"}).status_code == 403
    assert as_user("observer").post(url, json={"title": "x"}).status_code == 403
    assert as_user("outsider").post(url, json={"title": "x"}).status_code == 404
    assert as_user(None).post(url, json={"title": "x"}).status_code == 401
    assert as_user("chair").post("/api/v1/meetings/999999/polls", json={"title": "x"}).status_code == 404
    poll = new_poll(as_user, w)
    for action in ("open", "close", "publish"):
        assert as_user("delegate").post(f"/api/v1/polls/{poll['id']}/{action}").status_code == 404  # a draft
    poll = open_poll(as_user, w, "admin", title="Bầu Tổ trưởng")
    for name in ("delegate", "observer"):
        assert as_user(name).post(f"/api/v1/polls/{poll['id']}/close").status_code == 403
    assert as_user("outsider").post(f"/api/v1/polls/{poll['id']}/close").status_code == 404
    assert as_user("outsider").get(f"/api/v1/polls/{poll['id']}").status_code == 404
    assert as_user("chair").get("/api/v1/polls/999999").status_code == 404
    assert as_user("chair").delete(f"/api/v1/polls/{poll['id']}").status_code == 409  # opened: kept for the record
    draft = new_poll(as_user, w)
    assert as_user("delegate").delete(f"/api/v1/polls/{draft['id']}").status_code == 404
    assert as_user("chair").delete(f"/api/v1/polls/{draft['id']}").status_code == 204
    assert as_user("chair").get(f"/api/v1/polls/{draft['id']}").status_code == 404


BAD_BALLOTS = [
    {}, {"option_ids": "1"}, {"option_ids": ["1"]}, {"option_ids": [1.5]}, {"option_ids": [None]},
    {"option_ids": [True]}, {"option_ids": []}, {"option_ids": [999999]}, {"option_ids": "FIRST_TWO"},
    {"option_ids": "FOR_TWICE"}, {"option_ids": "FOR", "on_behalf_of": "x"}, {"option_ids": "OTHER_POLL"},
    {"option_ids": list(range(1000))}, [1, 2], "ballot",
]


def test_bad_ballots_change_nothing(as_user, running):
    w = running
    other = open_poll(as_user, w, title="Khác")
    poll = open_poll(as_user, w)
    special = {"FIRST_TWO": [option(poll, "for"), option(poll, "against")], "FOR_TWICE": [option(poll, "for")] * 2,
               "FOR": [option(poll, "for")], "OTHER_POLL": [option(other, "for")]}
    delegate = as_user("delegate")
    before = state(poll["id"])
    for body in BAD_BALLOTS:
        if isinstance(body, dict) and isinstance(body.get("option_ids"), str) and body["option_ids"] in special:
            body = {**body, "option_ids": special[body["option_ids"]]}
        r = delegate.post(f"/api/v1/polls/{poll['id']}/ballots", json=body)
        assert r.status_code == 422, (body, r.json)
        assert state(poll["id"]) == before, body
    assert vote(as_user, "delegate", poll, "for").status_code == 201  # and the good ballot still goes in


def test_who_may_vote(as_user, running):
    w = running
    poll = open_poll(as_user, w)
    for name in ("observer", "outsider", "admin", "archivist", "delegate", "chair"):
        as_user(name)  # tokens first: issuing one is audited
    before = state(poll["id"])
    r = vote(as_user, "observer", poll, "for")
    assert r.status_code == 403 and r.json["error"]["code"] == "not_entitled"
    assert vote(as_user, "outsider", poll, "for").status_code == 404
    assert vote(as_user, "admin", poll, "for").status_code == 403  # runs meetings, has no vote here
    assert vote(as_user, "archivist", poll, "for").status_code == 403
    assert as_user(None).post(f"/api/v1/polls/{poll['id']}/ballots", json={"option_ids": [1]}).status_code == 401
    # Nobody votes for another without a proxy.
    r = vote(as_user, "delegate", poll, "for", on_behalf_of=w.delegate2.id)
    assert r.status_code == 403 and r.json["error"]["code"] == "no_proxy"
    r = vote(as_user, "chair", poll, "for", on_behalf_of=w.observer.id)
    assert r.status_code == 403
    assert vote(as_user, "delegate", poll, "for", on_behalf_of=999999).status_code == 403
    assert state(poll["id"]) == before
    assert as_user("delegate").post("/api/v1/polls/999999/ballots", json={"option_ids": [1]}).status_code == 404


def test_no_ballot_in_draft_or_closed_polls(as_user, running):
    w = running
    draft = new_poll(as_user, w)
    first = {"option_ids": [draft["options"][0]["id"]]}
    r = as_user("delegate").post(f"/api/v1/polls/{draft['id']}/ballots", json=first)
    assert r.status_code == 404  # a draft is invisible to delegates
    r = as_user("chair").post(f"/api/v1/polls/{draft['id']}/ballots", json=first)
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    poll = open_poll(as_user, w)
    as_user("chair").post(f"/api/v1/polls/{poll['id']}/close")
    as_user("delegate")
    before = state(poll["id"])
    r = vote(as_user, "delegate", poll, "for")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    assert state(poll["id"]) == before


def test_presence_required(as_user, running):
    w = running
    poll = open_poll(as_user, w, presence_required=True)
    r = vote(as_user, "delegate", poll, "for")
    assert r.status_code == 403 and r.json["error"]["code"] == "not_present"
    db.session.add(Attendance(meeting_id=w.meeting.id, user_id=w.delegate.id, status="present"))
    db.session.add(Attendance(meeting_id=w.meeting.id, user_id=w.delegate2.id, status="absent"))
    db.session.commit()
    db.session.remove()
    assert vote(as_user, "delegate", poll, "for").status_code == 201
    assert vote(as_user, "delegate2", poll, "for").json["error"]["code"] == "not_present"


def test_changing_a_ballot_only_when_the_poll_allows_it(as_user, running):
    w = running
    fixed = open_poll(as_user, w)
    assert vote(as_user, "delegate", fixed, "for").status_code == 201
    assert vote(as_user, "delegate", fixed, "against").json["error"]["code"] == "already_voted"
    poll = open_poll(as_user, w, allow_change=True, results_live=True)
    assert vote(as_user, "delegate", poll, "for").status_code == 201
    r = vote(as_user, "delegate", poll, "against")
    assert r.status_code == 201 and r.json["option_ids"] == [option(poll, "against")]
    seen = as_user("delegate2").get(f"/api/v1/polls/{poll['id']}").json  # live: everyone sees the tally
    assert {c["id"]: c["count"] for c in seen["counts"]} == {option(poll, "for"): 0, option(poll, "against"): 1,
                                                             option(poll, "abstain"): 0}
    assert seen["voted"] == 1 and seen["entitled"] == 4


def test_hidden_named_poll_shows_only_counts_to_those_running_it(as_user, running):
    w = running
    poll = open_poll(as_user, w)
    vote(as_user, "delegate", poll, "for")
    chair_view = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json
    assert chair_view["voted"] == 1 and chair_view["entitled"] == 4 and "counts" not in chair_view
    assert "result" not in chair_view and "named_votes" not in chair_view
    delegate_view = as_user("delegate2").get(f"/api/v1/polls/{poll['id']}").json
    assert "voted" not in delegate_view and "counts" not in delegate_view


def test_elections_pick_up_to_k(as_user, running):
    w = running
    poll = open_poll(as_user, w, kind="multiple", options=["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"],
                     max_choices=2, min_choices=1, quorum_numerator=0, quorum_denominator=1)
    assert vote(as_user, "delegate", poll, "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường").status_code == 422
    assert vote(as_user, "delegate", poll, "Nguyễn Văn An", "Trần Thị Bình").status_code == 201
    assert vote(as_user, "delegate2", poll, "Nguyễn Văn An").status_code == 201
    assert vote(as_user, "chair", poll, "Lê Văn Cường").status_code == 201
    res = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["result"]
    assert {o["label"]: (o["count"], o["passed"]) for o in res["options"]} == {
        "Nguyễn Văn An": (2, True), "Trần Thị Bình": (1, False), "Lê Văn Cường": (1, False)}
    assert res["outcome"] == "adopted" and res["required"] == 2


def test_weighted_ballots(as_user, running):
    w = running
    from meetings.bodies.models import Participant

    p = db.session.query(Participant).filter_by(meeting_id=w.meeting.id, user_id=w.delegate.id).one()
    p.vote_weight = 5
    db.session.commit()
    db.session.remove()
    poll = open_poll(as_user, w, weighted=True, majority_base="entitled", quorum_numerator=0, quorum_denominator=1)
    vote(as_user, "delegate", poll, "for")
    vote(as_user, "chair", poll, "against")
    res = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["result"]
    assert res["entitled"] == 8 and res["required"] == 5 and res["outcome"] == "adopted"
    ballots = db.session.query(BallotCast).filter_by(poll_id=poll["id"]).all()
    assert sorted(b.weight for b in ballots) == [1, 5]
    db.session.remove()


def test_tie_broken_by_the_chair_end_to_end(as_user, running):
    w = running
    poll = open_poll(as_user, w, tie_rule="chair", majority_base="entitled")
    for name, choice in (("chair", "for"), ("delegate", "for"), ("delegate2", "against"), ("secretary", "against")):
        assert vote(as_user, name, poll, choice).status_code == 201
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    assert closed["result"]["tie"] and closed["result"]["tie_break_used"] and closed["result"]["outcome"] == "adopted"
    from meetings.voting.results import poll_results_for_minutes

    assert poll_results_for_minutes(db.session, w.meeting.id)[0]["tie_break_used"] is True
    db.session.remove()


def test_no_quorum_is_stored_as_such(as_user, running):
    poll = open_poll(as_user, running)
    vote(as_user, "delegate", poll, "for")
    vote(as_user, "delegate2", poll, "for")
    res = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["result"]
    assert res["outcome"] == "no_quorum" and res["quorum"]["present"] == 2 and res["quorum"]["required"] == 3
    assert db.session.get(Poll, poll["id"]).outcome == "no_quorum"
    db.session.remove()


def test_time_limit_closes_the_poll(as_user, running):
    poll = open_poll(as_user, running, time_limit_seconds=60)
    assert poll["closes_at"] is not None
    assert vote(as_user, "delegate", poll, "for").status_code == 201
    row = db.session.get(Poll, poll["id"])
    row.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    db.session.remove()
    r = vote(as_user, "delegate2", poll, "for")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    seen = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["status"] == "closed" and seen["result"]["cast"] == 1


def test_publish_on_close_and_close_when_complete(as_user, running):
    poll = open_poll(as_user, running, publish_on_close=True, close_when_complete=True)
    for name in ("chair", "delegate", "delegate2"):
        vote(as_user, name, poll, "for")
    assert as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json["status"] == "open"
    vote(as_user, "secretary", poll, "against")
    seen = as_user("delegate").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["status"] == "published" and seen["result"]["outcome"] == "adopted"


def test_openapi_lists_the_voting_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for p in ("/api/v1/meetings/{meeting_id}/polls", "/api/v1/polls/{poll_id}", "/api/v1/polls/{poll_id}/open",
              "/api/v1/polls/{poll_id}/close", "/api/v1/polls/{poll_id}/publish", "/api/v1/polls/{poll_id}/annul",
              "/api/v1/polls/{poll_id}/ballots", "/api/v1/polls/{poll_id}/results.json",
              "/api/v1/polls/{poll_id}/results.csv", "/api/v1/meetings/{meeting_id}/proxies",
              "/api/v1/proxies/{proxy_id}"):
        assert p in paths, p


def test_join_snapshot_lists_open_and_recent_polls_as_each_user_may_see_them(as_user, running):
    from meetings.voting.results import poll_snapshot

    w = running
    new_poll(as_user, w, title="Bản nháp")
    live = open_poll(as_user, w, title="Đang mở")
    vote(as_user, "delegate", live, "for")
    done = open_poll(as_user, w, title="Đã đóng", secret=True)
    vote(as_user, "delegate2", done, "against")
    close_secret(as_user, w, done)
    s = db.session
    mine = {p["title"]: p for p in poll_snapshot(s, w.meeting.id, s.get(type(w.delegate), w.delegate.id))}
    assert set(mine) == {"Đang mở", "Đã đóng"}  # no draft for a delegate
    assert mine["Đang mở"]["my_ballot"] == {"voted": True, "cast_by_id": w.delegate.id,
                                            "option_ids": [option(live, "for")]}
    assert "result" not in mine["Đã đóng"] and mine["Đã đóng"]["my_ballot"] == {"voted": False}
    chair = {p["title"]: p for p in poll_snapshot(s, w.meeting.id, s.get(type(w.chair), w.chair.id))}
    assert set(chair) == {"Đang mở", "Đã đóng"} and chair["Đã đóng"]["result"]["cast"] == 1
    assert chair["Đã đóng"]["named_votes"] is None and chair["Đang mở"]["voted"] == 1
    assert poll_snapshot(s, w.meeting.id, s.get(type(w.outsider), w.outsider.id)) == []
    s.remove()
