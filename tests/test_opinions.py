"""Written opinions through the public API: a form to twelve members, answers, reminders, the tally,
the signed report, the bundle, and who is refused. (The report's PDF itself: test_opinions_report.py.)"""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from meetings.core.extensions import db
from meetings.opinions import answering, service
from meetings.opinions.models import OpinionAnswer, OpinionForm
from meetings.platform import jobs
from meetings.platform.audit.models import AuditEntry
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.minutes_support import CHAIR_PASS, pki  # noqa: F401  (fixture)
from tests.notification_helpers import deliver, note_app, outbox_rows, tick  # noqa: F401  (fixtures)
from tests.opinion_helpers import EXTRA, MEMBER_PASS, agree_and_choose, body12, form_body, opinion_keys  # noqa: F401


def _create(as_user, world, **over) -> dict:
    r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/opinion-forms", json=form_body(world, **over))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _open(as_user, form_id: int) -> dict:
    r = as_user("secretary").post(f"/api/v1/opinion-forms/{form_id}/open")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _answer(as_user, name: str, form: dict, **kw):
    secret = kw.pop("secret", None)
    body = {"answers": agree_and_choose(form, **kw)}
    if secret:
        body["secret"] = secret
    return as_user(name).put(f"/api/v1/opinion-forms/{form['id']}/answer", json=body)


def _counts(form_id: int) -> tuple[int, int]:
    db.session.rollback()
    answers = db.session.scalar(select(func.count()).select_from(OpinionAnswer).where(OpinionAnswer.form_id == form_id))
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return answers, entries


def _move_clock(monkeypatch, to: datetime) -> None:
    monkeypatch.setattr(answering, "utcnow", lambda: to)


