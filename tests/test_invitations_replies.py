"""Answers to invitations: from the e-mail's link (no login) and the app; proxies through the voting
rules; the expected attendance; the roll call started from the answers; the live notice."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from meetings.bodies.models import Meeting
from meetings.core.extensions import db, socketio
from meetings.platform.audit.models import AuditEntry
from meetings.voting.models import Proxy
from tests.factories import move_meeting
from tests.invitation_helpers import (
    deliver,
    draft,  # noqa: F401  (fixture)
    inv_app,  # noqa: F401  (fixture)
    invitation,
    status,
    token_of,
)
from tests.mail_server import mail_server  # noqa: F401  (fixture)


@pytest.fixture
def published(inv_app, draft, as_user, mail_server):  # noqa: F811
    """A published meeting whose invitations were delivered; ``links[name]`` is each one's reply token."""
    world, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    links = {m["To"].split("@")[0]: token_of(inv_app, m.get_body(("plain",)).get_content())
             for m in mail_server.messages}
    return world, meeting_id, links


def _form(client, token: str) -> str:
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _answer(inv_app, token: str, **fields):  # noqa: F811
    client = inv_app.test_client()  # a phone with no login
    data = {"csrf_token": _form(client, token), **fields}
    return client.post(f"/invitations/{token}", data=data)


def _expected(as_user, meeting_id: int) -> dict:
    r = as_user("secretary").get(f"/api/v1/meetings/{meeting_id}/invitations")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_answers_from_the_links_change_the_expected_attendance(inv_app, published, as_user):  # noqa: F811
    world, meeting_id, links = published
    before = _expected(as_user, meeting_id)
    assert before["counts"] == {"pending": 5, "attend": 0, "decline": 0, "proxy": 0, "total": 5}
    page = inv_app.test_client().get(f"/invitations/{links['delegate']}?answer=decline")
    html = page.get_data(as_text=True)
    assert "Answer the invitation" in html and 'value="decline" checked' in html  # the invitee's language
    assert "Trả lời giấy mời họp" in inv_app.test_client().get(f"/invitations/{links['chair']}").get_data(True)
    # Opening the link answers nothing: only the form's POST does (mail scanners follow links).
    assert _expected(as_user, meeting_id)["counts"]["pending"] == 5

    assert _answer(inv_app, links["chair"], reply="attend").status_code == 200
    refused = _answer(inv_app, links["delegate2"], reply="decline")
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    done = _answer(inv_app, links["delegate2"], reply="decline", reason="Đi công tác")
    assert done.status_code == 200 and "Không tham dự" in done.get_data(as_text=True)
    after = _expected(as_user, meeting_id)
    assert after["counts"] == {"pending": 3, "attend": 1, "decline": 1, "proxy": 0, "total": 5}
    rows = {r["user_id"]: r for r in after["invitations"]}
    assert rows[world.delegate2.id]["reason"] == "Đi công tác" and rows[world.chair.id]["reply"] == "attend"
    # Voting members: secretary, chair, delegate, delegate2 (the observer does not vote); one said "attend".
    assert after["expected"]["voting_members"] == 4 and after["expected"]["voting_attending"] == 1
    assert after["expected"]["quorum"]["met"] is False
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "invitation.replied")).all()
    assert [(e.actor_id, e.details["reply"], e.details["via"]) for e in entries] == [
        (world.chair.id, "attend", "link"), (world.delegate2.id, "decline", "link")]


def test_a_link_answers_only_its_own_invitation(inv_app, published, as_user):  # noqa: F811
    world, meeting_id, links = published
    _answer(inv_app, links["delegate"], reply="attend", user_id=world.delegate2.id)  # extra fields change nothing
    assert invitation(meeting_id, world.delegate.id).reply == "attend"
    assert invitation(meeting_id, world.delegate2.id).reply == "pending"
    wrong = links["delegate"][:-2] + ("AA" if not links["delegate"].endswith("AA") else "BB")
    assert inv_app.test_client().get(f"/invitations/{wrong}").status_code == 404
    client = inv_app.test_client()
    csrf = _form(client, links["delegate2"])
    assert client.post(f"/invitations/{wrong}", data={"csrf_token": csrf, "reply": "attend"}).status_code == 404
    assert invitation(meeting_id, world.delegate2.id).reply == "pending"
    # Removed from the meeting: the link shows the invitation is no longer valid and answers nothing.
    pid = next(p["id"] for p in as_user("secretary").get(f"/api/v1/meetings/{meeting_id}/participants").get_json()
               if p["user_id"] == world.delegate2.id)
    as_user("secretary").delete(f"/api/v1/meetings/{meeting_id}/participants/{pid}")
    assert "không còn hiệu lực" in inv_app.test_client().get(f"/invitations/{links['delegate2']}").get_data(True)
    client = inv_app.test_client()
    csrf = _form(client, links["delegate"])
    late = client.post(f"/invitations/{links['delegate2']}", data={"csrf_token": csrf, "reply": "attend"})
    assert late.status_code == 409
    assert _answer(inv_app, links["delegate"], reply="attend").status_code == 200  # others' links still work


