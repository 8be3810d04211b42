"""The minutes hold what happened: a sitting run through the public API only, its minutes read back with
pdftotext and compared with the database (times, attendance, quorum, every poll's figures and outcome).

Nothing here sets a column: the status changes, the roll call, the speakers, the polls and the conclusions
all go through REST and the Socket.IO events a tablet sends, so a minutes that printed the planned times,
an English word or a count of its own would be caught.
"""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from meetings.bodies.models import Participant
from meetings.bodies.sittings import sitting_periods
from meetings.core.extensions import db, socketio
from meetings.live.models import Attendance
from meetings.voting.models import Poll
from tests.minutes_support import pdftotext
from tests.test_voting_support import close_secret, open_poll, vote

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RECIPIENTS = ["- Thường trực Tỉnh ủy;", "- Các Sở, ban, ngành;", "- Lưu: VT, TH."]


def _ok(r, status=200):
    assert r.status_code == status, r.json
    return r.json


class Tablet:
    """One user's real Socket.IO session with the app (Flask-SocketIO's test client: the same handlers)."""

    def __init__(self, app, as_user, name):
        self.sio = socketio.test_client(app, auth={"token": as_user.token(name)})
        assert self.sio.is_connected()

    def call(self, event, data):
        ack = self.sio.emit(event, data, callback=True)
        assert ack.get("ok"), (event, ack)
        return ack