def test_form_to_twelve_members_answers_tally_report(app, as_user, opinion_keys, monkeypatch):  # noqa: F811
    world = opinion_keys
    form = _create(as_user, world)
    assert form["status"] == "draft" and len(form["recipient_ids"]) == 12
    form = _open(as_user, form["id"])
    assert form["status"] == "open"
    # Each recipient is told by e-mail (and in the app) that the form waits for them.
    assert len(outbox_rows(kind="opinion.opened", channel="email")) == 12

    voters = ["secretary", "chair", "delegate", "delegate2", "observer", *EXTRA[:6]]  # eleven answer in time
    for name in voters:
        signed = name == "delegate"
        r = _answer(as_user, name, form, choice="disagree" if name in ("observer", "member1") else "agree",
                    options=["o1", "o2"] if name.startswith("member") else ["o3"],
                    secret=MEMBER_PASS if signed else None)
        assert r.status_code == 200, (name, r.get_json())
        assert r.get_json()["signed"] is signed
    # One member changes their answer before the deadline: the row stays, its revision grows.
    r = _answer(as_user, "delegate2", form, choice="other", comment="Đề nghị bổ sung điều khoản chuyển tiếp.")
    assert r.status_code == 200 and r.get_json()["revision"] == 2

    live = as_user("secretary").get(f"/api/v1/opinion-forms/{form['id']}/tally").get_json()
    assert (live["recipients"], live["answered"], live["not_answered"]) == (12, 11, [world.member7.id])
    q1, q2 = live["questions"]
    counts = {o["id"]: o["count"] for o in q1["options"]}
    assert counts == {"agree": 8, "disagree": 2, "other": 1}
    # Base "entitled": more than half of the 12 recipients, so 7 are needed; 8 agree.
    assert (q1["base"], q1["base_count"], q1["required"], q1["outcome"]) == ("entitled", 12, 7, "adopted")
    assert q1["comments"] == [{"user_id": world.delegate2.id, "comment": "Đề nghị bổ sung điều khoản chuyển tiếp."}]
    # delegate2's changed answer chose o1 instead of o3: o1 now reaches the 7 of 12 needed.
    assert {o["id"]: o["count"] for o in q2["options"]} == {"o1": 7, "o2": 6, "o3": 4}
    assert [o["passed"] for o in q2["options"]] == [True, False, False]
    assert live["signed"] == [world.delegate.id]

    # The twelfth answers after the deadline: 409, nothing stored, nothing audited.
    closes = datetime.fromisoformat(form["closes_at"])
    as_user.token("member7")  # issuing a token is audited: before counting
    before = _counts(form["id"])
    _move_clock(monkeypatch, closes + timedelta(seconds=1))
    r = _answer(as_user, "member7", form)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "deadline_passed"
    assert _counts(form["id"]) == before
    # A changed answer after the deadline is refused the same way.
    assert _answer(as_user, "delegate2", form).status_code == 409

    # The deadline job closes the form and stores the tally with every figure it used.
    with app.app_context(), jobs.unit_of_work() as session:
        assert service.close_due(session, closes + timedelta(minutes=1)) == 1
    got = as_user("secretary").get(f"/api/v1/opinion-forms/{form['id']}").get_json()
    assert got["status"] == "closed"
    stored = as_user("secretary").get(f"/api/v1/opinion-forms/{form['id']}/tally").get_json()
    assert stored["questions"][0]["required"] == 7 and stored["answered"] == 11

    # The report: composed by the office, signed by the chair, published to the recipients.
    r = as_user("secretary").post(f"/api/v1/opinion-forms/{form['id']}/report")
    assert r.status_code == 200 and r.get_json()["report_state"] == "composed"
    assert as_user("secretary").post(f"/api/v1/opinion-forms/{form['id']}/report/sign",
                                     json={"secret": CHAIR_PASS}).status_code == 403  # not the signer
    r = as_user("chair").post(f"/api/v1/opinion-forms/{form['id']}/report/sign", json={"secret": "sai"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "wrong_passphrase"
    r = as_user("chair").post(f"/api/v1/opinion-forms/{form['id']}/report/sign", json={"secret": CHAIR_PASS})
    assert r.status_code == 200 and r.get_json()["report_state"] == "signed", r.get_json()
    # Before publishing, a recipient does not see the answers nor the report.
    assert as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}/report").status_code == 403
    r = as_user("secretary").post(f"/api/v1/opinion-forms/{form['id']}/report/publish")
    assert r.status_code == 200 and r.get_json()["report_state"] == "published"
    assert len(outbox_rows(kind="opinion.published", channel="email")) == 12
    pdf = as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}/report")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")

    # The result becomes a follow-up task of a member.
    r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/tasks", json={
        "title": "Hoàn thiện dự thảo Quy chế theo ý kiến thành viên", "assignee_id": world.member1.id,
        "deadline": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "source": {"kind": "opinion", "id": form["id"]}})
    assert r.status_code == 201, r.get_json()

    # The archive: the form, the answers (JSON, CSV, the signed paper), the report, the audit log, the tasks.
    r = as_user("secretary").get(f"/api/v1/opinion-forms/{form['id']}/bundle")
    assert r.status_code == 200
    bag = zipfile.ZipFile(io.BytesIO(r.data))
    names = set(bag.namelist())
    root = f"opinion-form-{form['id']}"
    for part in ("bagit.txt", "manifest-sha256.txt", "data/form.json", "data/answers.json", "data/answers.csv",
                 f"data/answers/{world.delegate.id}.pdf", "data/report/bao-cao-y-kien.pdf", "data/audit-log.jsonl",
                 "data/trust/ca-chain.pem", "data/tasks/tasks.json", "data/tasks/tasks.csv"):
        assert f"{root}/{part}" in names, part
    import json

    kept = json.loads(bag.read(f"{root}/data/tasks/tasks.json"))
    assert [t["title"] for t in kept["tasks"]] == ["Hoàn thiện dự thảo Quy chế theo ý kiến thành viên"]
    assert "data/tasks/tasks.json" in bag.read(f"{root}/manifest-sha256.txt").decode()
    # A recipient's bag holds the tasks the task rules show them: the assignee's has it, another's none.
    for name, has_tasks in (("member1", True), ("delegate", False)):
        r = as_user(name).get(f"/api/v1/opinion-forms/{form['id']}/bundle")
        assert r.status_code == 200, (name, r.get_json())
        names = set(zipfile.ZipFile(io.BytesIO(r.data)).namelist())
        assert (f"{root}/data/tasks/tasks.json" in names) is has_tasks, name
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "opinion_form", AuditEntry.object_id == form["id"]).order_by(AuditEntry.id))]
    assert actions[:2] == ["opinion_form.created", "opinion_form.opened"]
    assert actions.count("opinion_answer.submitted") == 11 and actions.count("opinion_answer.changed") == 1
    assert actions[-4:] == ["opinion_form.closed", "opinion_form.report_composed", "opinion_form.report_signed",
                            "opinion_form.report_published"]


