"""The counting committee over REST: election, the key ceremony with simulated devices, refusals.

Devices are ``meetings.voting.elgamal_dkg.CommitteeMemberDevice`` objects (tests/committee_helpers.py);
the database is the suite's real one; the last test drives a real server and Socket.IO client.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select

from meetings.bodies.models import Meeting, Participant
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from meetings.voting import elgamal, elgamal_dkg
from meetings.voting.committee_models import CommitteeMember, CountingCommittee, KeyShareMessage
from tests import committee_helpers as ch
from tests.factories import ROLES, move_meeting
from tests.socket_helpers import SocketClient, assert_not_received, db_session, make_world, start_socket_server
from tests.test_voting_support import new_poll, start_meeting

THREE = ["chair", "delegate", "delegate2"]
EVENT_KEYS = {"committee_id", "uid", "status", "threshold", "size", "published", "shares_sent", "confirmed"}


@pytest.fixture
def running(world, as_user):
    start_meeting(world)
    for name in ROLES:  # tokens first: issuing one writes an audit entry
        as_user.token(name)
    return world


def path(world, tail: str = "") -> str:
    return f"/api/v1/meetings/{world.meeting.id}/counting-committee{tail}"


def stored() -> tuple:
    """Everything a refused request must leave untouched."""
    s = db.session
    try:
        return (
            tuple(s.execute(select(CountingCommittee.id, CountingCommittee.status, CountingCommittee.public_key)
                            .order_by(CountingCommittee.id)).all()),
            tuple((m.index, repr(m.round1), m.verification_key, m.complaint_against) for m in s.execute(
                select(CommitteeMember).order_by(CommitteeMember.id)).scalars()),
            tuple(s.execute(select(KeyShareMessage.sender_index, KeyShareMessage.recipient_index,
                                   KeyShareMessage.ciphertext).order_by(KeyShareMessage.id)).all()),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
            s.execute(select(func.count()).select_from(MeetingEvent)).scalar_one(),
        )
    finally:
        s.remove()


def refused(response, status: int, code: str, before: tuple) -> None:
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.get_json()["error"]["code"] == code, response.get_json()
    assert stored() == before


def changed_events(meeting_id: int) -> list[dict]:
    try:
        return [e.data for e in db.session.execute(select(MeetingEvent).where(
            MeetingEvent.meeting_id == meeting_id, MeetingEvent.type == "committee.changed")
            .order_by(MeetingEvent.seq)).scalars()]
    finally:
        db.session.remove()


def audit_actions() -> list[str]:
    try:
        return list(db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("committee.%"))
                                       .order_by(AuditEntry.id)).scalars())
    finally:
        db.session.remove()


def test_three_members_two_of_three_run_the_ceremony_and_two_of_them_count(as_user, running):
    w = running
    state = ch.elect(as_user, w.meeting.id, THREE, 2)
    assert (state["status"], state["threshold"], state["size"], state["public_key"]) == ("ceremony", 2, 3, None)
    assert [(m["index"], m["user_id"], m["round"]) for m in state["members"]] == [
        (1, w.chair.id, "invited"), (2, w.delegate.id, "invited"), (3, w.delegate2.id, "invited")]
    assert state["me"] is None  # the secretary elected it but does not sit on it
    assert ch.committee_state(as_user, w.meeting.id, "delegate")["me"] == {"index": 2, "next": "round1"}
    # Everyone in the meeting sees the committee; nobody outside it.
    assert as_user("observer").get(path(w)).status_code == 200
    assert as_user("outsider").get(path(w)).status_code == 404

    devices = ch.devices_for(as_user, w.meeting.id)
    assert sorted(devices) == sorted(THREE)
    ch.publish_round1(as_user, w.meeting.id, {"chair": devices["chair"]})
    assert ch.committee_state(as_user, w.meeting.id, "chair")["me"]["next"] == "wait"
    r = as_user("chair").get(path(w, "/round1"))
    assert r.status_code == 409 and r.json["error"]["code"] == "wrong_round"
    ch.publish_round1(as_user, w.meeting.id, {n: devices[n] for n in ("delegate", "delegate2")})
    assert ch.committee_state(as_user, w.meeting.id, "delegate")["me"]["next"] == "round2"
    ch.send_shares(as_user, w.meeting.id, devices)
    seen = ch.committee_state(as_user, w.meeting.id, "delegate2")
    assert seen["progress"] == {"published": 3, "shares_sent": 3, "confirmed": 0} and seen["me"]["next"] == "confirm"
    assert [s["from"] for s in as_user("delegate2").get(path(w, "/shares")).json["shares"]] == [1, 2]
    ready = ch.confirm_all(as_user, w.meeting.id, devices)

    commitments = {i: m["commitments"] for i, m in ch.round1_of_all(as_user, w.meeting.id, "chair").items()}
    assert ready["status"] == "ready" and ready["public_key"] == elgamal_dkg.committee_public_key(commitments)
    assert [m["verification_key"] for m in ready["members"]] == [d.verification_key for d in devices.values()]
    assert ready["me"] == {"index": 3, "next": "done"}
    assert audit_actions() == ["committee.elected", *["committee.round1"] * 3, *["committee.round2"] * 3,
                               *["committee.confirmed"] * 3, "committee.ready"]
    events = changed_events(w.meeting.id)
    assert len(events) == 10 and events[-1] == {
        "committee_id": ready["id"], "uid": ready["uid"], "status": "ready", "threshold": 2, "size": 3,
        "published": 3, "shares_sent": 3, "confirmed": 3, "public_key": ready["public_key"]}
    assert all(set(e) - {"public_key"} == EVENT_KEYS for e in events)

    # The key works: a secret poll of the sitting takes encrypted ballots, and 2 of the 3 count them.
    poll = new_poll(as_user, w, "chair", secret=True)
    poll = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open").json
    assert poll["public_key"] == ready["public_key"]
    for name, position in (("delegate", 0), ("delegate2", 0), ("chair", 1)):
        ballot = elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], 3, [position], 1, 1)
        r = as_user(name).post(f"/api/v1/polls/{poll['id']}/ballots", json={"ballot": ballot})
        assert r.status_code == 201, r.json
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").json["status"] == "counting"
    answers = ch.count(as_user, poll["id"], devices, members=["delegate", "delegate2"])  # the chair is away
    assert answers[-1]["status"] in ("closed", "published")
    result = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json["result"]
    assert [o["count"] for o in result["options"]] == [2, 1, 0]


def test_the_default_committee_is_the_chair_and_the_secretary_two_of_two(as_user, running):
    w = running
    assert as_user("chair").get(path(w)).json["error"]["code"] == "no_committee"
    poll = new_poll(as_user, w, "chair", secret=True)  # the first secret poll makes it
    state = ch.committee_state(as_user, w.meeting.id)
    assert (state["status"], state["threshold"], state["size"]) == ("ceremony", 2, 2)
    assert [m["user_id"] for m in state["members"]] == [w.chair.id, w.secretary.id]
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "committee_not_ready"
    new_poll(as_user, w, "chair", secret=True)  # a second secret poll uses the same committee
    assert len(db.session.execute(select(CountingCommittee)).scalars().all()) == 1
    db.session.remove()

    devices = ch.run_ceremony(as_user, w.meeting.id)
    assert sorted(devices) == ["chair", "secretary"]
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 200 and r.json["public_key"] == ch.committee_state(as_user, w.meeting.id)["public_key"]
    details = db.session.execute(select(AuditEntry.details).where(AuditEntry.action == "committee.elected")
                                 ).scalar_one()
    assert details["default"] is True and details["member_ids"] == [w.chair.id, w.secretary.id]
    db.session.remove()


def test_without_a_chair_and_a_secretary_a_secret_poll_needs_an_elected_committee(as_user, running):
    w = running
    db.session.execute(delete(Participant).where(Participant.user_id == w.secretary.id))
    db.session.commit()
    r = as_user("chair").post(f"/api/v1/meetings/{w.meeting.id}/polls", json={"title": "Bầu", "secret": True})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_committee"
    ch.elect(as_user, w.meeting.id, ["chair", "delegate"], 2, by="chair")
    assert as_user("chair").post(f"/api/v1/meetings/{w.meeting.id}/polls",
                                 json={"title": "Bầu", "secret": True}).status_code == 201


def test_who_may_elect_and_who_may_take_part(as_user, running, app):
    w = running
    before = stored()
    body = {"member_ids": [w.chair.id, w.delegate.id], "threshold": 2}
    refused(as_user("delegate").post(path(w), json=body), 403, "forbidden", before)
    refused(as_user("outsider").post(path(w), json=body), 404, "not_found", before)
    refused(as_user("secretary").post(path(w), json={**body, "member_ids": [w.chair.id, w.outsider.id]}),
            422, "not_participant", before)
    refused(as_user("secretary").post(path(w), json={**body, "threshold": 3}), 422, "committee_threshold", before)
    refused(as_user("secretary").post(path(w), json={**body, "member_ids": [w.chair.id, w.chair.id]}),
            422, "duplicate_members", before)
    assert as_user("secretary").post(path(w), json={**body, "threshold": 1}).status_code == 422
    state = ch.elect(as_user, w.meeting.id, ["chair", "delegate"], 2)

    # The outsider sits on the committee of another meeting, where they take part.
    other = Meeting(body_id=w.body.id, title="Phiên khác", place="Phòng 2", starts_at=w.meeting.starts_at,
                    status="scheduled", created_by_id=w.secretary.id)
    db.session.add(other)
    db.session.flush()
    db.session.add_all(Participant(meeting_id=other.id, user_id=getattr(w, n).id, role=r or "delegate")
                       for n, (_, r) in ROLES.items() if n != "archivist" and (r or n == "outsider"))
    db.session.commit()
    other_id = other.id
    move_meeting(db.session, db.session.get(Meeting, other_id), w.secretary, "in_progress")
    db.session.remove()
    r = as_user("secretary").post(f"/api/v1/meetings/{other_id}/counting-committee",
                                  json={"member_ids": [w.outsider.id, w.delegate2.id], "threshold": 2})
    assert r.status_code == 201, r.json
    outsider_device = elgamal_dkg.CommitteeMemberDevice(r.json["uid"], 1, 2, 2)

    device = elgamal_dkg.CommitteeMemberDevice(state["uid"], 1, 2, 2)
    message = device.round1()
    before = stored()
    refused(as_user("outsider").post(path(w, "/round1"), json=outsider_device.round1()), 404, "not_found", before)
    refused(as_user("outsider").post(path(w, "/round1"), json=message), 404, "not_found", before)
    for name in ("delegate2", "secretary", "observer", "admin"):  # they see the meeting, hold no seat
        refused(as_user(name).post(path(w, "/round1"), json=message), 403, "not_committee_member", before)
        assert as_user(name).get(path(w, "/round1")).status_code == 403
        assert as_user(name).get(path(w, "/shares")).status_code == 403
    assert as_user("outsider").get(path(w, "/round1")).status_code == 404
    assert as_user(None).get(path(w)).status_code == 401
    assert as_user("chair").post(path(w, "/round1"), json=message).status_code == 201


def test_forged_and_misordered_messages_are_refused_with_nothing_stored(as_user, running):
    w = running
    state = ch.elect(as_user, w.meeting.id, THREE, 2)
    d1, d2, d3 = (elgamal_dkg.CommitteeMemberDevice(state["uid"], i, 2, 3) for i in (1, 2, 3))
    m1, m2, m3 = d1.round1(), d2.round1(), d3.round1()
    assert as_user("chair").post(path(w, "/round1"), json=m1).status_code == 201

    before = stored()
    c0 = m2["commitments"][0]
    forged = [
        {**m2, "pok": {**m2["pok"], "z": elgamal.scalar_hex(elgamal.parse_scalar(m2["pok"]["z"]) + 1)}},  # bad pok
        {**m2, "pok": {**m2["pok"], "c": "ff" * 32}},                       # not a canonical scalar
        {**m2, "transport_key": "ff" * 32},                                 # not a point
        {**m2, "transport_key": "00" * 32},                                 # the identity
        {**m2, "transport_key": m2["transport_key"].upper()},               # not the canonical hex
        {**m2, "transport_key": m2["transport_key"][:-2]},                  # too short
        {**m2, "commitments": [c0]},                                        # k = 2 needs 2 commitments
        {**m2, "commitments": [elgamal.point_hex(elgamal.G), *m2["commitments"][1:]]},  # pok for another C_0
        m1,                                                                 # member 1's message, copied
        {**m2, "transport_key": m1["transport_key"]},                       # member 1's transport key
    ]
    for message in forged:
        refused(as_user("delegate").post(path(w, "/round1"), json=message), 400, "invalid_message", before)
    assert as_user("delegate").post(path(w, "/round1"), json={"transport_key": 5}).status_code == 422

    # Round 2 before every member published round 1: wrong round, even well formed.
    early = [{"to": 2, "ephemeral": m1["transport_key"], "ciphertext": "00" * 32},
             {"to": 3, "ephemeral": m1["transport_key"], "ciphertext": "00" * 32}]
    refused(as_user("chair").post(path(w, "/round2"), json={"shares": early}), 409, "wrong_round", before)
    refused(as_user("chair").get(path(w, "/round1")), 409, "wrong_round", before)

    assert as_user("delegate").post(path(w, "/round1"), json=m2).status_code == 201
    assert as_user("delegate2").post(path(w, "/round1"), json=m3).status_code == 201
    # Once only: the same message again is accepted (nothing new), another one refused.
    before = stored()
    r = as_user("chair").post(path(w, "/round1"), json=m1)
    assert r.status_code == 200 and stored() == before
    other = elgamal_dkg.CommitteeMemberDevice(state["uid"], 1, 2, 3).round1()
    refused(as_user("chair").post(path(w, "/round1"), json=other), 409, "already_published", before)

    everyone = ch.round1_of_all(as_user, w.meeting.id, "chair")
    s1 = d1.round2(everyone)
    refused(as_user("chair").post(path(w, "/confirm"), json={"verification_key": m1["transport_key"]}),
            409, "wrong_round", before)
    bad_shares = [
        [{**s1[0], "to": 9}, s1[1]],                                        # an unknown recipient
        [{**s1[0], "to": 1}, s1[1]],                                        # a share to oneself
        [s1[0], {**s1[1], "to": s1[0]["to"]}],                              # two for one member
        [s1[0]],                                                            # one member left out
        [s1[0], s1[1], {**s1[0], "to": 1}],                                 # one too many
        [{**s1[0], "ephemeral": "ff" * 32}, s1[1]],                         # not a point
        [{**s1[0], "ciphertext": s1[0]["ciphertext"][:-1]}, s1[1]],         # not 32 bytes
    ]
    for shares in bad_shares:
        refused(as_user("chair").post(path(w, "/round2"), json={"shares": shares}), 400, "invalid_message", before)
    assert as_user("chair").post(path(w, "/round2"), json={"shares": s1}).status_code == 201
    before = stored()
    assert as_user("chair").post(path(w, "/round2"), json={"shares": s1}).status_code == 200 and stored() == before
    refused(as_user("chair").post(path(w, "/round2"), json={"shares": d1.round2(everyone)}), 409, "already_sent",
            before)
    refused(as_user("chair").get(path(w, "/shares")), 409, "wrong_round", before)
    for name, device in (("delegate", d2), ("delegate2", d3)):
        assert as_user(name).post(path(w, "/round2"), json={"shares": device.round2(everyone)}).status_code == 201

    k1 = d1.confirm(everyone, ch.shares_to(as_user, w.meeting.id, "chair"))
    k2 = d2.confirm(everyone, ch.shares_to(as_user, w.meeting.id, "delegate"))
    before = stored()
    for wrong in (k2, m1["transport_key"], "ff" * 32, "00" * 32):  # another member's K_j, any point, no point
        refused(as_user("chair").post(path(w, "/confirm"), json={"verification_key": wrong}), 400, "invalid_message",
                before)
    refused(as_user("chair").post(path(w, "/confirm"), json={}), 422, "confirm_or_complain", before)
    refused(as_user("chair").post(path(w, "/confirm"), json={"complaint_against": 1}), 400, "invalid_message",
            before)
    assert as_user("chair").post(path(w, "/confirm"), json={"verification_key": k1}).json["status"] == "ceremony"
    assert as_user("delegate").post(path(w, "/confirm"), json={"verification_key": k2}).status_code == 201
    k3 = d3.confirm(everyone, ch.shares_to(as_user, w.meeting.id, "delegate2"))
    assert as_user("delegate2").post(path(w, "/confirm"), json={"verification_key": k3}).json["status"] == "ready"
    before = stored()
    assert as_user("delegate2").post(path(w, "/confirm"), json={"verification_key": k3}).status_code == 200
    refused(as_user("delegate2").post(path(w, "/round1"), json=elgamal_dkg.CommitteeMemberDevice(
        state["uid"], 3, 2, 3).round1()), 409, "already_published", before)
    assert stored() == before


def test_a_complaint_fails_the_committee_and_it_is_elected_again(as_user, running):
    w = running
    state = ch.elect(as_user, w.meeting.id, THREE, 2)
    devices = ch.devices_for(as_user, w.meeting.id)
    ch.publish_round1(as_user, w.meeting.id, devices)
    everyone = ch.round1_of_all(as_user, w.meeting.id, "chair")
    for name, device in devices.items():
        shares = device.round2(everyone)
        if name == "chair":  # the chair's device sends the delegate a share that fails Feldman's check
            bad = next(s for s in shares if s["to"] == 2)
            bad["ciphertext"] = f"{int(bad['ciphertext'][:2], 16) ^ 1:02x}" + bad["ciphertext"][2:]
        assert as_user(name).post(path(w, "/round2"), json={"shares": shares}).status_code == 201
    with pytest.raises(elgamal.InvalidProof) as caught:
        devices["delegate"].confirm(everyone, ch.shares_to(as_user, w.meeting.id, "delegate"))
    assert caught.value.against == 1
    r = as_user("delegate").post(path(w, "/confirm"), json={"complaint_against": caught.value.against})
    assert r.status_code == 201 and r.json["status"] == "failed" and r.json["me"]["next"] == "none"
    assert "member 1" in r.json["failure"] and r.json["members"][1]["complaint_against"] == 1
    assert changed_events(w.meeting.id)[-1]["status"] == "failed" and audit_actions()[-1] == "committee.failed"

    key = devices["delegate2"].confirm(everyone, ch.shares_to(as_user, w.meeting.id, "delegate2"))
    before = stored()
    refused(as_user("delegate2").post(path(w, "/confirm"), json={"verification_key": key}), 409, "bad_state", before)
    poll = new_poll(as_user, w, "chair", secret=True)  # a secret poll waits for a ready committee
    r = as_user("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "committee_not_ready"

    again = ch.elect(as_user, w.meeting.id, THREE, 2)
    assert again["id"] != state["id"] and again["uid"] != state["uid"] and again["status"] == "ceremony"
    assert db.session.get(CountingCommittee, state["id"]).status == "replaced"
    db.session.remove()
    ch.run_ceremony(as_user, w.meeting.id)
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/open").status_code == 200


def test_the_committee_cannot_be_replaced_while_a_poll_under_its_key_is_open(as_user, running):
    """A used committee may be replaced (a lost share), but not while ballots are encrypted to it;
    its polls are still counted by it afterwards."""
    w = running
    ch.run_ceremony(as_user, w.meeting.id, THREE, threshold=2)
    poll = new_poll(as_user, w, "chair", secret=True)
    first = ch.elect(as_user, w.meeting.id, THREE, 3)  # only a draft so far: still replaceable
    assert first["threshold"] == 3 and first["in_use"] is False
    ch.run_ceremony(as_user, w.meeting.id)
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/open").status_code == 200
    assert ch.committee_state(as_user, w.meeting.id)["in_use"] is True
    before = stored()
    refused(as_user("secretary").post(path(w), json={"member_ids": [w.chair.id, w.secretary.id], "threshold": 2}),
            409, "committee_in_use", before)
    # Once the poll is closed (counting under the old key), a new committee may be elected.
    old_id = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json["committee_id"]
    assert as_user("chair").post(f"/api/v1/polls/{poll['id']}/close").status_code == 200
    again = ch.elect(as_user, w.meeting.id, ["chair", "secretary"], 2)
    assert again["status"] == "ceremony" and again["id"] != old_id
    counted = as_user("chair").get(f"/api/v1/polls/{poll['id']}").json
    assert counted["status"] in ("counting", "closed") and counted["committee_id"] != again["id"]


# --- a real server, a real Socket.IO client --------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("committee"), database_url)
    yield handle
    handle.stop()


def test_committee_changed_reaches_the_room_with_no_secret(server, database_url):
    live = make_world(database_url, status="in_progress")
    live.url = server.url
    clients = ch.LiveClients(live)
    watcher = SocketClient(live.url, live.tokens["delegate"]).connect()
    try:
        assert watcher.call("meeting.join", {"meeting_id": live.meeting_id})["ok"]
        devices = ch.run_ceremony(clients, live.meeting_id, THREE, threshold=2, user_ids=live.user_ids)
        seen = []
        while not seen or seen[-1]["status"] != "ready":
            event = watcher.next_event(predicate=lambda e: e["type"] == "committee.changed")
            seen.append(event["data"])
        assert [(e["status"], e["published"], e["shares_sent"], e["confirmed"]) for e in seen] == [
            ("ceremony", 0, 0, 0), ("ceremony", 1, 0, 0), ("ceremony", 2, 0, 0), ("ceremony", 3, 0, 0),
            ("ceremony", 3, 1, 0), ("ceremony", 3, 2, 0), ("ceremony", 3, 3, 0),
            ("ceremony", 3, 3, 1), ("ceremony", 3, 3, 2), ("ready", 3, 3, 3)]
        assert all(set(e) - {"public_key"} == EVENT_KEYS for e in seen)
        # Nothing a device sent (round-1 messages, encrypted shares, keys) travels to the room.
        everyone = ch.round1_of_all(clients, live.meeting_id, "chair")
        sent = {v for m in everyone.values() for v in (m["transport_key"], *m["commitments"], *m["pok"].values())}
        sent |= {s["ciphertext"] for n in THREE for s in ch.shares_to(clients, live.meeting_id, n).values()}
        sent |= {d.verification_key for d in devices.values()}
        sent |= {str(d.key_share) for d in devices.values()} | {elgamal.scalar_hex(d.key_share)
                                                                 for d in devices.values()}
        assert_not_received(watcher, lambda _name, data: any(s in repr(data) for s in sent))
    finally:
        watcher.disconnect()


def test_the_last_two_confirmations_at_once_make_the_committee_ready_once(server, database_url):
    live = make_world(database_url, status="in_progress")
    live.url = server.url
    clients = ch.LiveClients(live)
    ch.elect(clients, live.meeting_id, ["chair", "delegate", "delegate2"], 2, user_ids=live.user_ids)
    devices = ch.devices_for(clients, live.meeting_id, live.user_ids)
    ch.publish_round1(clients, live.meeting_id, devices)
    ch.send_shares(clients, live.meeting_id, devices)
    everyone = ch.round1_of_all(clients, live.meeting_id, "chair")
    keys = {n: d.confirm(everyone, ch.shares_to(clients, live.meeting_id, n)) for n, d in devices.items()}
    assert clients("chair").post(ch._path(live.meeting_id, "/confirm"),
                                 json={"verification_key": keys["chair"]}).status_code == 201
    with ThreadPoolExecutor(2) as pool:  # both requests in flight together, on the server's gevent loop
        answers = list(pool.map(lambda n: clients(n).post(ch._path(live.meeting_id, "/confirm"),
                                                          json={"verification_key": keys[n]}),
                                ["delegate", "delegate2"]))
    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
    assert sorted(a.get_json()["status"] for a in answers) == ["ceremony", "ready"]
    with db_session(database_url) as s:
        readies = s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "committee.ready", AuditEntry.meeting_id == live.meeting_id)).scalar_one()
        row = s.execute(select(CountingCommittee).where(CountingCommittee.meeting_id == live.meeting_id)).scalar_one()
        assert readies == 1 and row.status == "ready" and row.public_key == elgamal_dkg.committee_public_key(
            {i: m["commitments"] for i, m in everyone.items()})