def test_a_proxy_goes_through_the_voting_rules(inv_app, published, as_user):  # noqa: F811
    world, meeting_id, links = published
    url = f"/api/v1/meetings/{meeting_id}/my-invitation"
    mine = as_user("delegate").get(url).get_json()
    assert mine["reply"] == "pending" and {c["user_id"] for c in mine["proxy_choices"]} == {
        world.secretary.id, world.chair.id, world.delegate2.id}
    r = as_user("delegate").put(url, json={"reply": "proxy", "proxy_holder_id": world.delegate2.id})
    assert r.status_code == 200 and r.get_json()["proxy_holder_name"] == "Người dùng delegate2"
    proxies = db.session.scalars(select(Proxy).where(Proxy.meeting_id == meeting_id)).all()
    assert [(p.grantor_id, p.holder_id, p.active_grantor_id) for p in proxies] == [
        (world.delegate.id, world.delegate2.id, world.delegate.id)]
    # No chains: delegate2 holds a proxy, so cannot give theirs (the voting domain's rule).
    r = as_user("delegate2").put(url, json={"reply": "proxy", "proxy_holder_id": world.chair.id})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_chain"
    r = as_user("chair").put(url, json={"reply": "proxy", "proxy_holder_id": world.observer.id})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "not_entitled"  # observers do not vote
    assert as_user("chair").put(url, json={"reply": "proxy"}).status_code == 422
    # Changing the answer takes the proxy back.
    assert as_user("delegate").put(url, json={"reply": "attend"}).get_json()["proxy_holder_id"] is None
    db.session.rollback()
    assert db.session.scalars(select(Proxy.active_grantor_id).where(Proxy.meeting_id == meeting_id)).all() == [None]
    assert as_user("outsider").put(url, json={"reply": "attend"}).status_code == 404
    # From the e-mail's link too, with the holder chosen in the form.
    page = _answer(inv_app, links["chair"], reply="proxy", proxy_holder_id=str(world.secretary.id))
    assert page.status_code == 200 and "Ủy quyền" in page.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Proxy.holder_id).where(Proxy.grantor_id == world.chair.id,
                                                           Proxy.active_grantor_id.is_not(None))) == world.secretary.id
    assert _answer(inv_app, links["delegate2"], reply="proxy", proxy_holder_id="9" * 30).status_code == 422


def test_who_sees_the_expected_attendance(inv_app, published, as_user):  # noqa: F811
    _, meeting_id, _ = published
    assert as_user("chair").get(f"/api/v1/meetings/{meeting_id}/invitations").status_code == 200
    assert as_user("delegate").get(f"/api/v1/meetings/{meeting_id}/invitations").status_code == 403
    assert as_user("outsider").get(f"/api/v1/meetings/{meeting_id}/invitations").status_code == 404


def test_the_roll_call_starts_from_the_answers(inv_app, published, as_user):  # noqa: F811
    world, meeting_id, links = published
    url = f"/api/v1/meetings/{meeting_id}/my-invitation"
    as_user("delegate2").put(url, json={"reply": "decline", "reason": "Ốm"})
    as_user("delegate").put(url, json={"reply": "proxy", "proxy_holder_id": world.chair.id})
    as_user("chair").put(url, json={"reply": "attend"})
    as_user("observer").put(url, json={"reply": "decline", "reason": "Bận"})
    assert as_user("secretary").put(f"/api/v1/meetings/{meeting_id}/attendance/{world.observer.id}",
                                    json={"status": "present"}).status_code == 200  # came after all
    from_replies = f"/api/v1/meetings/{meeting_id}/attendance/from-replies"
    assert as_user("delegate").post(from_replies).status_code == 403
    r = as_user("secretary").post(from_replies)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert sorted(body["marked"]) == sorted([world.delegate.id, world.delegate2.id])
    roll = {a["user_id"]: (a["status"], a["reason"]) for a in body["attendance"]}
    assert roll[world.delegate2.id] == ("excused", "Ốm")
    assert roll[world.delegate.id] == ("excused", "Ủy quyền cho Người dùng chair")
    assert roll[world.chair.id] == ("unknown", None)  # "attend" is a promise; presence is seen in the hall
    assert roll[world.observer.id] == ("present", None)  # marked already: not overwritten
    assert as_user("secretary").post(from_replies).get_json()["marked"] == []  # once
    move_meeting(db.session, db.session.get(Meeting, meeting_id), world.secretary, "in_progress")
    assert as_user("chair").post(from_replies).status_code == 200


def test_managers_hear_each_answer_after_the_commit(inv_app, published, as_user, monkeypatch):  # noqa: F811
    world, meeting_id, _ = published
    heard = []
    monkeypatch.setattr(socketio, "emit", lambda name, data, to=None, **kw: heard.append((name, to, data)))
    refused = as_user("delegate").put(f"/api/v1/meetings/{meeting_id}/my-invitation", json={"reply": "decline"})
    assert refused.status_code == 422 and heard == []  # nothing announced from a refused answer
    as_user("delegate").put(f"/api/v1/meetings/{meeting_id}/my-invitation", json={"reply": "decline", "reason": "x"})
    rooms = {to: data for name, to, data in heard if name == "invitation.replied"}
    assert set(rooms) == {f"meeting:{meeting_id}:managers", f"user:{world.delegate.id}"}
    data = rooms[f"meeting:{meeting_id}:managers"]
    assert data["invitation"]["reply"] == "decline" and data["counts"]["decline"] == 1