def test_reminders_before_the_deadline_reach_who_has_not_answered(note_app, body12, as_user, mail_server):  # noqa: F811
    """A day before the deadline (a movable clock), those without an answer are reminded; one e-mail is
    received by the real SMTP server; a second tick sends nothing again."""
    world = body12
    app = note_app
    closes = datetime(2030, 3, 5, 3, 0, tzinfo=UTC)
    with app.app_context(), jobs.unit_of_work() as session:
        from meetings.accounts.models import User
        from meetings.bodies.models import Body

        office = session.get(User, world.secretary.id)
        form = service.create_form(session, session.get(Body, world.body.id), office, {
            **form_body(world), "closes_at": closes,
            "recipient_ids": [world.chair.id, world.delegate.id, world.member1.id]})
        service.open_form(session, form, office, now=closes - timedelta(days=3))
        form_id = form.id
        # The chair answers at once (through the service, at the clock of the test).
        answering_now = closes - timedelta(days=2)
        saved = answering.utcnow
        answering.utcnow = lambda: answering_now
        try:
            f = session.get(OpinionForm, form_id)
            q1, q2 = f.questions
            answering.submit_answer(session, f, session.get(User, world.chair.id),
                                    [{"question_id": q1.id, "choice": "agree"},
                                     {"question_id": q2.id, "options": ["o2"]}], app.config)
        finally:
            answering.utcnow = saved
    mail_server.clear()
    assert tick(app, closes - timedelta(days=1, minutes=1))["deadline.opinion"] == 0  # not yet
    sent = tick(app, closes - timedelta(days=1) + timedelta(minutes=1))
    assert sent["deadline.opinion"] == 2  # the delegate and member1; the chair answered
    reminders = outbox_rows(kind="deadline.opinion", channel="email")
    assert sorted(m.address for m in reminders) == ["delegate@meetings.test", "member1@meetings.test"]
    assert tick(app, closes - timedelta(days=1) + timedelta(minutes=2))["deadline.opinion"] == 0  # once
    deliver(app)  # the opening notices and these reminders, through the real SMTP server
    assert mail_server.wait_for(5)
    message = next(m for m in mail_server.messages
                   if m["To"].addresses[0].username == "delegate" and "Sắp hết hạn góp ý" in m["Subject"])
    text = message.get_body(("plain",)).get_content()
    assert f"/opinions/{form_id}" in text and "chưa trả lời" in text
    # Two hours before, the second reminder; then the deadline job closes it.
    assert tick(app, closes - timedelta(minutes=119))["deadline.opinion"] == 2
    with app.app_context(), jobs.unit_of_work() as session:
        from meetings.opinions.reminders import close_due

        assert close_due(session, now=closes - timedelta(seconds=1)) == 0
        assert close_due(session, now=closes) == 1
        assert session.get(OpinionForm, form_id).status == "closed"