def _status(as_user, world, status):
    _ok(as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/status", json={"status": status}))


def _poll(as_user, world, item_id, title, votes, secret=False):
    """A poll through REST: a secret one encrypted on the (Python) voters' devices and counted by the
    committee's, so its figures reach the minutes only through the count."""
    poll = open_poll(as_user, world, title=title, agenda_item_id=item_id, secret=secret)
    for name, role in votes.items():
        _ok(vote(as_user, name, poll, role), 201)
    if secret:
        assert close_secret(as_user, world, poll)["status"] == "closed"
    else:
        _ok(as_user("chair").post(f"/api/v1/polls/{poll['id']}/close"))
    return poll["id"]


@pytest.fixture
def held(app, world, as_user):
    """A whole sitting, suspended once, through REST and socket events; then its finalized minutes."""
    mid, items = world.meeting.id, [i.id for i in world.items]
    _ok(as_user("admin").patch(f"/api/v1/bodies/{world.body.id}", json={
        "place_name": "Lâm Đồng", "minutes_copies": 3, "minutes_recipients": RECIPIENTS}))
    _status(as_user, world, "in_progress")
    sec = as_user("secretary")
    for name, status, reason in (("chair", "present", None), ("secretary", "present", None),
                                 ("delegate", "present", None), ("delegate2", "excused", "Đi công tác"),
                                 ("observer", "remote", None)):
        _ok(sec.put(f"/api/v1/meetings/{mid}/attendance/{world.users[name].id}",
                    json={"status": status, "reason": reason}))
    chair, secretary, delegate = (Tablet(app, as_user, n) for n in ("chair", "secretary", "delegate"))
    for t in (chair, secretary, delegate):
        t.call("meeting.join", {"meeting_id": mid})
    chair.call("item.open", {"meeting_id": mid, "agenda_item_id": items[0]})
    asked = delegate.call("speaker.request", {"meeting_id": mid, "kind": "question", "position": "against"})
    secretary.call("speaker.call", {"meeting_id": mid, "request_id": asked["request"]["id"]})
    secretary.call("speaker.end", {"meeting_id": mid})
    named = _poll(as_user, world, items[0], "Thông qua Đề án phát triển đô thị",
                  {"chair": "for", "secretary": "for", "delegate": "against"})
    _ok(sec.patch(f"/api/v1/items/{items[0]}", json={"conclusion": "Thống nhất thông qua Đề án.", "status": "done"}))
    _status(as_user, world, "adjourned")   # a break: the minutes show it
    _status(as_user, world, "in_progress")
    chair.call("item.open", {"meeting_id": mid, "agenda_item_id": items[1]})
    secret = _poll(as_user, world, items[1], "Bầu Phó Chủ tịch", {"chair": "for", "secretary": "for",
                                                                    "delegate": "abstain"}, secret=True)
    _status(as_user, world, "adjourned")
    _status(as_user, world, "closed")      # item 3 was never taken up
    for t in (chair, secretary, delegate):
        t.sio.disconnect()
    m = _ok(sec.post(f"/api/v1/meetings/{mid}/minutes", json={}), 201)
    fin = _ok(sec.post(f"/api/v1/minutes/{m['id']}/finalize"))
    pdf = sec.get(f"/api/v1/minutes/{m['id']}/file").data
    return {"text": " ".join(pdftotext(pdf).split()), "minutes": fin, "polls": (named, secret), "world": world}


def _hm(at):
    local = at.astimezone(VN)
    return local.strftime("%H:%M"), local.strftime("%d/%m/%Y")


def test_times_are_those_of_the_sitting_not_the_plan(app, held):
    text, world = held["text"], held["world"]
    with app.app_context():
        periods = sitting_periods(db.session, world.meeting.id)
        planned = world.meeting.starts_at
    assert len(periods) == 2 and all(p.ended_at for p in periods)
    start, end = _hm(periods[0].started_at), _hm(periods[-1].ended_at)
    assert f"Thời gian bắt đầu: {start[0]}, ngày {start[1]}." in text
    pause, resume = _hm(periods[0].ended_at), _hm(periods[1].started_at)
    assert f"Cuộc họp tạm dừng lúc {pause[0]}, ngày {pause[1]} và tiếp tục lúc {resume[0]}, ngày {resume[1]}." in text
    assert f"Cuộc họp kết thúc vào lúc {end[0]}, ngày {end[1]}." in text
    local = periods[0].started_at.astimezone(VN)
    assert f"Lâm Đồng, ngày {local.day:02d} tháng {local.month:02d} năm {local.year}" in text
    # The plan (tomorrow, in the world) appears nowhere.
    assert _hm(planned)[1] not in text


def test_attendance_counts_members_apart_and_states_the_quorum(app, held):
    text, world = held["text"], held["world"]
    with app.app_context():
        rows = db.session.execute(select(Attendance).where(Attendance.meeting_id == world.meeting.id)).scalars()
        status_of = {a.user_id: a.status for a in rows}
        members = [p.user_id for p in db.session.execute(select(Participant).where(
            Participant.meeting_id == world.meeting.id, Participant.can_vote.is_(True))).scalars()]
    count = {s: sum(1 for uid in members if status_of.get(uid) == s)
             for s in ("present", "remote", "excused", "absent")}
    assert (len(members), count["present"], count["excused"]) == (4, 3, 1)  # the observer is no member
    assert (f"Tổng số thành viên: {len(members)}; có mặt: {count['present']}; tham dự trực tuyến: "
            f"{count['remote']}; vắng mặt có lý do: {count['excused']}; vắng mặt: {count['absent']}.") in text
    assert "Thư ký, khách mời và cán bộ phục vụ (không tính vào số thành viên): 1." in text
    present = count["present"] + count["remote"]
    assert (f"Số thành viên dự họp: {present}/{len(members)} (tối thiểu 3); "
            "cuộc họp đủ điều kiện tiến hành theo quy định.") in text


def test_each_poll_says_its_figures_and_outcome_in_vietnamese(app, held):
    text = held["text"]
    outcome_words = {"adopted": "THÔNG QUA", "rejected": "KHÔNG THÔNG QUA"}
    base_words = {"cast": "số phiếu biểu quyết", "present": "số thành viên có mặt", "entitled": "tổng số thành viên"}
    with app.app_context():
        polls = [db.session.get(Poll, pid) for pid in held["polls"]]
        for poll in polls:
            r = poll.result
            base = r["base_count"]
            for o in r["options"]:
                share = f"{100 * o['count'] / base:.1f}".replace(".", ",") + " %"
                assert f"{o['label']} {o['count']} {share}" in text, (o, share)
            n, d, strict = r["threshold_rule"]
            threshold = f"{'quá' if strict else 'ít nhất'} {n}/{d}"
            figures = (f"Số thành viên có quyền biểu quyết: {r['entitled']}; có mặt: {r['present']}; "
                       f"số phiếu: {r['cast']}. Căn cứ tính: {base_words[r['base']]} ({base}); "
                       f"ngưỡng: {threshold}; số phiếu cần đạt: {r['required']}. "
                       f"Kết quả: {outcome_words[poll.outcome]}.")
            assert figures in text, figures
    assert [p.outcome for p in polls] == ["adopted", "adopted"]
    assert "(bỏ phiếu kín)" in text and "Danh sách biểu quyết tại Phụ lục 1." in text


def test_the_rest_of_the_record_comes_from_settings_and_register(held):
    text, m = held["text"], held["minutes"]
    assert m["number"] == "1/BB-UBND" and "Số: 1/BB-UBND" in text
    assert "Biên bản được lập thành 3 bản, có giá trị như nhau." in text
    assert all(line in text for line in RECIPIENTS)
    assert "3. Nội dung 3 Nội dung này không được thảo luận tại cuộc họp." in text
    assert "Thống nhất thông qua Đề án." in text
    assert "(chất vấn, không tán thành" in text


def _words(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_words(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_words(v) for v in value)) if value else set()
    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", value)} if isinstance(value, str) else set()


# The codes the record carries (statuses, roles, bases, outcomes, kinds) and the words of a rule's label.
CODES = {"present", "remote", "excused", "absent", "unknown", "chair", "secretary", "delegate", "observer",
         "cast", "entitled", "adopted", "rejected", "tie", "no_quorum", "void", "annulled", "speech", "question",
         "reply", "point_of_order", "for", "against", "abstain", "neutral", "more", "than", "at", "least", "none",
         "true", "false", "pending", "deferred", "open", "done", "draft", "closed", "in_progress", "adjourned"}


def test_no_english_word_in_the_vietnamese_minutes(held):
    # Every word the English minutes use, and every code of the record, is foreign to the Vietnamese ones
    # unless it came in with the data (the test world's names, "Người dùng chair", are English usernames).
    from meetings.minutes.labels import EN, VI

    world = held["world"]
    english = (_words(EN) | CODES) - _words(VI)
    data = _words(" ".join(u.full_name for u in world.users.values()))
    found = {w.lower() for w in re.findall(r"(?<!\w)[A-Za-z_]{2,}(?!\w)", held["text"])}
    assert not (found & english) - data, (found & english) - data


def test_a_second_sitting_of_the_year_takes_the_next_number(app, world, as_user, held):
    from tests.factories import build_draft_meeting, move_meeting

    with app.app_context():
        other = build_draft_meeting(db.session, world, "Phiên họp chuyên đề")
        other = move_meeting(db.session, other, world.users["secretary"], "closed")
        other_id = other.id
    sec = as_user("secretary")
    m = _ok(sec.post(f"/api/v1/meetings/{other_id}/minutes", json={}), 201)
    assert _ok(sec.post(f"/api/v1/minutes/{m['id']}/finalize"))["number"] == "2/BB-UBND"
    # A number set by hand is kept, and takes none from the register.
    with app.app_context():
        third = move_meeting(db.session, build_draft_meeting(db.session, world, "Phiên họp bất thường"),
                             world.users["secretary"], "closed")
        third_id = third.id
    m3 = _ok(sec.post(f"/api/v1/meetings/{third_id}/minutes", json={}), 201)
    _ok(sec.patch(f"/api/v1/minutes/{m3['id']}", json={"number": "27/BB-UBND"}))
    assert _ok(sec.post(f"/api/v1/minutes/{m3['id']}/finalize"))["number"] == "27/BB-UBND"
