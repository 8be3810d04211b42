"""Proxies (ủy quyền): who may give, hold, use and revoke them."""
from __future__ import annotations

from meetings.core.extensions import db
from meetings.voting.models import BallotCast
from tests.test_voting_support import open_poll, start_meeting, state, vote


def proxies_url(world) -> str:
    return f"/api/v1/meetings/{world.meeting.id}/proxies"


def test_proxy_given_used_and_revoked(as_user, world):
    w = world
    start_meeting(w)
    r = as_user("delegate").post(proxies_url(w), json={"holder_id": w.delegate2.id})
    assert r.status_code == 201 and r.json["grantor_id"] == w.delegate.id and r.json["active"] is True
    proxy_id = r.json["id"]
    poll = open_poll(as_user, w)
    # The holder casts the grantor's ballot as a separate ballot, and their own.
    r = vote(as_user, "delegate2", poll, "for", on_behalf_of=w.delegate.id)
    assert r.status_code == 201 and r.json["voter_id"] == w.delegate.id
    assert vote(as_user, "delegate2", poll, "against").status_code == 201
    r = vote(as_user, "delegate2", poll, "for", on_behalf_of=w.delegate.id)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_voted"
    # While the proxy stands, the grantor does not vote in person (nor could they twice).
    r = vote(as_user, "delegate", poll, "for")
    assert r.status_code == 403 and r.json["error"]["code"] == "proxy_active"
    # Nobody else uses the proxy.
    assert vote(as_user, "chair", poll, "for", on_behalf_of=w.delegate.id).json["error"]["code"] == "no_proxy"
    ballots = {b.voter_id: b.cast_by_id for b in db.session.query(BallotCast).filter_by(poll_id=poll["id"])}
    db.session.remove()
    assert ballots == {w.delegate.id: w.delegate2.id, w.delegate2.id: w.delegate2.id}
    seen = as_user("delegate2").get(f"/api/v1/polls/{poll['id']}").json
    assert seen["my_ballot"]["proxies"] == [{"voter_id": w.delegate.id, "voted": True}]

    # Revoking waits until no poll is open.
    r = as_user("delegate").delete(f"/api/v1/proxies/{proxy_id}")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_open"
    closed = as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json
    rows = sorted((v["voter_name"], v["full_name"], v["by_proxy_for"] or "", v["choice_labels"][0])
                  for v in closed["named_votes"])
    assert rows == sorted([(w.delegate.full_name, w.delegate2.full_name, w.delegate.full_name, "Tán thành"),
                           (w.delegate2.full_name, w.delegate2.full_name, "", "Không tán thành")])
    assert as_user("delegate2").delete(f"/api/v1/proxies/{proxy_id}").status_code == 403  # only the grantor
    r = as_user("delegate").delete(f"/api/v1/proxies/{proxy_id}")
    assert r.status_code == 200 and r.json["active"] is False
    assert as_user("delegate").delete(f"/api/v1/proxies/{proxy_id}").status_code == 409
    poll2 = open_poll(as_user, w, title="Lần hai")
    assert vote(as_user, "delegate2", poll2, "for", on_behalf_of=w.delegate.id).json["error"]["code"] == "no_proxy"
    assert vote(as_user, "delegate", poll2, "for").status_code == 201


def test_bad_proxies_are_refused(as_user, world):
    w = world
    url = proxies_url(w)
    for name in ("delegate", "delegate2", "chair", "observer", "outsider", "secretary"):
        as_user(name)
    before = state(0)
    cases = [
        ("delegate", {"holder_id": w.delegate.id}, 422, "self_proxy"),
        ("delegate", {"holder_id": w.observer.id}, 422, "not_entitled"),
        ("observer", {"holder_id": w.delegate.id}, 422, "not_entitled"),
        ("delegate", {"holder_id": w.outsider.id}, 422, "not_entitled"),
        ("delegate", {"holder_id": 999999}, 422, "not_entitled"),
        ("delegate", {"holder_id": "x"}, 422, "invalid"),
        ("delegate", {}, 422, "invalid"),
        ("delegate", {"grantor_id": w.chair.id, "holder_id": w.delegate.id}, 403, "forbidden"),
        ("outsider", {"holder_id": w.delegate.id}, 404, "not_found"),
    ]
    for name, body, status, code in cases:
        r = as_user(name).post(url, json=body)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (name, body, r.json)
    assert state(0) == before
    assert as_user("outsider").get(url).status_code == 404
    assert as_user("delegate").post("/api/v1/meetings/999999/proxies", json={"holder_id": 1}).status_code == 404


def test_one_proxy_per_member_and_no_chains(as_user, world):
    w = world
    url = proxies_url(w)
    # The secretariat records a member's paper authorization.
    r = as_user("secretary").post(url, json={"grantor_id": w.delegate.id, "holder_id": w.delegate2.id})
    assert r.status_code == 201 and r.json["grantor_id"] == w.delegate.id
    r = as_user("delegate").post(url, json={"holder_id": w.chair.id})
    assert r.status_code == 409 and r.json["error"]["code"] == "proxy_exists"
    r = as_user("delegate2").post(url, json={"holder_id": w.chair.id})  # holds delegate's: cannot give own
    assert r.status_code == 409 and r.json["error"]["code"] == "proxy_chain"
    r = as_user("chair").post(url, json={"holder_id": w.delegate.id})  # delegate gave theirs: cannot hold
    assert r.status_code == 409 and r.json["error"]["code"] == "proxy_chain"
    # Who sees which proxies.
    assert len(as_user("secretary").get(url).json) == 1
    assert len(as_user("delegate2").get(url).json) == 1
    assert as_user("chair").get(url).json != [] and as_user("observer").get(url).json == []
    pid = as_user("secretary").get(url).json[0]["id"]
    assert as_user("observer").delete(f"/api/v1/proxies/{pid}").status_code == 404
    assert as_user("outsider").delete(f"/api/v1/proxies/{pid}").status_code == 404
    assert as_user("chair").delete("/api/v1/proxies/999999").status_code == 404
    assert as_user("secretary").delete(f"/api/v1/proxies/{pid}").status_code == 200
    assert as_user("delegate").post(url, json={"holder_id": w.chair.id}).status_code == 201