def test_the_secretariat_sees_the_tally_live(app, body12, as_user):  # noqa: F811
    from meetings.core.extensions import socketio

    world = body12
    form = _open(as_user, _create(as_user, world)["id"])
    office = socketio.test_client(app, auth={"token": as_user.token("secretary")})
    member = socketio.test_client(app, auth={"token": as_user.token("delegate2")})
    office.get_received(), member.get_received()
    assert _answer(as_user, "delegate", form).status_code == 200
    live = [m["args"][0] for m in office.get_received() if m["name"] == "opinion.tally"]
    assert live and live[-1]["answered"] == 1 and live[-1]["questions"][0]["counts"]["agree"] == 1
    assert not [m for m in member.get_received() if m["name"] == "opinion.tally"]  # members do not see it
    office.disconnect(), member.disconnect()


def test_who_is_refused(app, body12, as_user):  # noqa: F811
    world = body12
    # Only the office drafts: a member is told so (403), a stranger learns nothing (404).
    assert as_user("delegate").post(f"/api/v1/bodies/{world.body.id}/opinion-forms",
                                    json=form_body(world)).status_code == 403
    assert as_user("other").post(f"/api/v1/bodies/{world.body.id}/opinion-forms",
                                 json=form_body(world)).status_code == 404
    chosen = [world.users[n].id for n in ("chair", "delegate", "member1")]
    form = _create(as_user, world, recipient_ids=chosen)
    assert as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}").status_code == 404  # a draft
    form = _open(as_user, form["id"])
    entries = {"answers": agree_and_choose(form)}
    # A member of another body: 404 for everything.
    for method, path in (("get", ""), ("put", "/answer"), ("get", "/tally"), ("get", "/bundle")):
        r = getattr(as_user("other"), method)(f"/api/v1/opinion-forms/{form['id']}{path}", json=entries)
        assert r.status_code == 404, path
    # A delegate of the body who was not asked sees nothing either; a recipient sees but may not manage.
    assert as_user("delegate2").put(f"/api/v1/opinion-forms/{form['id']}/answer", json=entries).status_code == 404
    assert as_user("delegate").post(f"/api/v1/opinion-forms/{form['id']}/close").status_code == 403
    assert as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}/tally").status_code == 403
    assert as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}/answers").status_code == 403
    assert as_user("delegate").get(f"/api/v1/opinion-forms/{form['id']}/bundle").status_code == 403
    # The office member who is not a recipient sees everything but cannot answer (403).
    r = as_user("secretary").put(f"/api/v1/opinion-forms/{form['id']}/answer", json=entries)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_recipient"
    assert _counts(form["id"])[0] == 0


def test_bad_answers_lose_nothing(app, opinion_keys, as_user):  # noqa: F811
    world = opinion_keys
    form = _open(as_user, _create(as_user, world, require_signature=True, allow_change=False)["id"])
    q1, q2 = form["questions"]
    url = f"/api/v1/opinion-forms/{form['id']}/answer"
    me = as_user("delegate")
    bad = [
        ([{"question_id": q1["id"], "choice": "agree"}], "incomplete_answer"),
        ([{"question_id": q1["id"], "choice": "other"}, {"question_id": q2["id"], "options": ["o1"]}],
         "comment_required"),
        ([{"question_id": q1["id"], "choice": "agree"}, {"question_id": q2["id"], "options": ["o1", "o2", "o3"]}],
         "invalid_answer"),
        ([{"question_id": q1["id"], "choice": "agree"}, {"question_id": q2["id"], "options": ["o9"]}],
         "invalid_answer"),
    ]
    for answers, code in bad:
        r = me.put(url, json={"answers": answers, "secret": MEMBER_PASS})
        assert r.status_code == 422 and r.get_json()["error"]["code"] == code, (code, r.get_json())
    r = me.put(url, json={"answers": agree_and_choose(form)})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "secret_required"
    r = me.put(url, json={"answers": agree_and_choose(form), "secret": "not-my-passphrase"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "wrong_passphrase"
    # A member without a key cannot sign: told so, nothing stored.
    r = as_user("delegate2").put(url, json={"answers": agree_and_choose(form), "secret": "x"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_key"
    assert _counts(form["id"])[0] == 0
    r = me.put(url, json={"answers": agree_and_choose(form), "secret": MEMBER_PASS})
    assert r.status_code == 200 and r.get_json()["signed"]
    # This form does not allow changing an answer.
    r = me.put(url, json={"answers": agree_and_choose(form, choice="disagree"), "secret": MEMBER_PASS})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "answer_final"
    paper = me.get(f"/api/v1/opinion-forms/{form['id']}/answers/{world.delegate.id}/paper")
    assert paper.status_code == 200 and paper.data.startswith(b"%PDF-")
    assert as_user("member1").get(
        f"/api/v1/opinion-forms/{form['id']}/answers/{world.delegate.id}/paper").status_code == 403


def test_drafting_rules(app, body12, as_user):  # noqa: F811
    world = body12
    office = as_user("secretary")
    url = f"/api/v1/bodies/{world.body.id}/opinion-forms"
    for over, code in (({"questions": [{"kind": "choice", "text": "?", "options": ["A"]}]}, "invalid_question"),
                       ({"recipient_ids": [world.other.id]}, "invalid_member"),
                       ({"threshold_numerator": 2, "threshold_denominator": 1}, "invalid_threshold"),
                       ({"signer_id": world.outsider.id}, "invalid_member")):
        r = office.post(url, json=form_body(world, **over))
        assert r.status_code == 422 and r.get_json()["error"]["code"] == code, (over, r.get_json())
    form = _create(as_user, world, questions=[], closes_at=None)
    r = office.post(f"/api/v1/opinion-forms/{form['id']}/open")
    assert r.status_code == 409 and r.get_json()["error"]["details"]["missing"] == ["questions", "closes_at"]
    r = office.post(f"/api/v1/opinion-forms/{form['id']}/questions", json={"kind": "agree", "text": "Đồng ý?"})
    assert r.status_code == 201
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert office.patch(f"/api/v1/opinion-forms/{form['id']}", json={"closes_at": past}).status_code == 200
    assert office.post(f"/api/v1/opinion-forms/{form['id']}/open").status_code == 422
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    office.patch(f"/api/v1/opinion-forms/{form['id']}", json={"closes_at": later})
    assert office.post(f"/api/v1/opinion-forms/{form['id']}/open").status_code == 200
    # Sent: only the deadline moves (later), nothing else.
    r = office.patch(f"/api/v1/opinion-forms/{form['id']}", json={"title": "Khác"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_draft"
    assert office.delete(f"/api/v1/opinion-forms/{form['id']}").status_code == 409
    # The report waits for the form to close.
    r = office.post(f"/api/v1/opinion-forms/{form['id']}/report")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_closed"


@pytest.mark.parametrize("name", ["not-a-pdf.pdf"])
def test_attachments_go_through_the_intake(app, body12, as_user, name):  # noqa: F811
    from tests.annotation_helpers import pdf_with_lines

    world = body12
    form = _create(as_user, world)
    url = f"/api/v1/opinion-forms/{form['id']}/attachments"
    r = as_user("secretary").post(url, data={"file": (io.BytesIO(b"hello, not a PDF"), name)},
                                  content_type="multipart/form-data")
    assert r.status_code in (415, 422) and not db.session.scalars(select(OpinionForm)).one().attachments
    r = as_user("secretary").post(url, data={"file": (io.BytesIO(pdf_with_lines(["Dự thảo Quy chế"])), "du-thao.pdf")},
                                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    att = r.get_json()["attachments"][0]
    assert as_user("delegate").post(url, data={"file": (io.BytesIO(b"%PDF-"), "x.pdf")},
                                    content_type="multipart/form-data").status_code == 404  # a draft: not seen
    _open(as_user, form["id"])
    got = as_user("delegate").get(att["url"])
    assert got.status_code == 200 and got.data.startswith(b"%PDF-")
    assert as_user("other").get(att["url"]).status_code == 404
