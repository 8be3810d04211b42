"""The permission matrix: every route (REST and page) × every kind of caller → the expected status.

Each row is (method, path template, body, expected status per caller).
``test_every_route_has_a_row`` walks ``app.url_map`` and fails for any route
without a row, so a new route cannot ship without its authorization case.

Speed: the callers of one row share a world (tests/factories.py) until one of
them changes something — after a write that succeeded the world is rebuilt
for the next caller. A refused request (any 4xx) must change nothing: no
audit entry, no meeting event; this is checked around every refused call.
Page rows (``page=True``) have no /api/v1 prefix: anonymous callers are sent
to /login (302); a page answers HTML, not JSON errors.

To add a route: append a row to MATRIX (use ``expect``/``only``), and any
placeholder its path or body needs to PLACEHOLDERS.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from meetings import create_app
from meetings.bodies.models import Meeting, Participant
from meetings.core.extensions import db
from meetings.models import Base
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests import factories
from tests.annotation_helpers import add_doc, note, pdf_with_lines
from tests.factories import PASSWORD, World, build_draft_meeting

CALLERS = ("anonymous", "outsider", "observer", "delegate", "chair", "secretary", "archivist", "admin")
SEE = ("observer", "delegate", "chair", "secretary", "archivist", "admin")  # who sees the scheduled meeting
RUN = ("chair", "secretary", "admin")          # permissions.can_run on the world's meeting
PREPARE = ("secretary", "admin")               # permissions.can_prepare on the world's meeting
SEE_DRAFT = ("chair", "secretary", "admin")    # a draft is visible only to those preparing or running it
VOTERS = ("delegate", "chair", "secretary")    # participants with can_vote
ALL = CALLERS[1:]                              # every logged-in caller
OPINION_MEMBERS = ("observer", "delegate", "chair", "secretary")  # the body's members among the callers
OPINION_SEE = (*OPINION_MEMBERS, "admin")     # who sees a sent opinion form of the world's body

# Routes that need no authentication at all (each still has a row below, all 200).
# The CA's CRL, certificate and OCSP answers are public by nature: any validator anywhere fetches them.
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "web_pages.service_worker", "pki.crl", "pki.ca_certificate",
                    "pki.ocsp_post", "pki.ocsp_get",
                    # An invitation's reply link and a calendar feed: the secret token in the URL is the credential.
                    "invitation_pages.reply_page", "invitation_pages.calendar_feed",
                    # A tablet's one-time enrolment link: its secret is the credential; the GET consumes nothing.
                    "enrolment_pages.enrol_page"}
# Routes outside the matrix: files for everyone, the health probe, the login form itself.
UNLISTED_ENDPOINTS = {"static", "vendor", "healthz", "accounts_pages.login", "api-docs.openapi_json"}


def expect(default: int, *, anonymous: int = 401, **by_caller: int) -> dict[str, int]:
    """Expected status per caller: ``default`` unless named (``anonymous`` is 401 unless named)."""
    unknown = set(by_caller) - set(CALLERS)
    assert not unknown, unknown
    return {c: by_caller.get(c, anonymous if c == "anonymous" else default) for c in CALLERS}


def only(ok: int, allowed: tuple[str, ...], *, seen_by: tuple[str, ...] = SEE, anonymous: int = 401,
         **by_caller: int) -> dict[str, int]:
    """``ok`` for ``allowed``; 403 for those who see the object but may not; 404 for the rest."""
    return expect(404, anonymous=anonymous, **{c: ok if c in allowed else 403 for c in seen_by} | by_caller)


def page(ok: int, allowed: tuple[str, ...], *, seen_by: tuple[str, ...] = SEE) -> dict[str, int]:
    """A page: anonymous → 302 to /login; otherwise as ``only``."""
    return only(ok, allowed, seen_by=seen_by, anonymous=302)


@dataclass(frozen=True)
class Row:
    method: str
    path: str                       # "{name}" parts are filled from PLACEHOLDERS
    body: dict | None
    expected: dict[str, int]
    note: str = ""                  # tells apart two rows of one route
    page: bool = False              # an HTML page (no /api/v1 prefix)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.note})" if self.note else "")

    @property
    def prefix(self) -> str:
        return "" if self.page else "/api/v1"


def _participant_id(world: World, name: str) -> int:
    return db.session.execute(select(Participant.id).where(
        Participant.meeting_id == world.meeting.id, Participant.user_id == world.users[name].id)).scalar_one()


def _once(world: World, key: str, make: Callable[[], Any]) -> Any:
    """Build a piece of the world once per world."""
    if key not in world.__dict__:
        world.__dict__[key] = make()
    return world.__dict__[key]


def _draft(world: World):
    return _once(world, "draft", lambda: build_draft_meeting(db.session, world))


def _meeting(world: World, status: str | None = None) -> Meeting:
    meeting = db.session.get(Meeting, world.meeting.id)
    if status is not None and meeting.status != status:
        meeting.status = status
        db.session.commit()
    return meeting


def _user(world: World, name: str):
    return db.session.get(type(world.users[name]), world.users[name].id)


def _document(world: World, published: bool = True) -> int:
    def make() -> int:
        doc = add_doc(db.session, world.__dict__["app"], _meeting(world), _user(world, "secretary"),
                      published=published, agenda_item_id=world.items[0].id,
                      title="Tài liệu" if published else "Tài liệu chưa phát hành")
        return doc.id
    return _once(world, f"document-{published}", make)


def _converted_document(world: World) -> int:
    """A published document converted from an Office file (an RTF: LibreOffice's quickest)."""
    def make() -> int:
        from meetings.documents.service import add_document

        doc = add_document(db.session, _meeting(world), b"{\\rtf1\\ansi To trinh}", title="Tờ trình",
                           filename="to-trinh.rtf", uploaded_by_id=_user(world, "secretary").id, published=True,
                           storage_path=world.__dict__["app"].config["STORAGE_PATH"])
        db.session.commit()
        return doc.id
    return _once(world, "converted-document", make)


def _annotation(world: World, visibility: str) -> str:
    def make() -> str:
        from meetings.annotations import service
        from meetings.documents.models import Document

        doc = db.session.get(Document, _document(world))
        ann, _ = service.create_annotation(db.session, doc, _meeting(world), _user(world, "delegate"),
                                           note(visibility=visibility))
        db.session.commit()
        return ann.id
    return _once(world, f"annotation-{visibility}", make)


def _poll(world: World, status: str) -> int:
    """A poll of the world's meeting in ``status`` (draft, open, closed, published); the meeting runs."""
    def make() -> int:
        from meetings.voting import service
        from meetings.voting.schemas import PollCreate

        meeting = _meeting(world, "in_progress")
        chair = _user(world, "chair")
        poll = service.create_poll(db.session, meeting, chair, PollCreate().load({"title": f"Biểu quyết {status}"}))
        steps = {"draft": [], "open": [service.open_poll], "closed": [service.open_poll, service.close_poll],
                 "published": [service.open_poll, service.close_poll, service.publish_poll]}[status]
        for step in steps:
            db.session.commit()
            step(db.session, poll, chair)
        db.session.commit()
        return poll.id
    return _once(world, f"poll-{status}", make)


def _for_option(world: World) -> int:
    from meetings.voting.models import Poll

    poll = db.session.get(Poll, _poll(world, "open"))
    return next(o.id for o in poll.options if o.role == "for")


def _proxy(world: World) -> int:
    def make() -> int:
        from meetings.voting import proxies

        proxy = proxies.create_proxy(db.session, _meeting(world), _user(world, "delegate"),
                                     world.users["delegate"].id, world.users["delegate2"].id)
        db.session.commit()
        return proxy.id
    return _once(world, "proxy", make)


def _minutes(world: World, status: str) -> int:
    """Minutes of the world's meeting, now closed: a draft, or finalized (unsigned)."""
    def make() -> int:
        from meetings.minutes import service

        meeting = _meeting(world, "closed")
        secretary = _user(world, "secretary")
        m = service.create_minutes(db.session, meeting, secretary)
        db.session.commit()
        if status == "finalized":
            service.finalize(db.session, m, secretary, world.__dict__["app"].config)
            db.session.commit()
        return m.id
    return _once(world, f"minutes-{status}", make)


def _device(world: World, name: str) -> str:
    """A browser session of ``name``: its device id (only its owner may sign it out)."""
    def make() -> str:
        from meetings.accounts import sessions

        _, row = sessions.start(db.session, _user(world, name), user_agent="Tablet", ip="127.0.0.1")
        db.session.commit()
        return sessions.key_of(row)
    return _once(world, f"device-{name}", make)


def _factor(world: World, name: str) -> int:
    """A confirmed authenticator app of ``name`` (tests/test_second_factor.py tests the real set-up)."""
    def make() -> int:
        from meetings.accounts.factor_models import SecondFactor
        from meetings.core.db import utcnow

        row = SecondFactor(user_id=world.users[name].id, kind="totp", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP",
                           confirmed_at=utcnow())
        db.session.add(row)
        db.session.commit()
        return row.id
    return _once(world, f"factor-{name}", make)


def _committee(world: World) -> int:
    """The world's meeting with a counting committee in its key ceremony: the chair (member 1) and delegate2."""
    def make() -> int:
        from meetings.voting import committee

        committee.elect(db.session, _meeting(world), _user(world, "secretary"),
                        [world.users["chair"].id, world.users["delegate2"].id], 2)
        db.session.commit()
        return world.meeting.id
    return _once(world, "committee", make)


def _round1(world: World, part: str) -> Any:
    """A part of a valid round-1 message of member 1 (the chair) of that committee."""
    def make() -> dict:
        from meetings.voting import committee, elgamal_dkg

        row = committee.current_committee(db.session, _committee(world))
        return elgamal_dkg.CommitteeMemberDevice(row.uid, 1, 2, 2).round1()
    return _once(world, "round1", make)[part]


def _notification(world: World, name: str) -> int:
    """A line of ``name``'s notification list (the bell)."""
    def make() -> int:
        from meetings.notifications import inbox

        line = inbox.add(db.session, user_id=world.users[name].id, kind="reminder", title="Nhắc lịch họp",
                         url=f"/meetings/{world.meeting.id}/room", dedupe_key=f"matrix:{name}")
        db.session.commit()
        return line.id
    return _once(world, f"notification-{name}", make)


def _reply_token(world: World) -> str:
    """The secret of the delegate's invitation reply link (tests/test_invitations_replies.py tests the page)."""
    def make() -> str:
        from meetings.notifications import invitations

        with world.__dict__["app"].app_context():
            inv = invitations.ensure_invitation(db.session, _meeting(world), world.users["delegate"].id)
            db.session.commit()
            return invitations.reply_token(inv)
    return _once(world, "reply-token", make)


def _feed_token(world: World) -> str:
    """The delegate's calendar feed token."""
    def make() -> str:
        from meetings.notifications import calendar

        with world.__dict__["app"].app_context():
            url = calendar.rotate_feed(db.session, _user(world, "delegate"))
            db.session.commit()
        return url
    return _once(world, "feed-token", make)


def _notice(world: World, status: str = "draft") -> int:
    """The conclusion notice of the world's meeting, held with a conclusion on its first item and closed."""
    def make() -> int:
        from meetings.bodies import agenda
        from meetings.conclusions import service, workflow

        meeting = _meeting(world, "in_progress")
        agenda.update_item(db.session, db.session.get(type(world.items[0]), world.items[0].id),
                           _user(world, "chair"), conclusion="Giao Sở Tài chính chủ trì.")
        db.session.commit()
        meeting = _meeting(world, "closed")
        notice = service.create_notice(db.session, meeting, _user(world, "secretary"))
        db.session.commit()
        if status == "ready":
            workflow.make_ready(db.session, notice, _user(world, "secretary"), world.__dict__["app"].config)
            db.session.commit()
        return notice.id
    return _once(world, f"notice-{status}", make)


def _unit(world: World) -> int:
    """Sở Tài chính of the world's body, headed by the delegate (tests/test_units.py tests the unit routes)."""
    def make() -> int:
        from meetings.bodies import units

        admin = _user(world, "admin")
        unit = units.create_unit(db.session, db.session.get(type(world.body), world.body.id), admin,
                                 name="Sở Tài chính")
        units.set_unit_member(db.session, unit, admin, user_id=world.users["delegate"].id, is_head=True)
        db.session.commit()
        return unit.id
    return _once(world, "unit", make)


def _task(world: World, state: str = "assigned") -> int:
    """A task of that unit, given by the administrator (the office); "submitted": reported done by the delegate."""
    def make() -> int:
        from datetime import timedelta

        from meetings.core.db import utcnow
        from meetings.tasks import service

        unit_id = _unit(world)
        with world.__dict__["app"].app_context():  # the assignment's notices are written in the user's words
            task = service.create_task(db.session, db.session.get(type(world.body), world.body.id),
                                       _user(world, "admin"), title=f"Nhiệm vụ {state}", lead_unit_id=unit_id,
                                       deadline=utcnow() + timedelta(days=10))
            db.session.commit()
            if state == "submitted":
                service.submit(db.session, task, _user(world, "delegate"), text="Đã xong", storage_path="",
                               limits=None)
                db.session.commit()
            return task.id
    return _once(world, f"task-{state}", make)


def _task_extension(world: World) -> int:
    def make() -> int:
        from datetime import timedelta

        from meetings.tasks import service
        from meetings.tasks.models import Task

        task = db.session.get(Task, _task(world))
        with world.__dict__["app"].app_context():
            ext = service.request_extension(db.session, task, _user(world, "delegate"),
                                            new_deadline=task.deadline + timedelta(days=5), reason="Chờ số liệu")
            db.session.commit()
            return ext.id
    return _once(world, "task-extension", make)


def _task_file(world: World) -> int:
    def make() -> int:
        import io

        from meetings.documents.receiving import default_limits
        from meetings.tasks import files, service
        from meetings.tasks.models import Task

        task = db.session.get(Task, _task(world))
        with world.__dict__["app"].app_context():
            service.report_progress(db.session, task, _user(world, "delegate"), text="Tiến độ",
                                    uploads=[files.Upload(io.BytesIO(pdf_with_lines([["Báo cáo"]])), "bc.pdf")],
                                    storage_path=world.__dict__["app"].config["STORAGE_PATH"],
                                    limits=default_limits())
            db.session.commit()
            return task.files[0].id
    return _once(world, "task-file", make)


def _template(world: World) -> int:
    """The world's meeting saved as its body's regular template (by the administrator)."""
    def make() -> int:
        from meetings.bodies import templates

        template, _ = templates.save_template(db.session, _meeting(world), _user(world, "admin"),
                                              name="Thường kỳ", regular=True)
        db.session.commit()
        return template.id
    return _once(world, "template", make)


def _slot(world: World) -> int:
    def make() -> int:
        from meetings.bodies import slots

        slot = slots.add_slot(db.session, _meeting(world).items[0], _user(world, "secretary"), title="Tờ trình")
        db.session.commit()
        return slot.id
    return _once(world, "slot", make)


def _sub_item(world: World) -> int:
    def make() -> int:
        from meetings.bodies import agenda

        item = agenda.create_item(db.session, _meeting(world), _user(world, "secretary"), title="Tiểu mục",
                                  parent_id=world.items[0].id)
        db.session.commit()
        return item.id
    return _once(world, "sub-item", make)


def _enrolment(world: World) -> tuple[str, int]:
    """The secret and id of a tablet enrolment link the secretary issued for the delegate
    (tests/test_enrolment.py tests the page and the sheet)."""
    def make() -> tuple[str, int]:
        from meetings.accounts import enrolment

        with world.__dict__["app"].app_context():
            clear, link = enrolment.issue_link(db.session, _user(world, "delegate"), _user(world, "secretary"),
                                               context=f"meeting-{world.meeting.id}")
            db.session.commit()
            return clear, link.id
    return _once(world, "enrolment", make)


def _opinion(world: World, status: str) -> int:
    """A written opinion form of the world's body drafted by the administrator (the office: this world's body
    has no secretariat) for the body's five members, in ``status``: draft, open (with an attachment), closed,
    reported (its report composed; the administrator is its signer). tests/test_opinions.py tests the flow."""
    def make() -> int:
        from datetime import timedelta

        from meetings.core.db import utcnow
        from meetings.opinions import report, service

        app = world.__dict__["app"]
        admin = _user(world, "admin")
        with app.app_context():
            form = service.create_form(db.session, db.session.get(type(world.body), world.body.id), admin, {
                "title": f"Xin ý kiến ({status})", "closes_at": utcnow() + timedelta(days=2),
                "questions": [{"kind": "agree", "text": "Đồng ý?"}]})
            if status == "open":
                service.add_attachment(db.session, form, admin, pdf_with_lines([["Dự thảo"]]), "du-thao.pdf",
                                       app.config)
            if status != "draft":
                service.open_form(db.session, form, admin)
            if status in ("closed", "reported"):
                service.close_form(db.session, form, admin)
            if status == "reported":
                report.compose_report(db.session, form, admin, app.config)
            db.session.commit()
            return form.id
    return _once(world, f"opinion-{status}", make)


def _opinion_answers(world: World) -> list[dict]:
    from meetings.opinions.models import OpinionForm

    form = db.session.get(OpinionForm, _opinion(world, "open"))
    return [{"question_id": q.id, "choice": "agree"} for q in form.questions]


def _opinion_question(world: World) -> int:
    from meetings.opinions.models import OpinionForm

    return db.session.get(OpinionForm, _opinion(world, "draft")).questions[0].id


def _opinion_attachment(world: World) -> int:
    from meetings.opinions.models import OpinionForm

    return db.session.get(OpinionForm, _opinion(world, "open")).attachments[0].id


PDF = "{pdf}"  # a body value: sent as a multipart upload of a small PDF

# name → how to get its value from a fresh world (append yours here).
PLACEHOLDERS: dict[str, Callable[[World], Any]] = {
    "body_id": lambda w: w.body.id,
    "meeting_id": lambda w: w.meeting.id,
    "item_id": lambda w: w.items[0].id,
    "top_item_ids_reversed": lambda w: [i.id for i in reversed(w.items)],
    "participant_id": lambda w: _participant_id(w, "delegate2"),
    "user_id": lambda w: w.users["delegate"].id,
    "member_user_id": lambda w: w.users["delegate2"].id,
    "outsider_id": lambda w: w.users["outsider"].id,
    "delegate_id": lambda w: w.users["delegate"].id,
    "delegate2_id": lambda w: w.users["delegate2"].id,
    "draft_meeting_id": lambda w: _draft(w).id,
    "closed_meeting_id": lambda w: _meeting(w, "closed").id,
    "draft_item_id": lambda w: _draft(w).items[0].id,
    "document_id": lambda w: _document(w),
    "unpublished_document_id": lambda w: _document(w, published=False),
    "converted_document_id": lambda w: _converted_document(w),
    "annotation_id": lambda w: _annotation(w, "meeting"),
    "private_annotation_id": lambda w: _annotation(w, "private"),
    "draft_poll_id": lambda w: _poll(w, "draft"),
    "open_poll_id": lambda w: _poll(w, "open"),
    "closed_poll_id": lambda w: _poll(w, "closed"),
    "published_poll_id": lambda w: _poll(w, "published"),
    "for_option_id": _for_option,
    "proxy_id": _proxy,
    "draft_minutes_id": lambda w: _minutes(w, "draft"),
    "finalized_minutes_id": lambda w: _minutes(w, "finalized"),
    "pdf": lambda w: pdf_with_lines([["Tài liệu bổ sung"]]),
    "people_csv": lambda w: "Họ và tên,Tên đăng nhập,Đơn vị\nNguyễn Văn An,an.nguyen,Sở Tài chính\n".encode(),
    "delegate_device": lambda w: _device(w, "delegate"),
    "delegate_notification_id": lambda w: _notification(w, "delegate"),
    "delegate_factor_id": lambda w: _factor(w, "delegate"),
    "committee_meeting_id": _committee,
    "round1_transport_key": lambda w: _round1(w, "transport_key"),
    "round1_commitments": lambda w: _round1(w, "commitments"),
    "round1_pok": lambda w: _round1(w, "pok"),
    "reply_token": _reply_token,
    "feed_token": _feed_token,
    "enrol_secret": lambda w: _enrolment(w)[0],
    "delegate_link_id": lambda w: _enrolment(w)[1],
    "template_id": _template,
    "regular_body_id": lambda w: (_template(w), w.body.id)[1],
    "slot_id": _slot,
    "sub_item_id": _sub_item,
    "unit_id": _unit,
    "draft_notice_id": _notice,
    "ready_notice_id": lambda w: _notice(w, "ready"),
    "notice_meeting_id": lambda w: (_notice(w), w.meeting.id)[1],
    "task_id": _task,
    "submitted_task_id": lambda w: _task(w, "submitted"),
    "task_extension_id": _task_extension,
    "task_file_id": _task_file,
    "draft_opinion_id": lambda w: _opinion(w, "draft"),
    "draft_opinion_question_id": lambda w: _opinion_question(w),
    "open_opinion_id": lambda w: _opinion(w, "open"),
    "open_opinion_answers": _opinion_answers,
    "opinion_attachment_id": lambda w: _opinion_attachment(w),
    "closed_opinion_id": lambda w: _opinion(w, "closed"),
    "reported_opinion_id": lambda w: _opinion(w, "reported"),
}

_PAGE_ALL = expect(200, anonymous=302)

MATRIX: list[Row] = [
    # ---------------------------------------------------------------- accounts
    Row("POST", "/auth/token", {"username": "delegate", "password": PASSWORD}, expect(201, anonymous=201)),
    Row("DELETE", "/auth/token", None, expect(204)),
    Row("GET", "/users/me", None, expect(200)),
    # Second factor (tests/test_second_factor.py): a made-up login step is refused to everyone.
    Row("POST", "/auth/token/second-factor", {"challenge": "forged", "code": "123456"}, expect(401)),
    Row("GET", "/auth/token/second-factor/webauthn", None, expect(422, anonymous=422)),  # no challenge given
    Row("GET", "/users/me/factors", None, expect(200)),
    Row("POST", "/users/me/factors/totp", {}, expect(201)),
    Row("POST", "/users/me/factors/totp/confirm", {"code": "123456"}, expect(404)),  # none pending
    Row("GET", "/users/me/factors/webauthn/options", None, expect(200)),
    Row("POST", "/users/me/factors/webauthn", {"state": "forged", "credential": {}}, expect(422)),
    Row("POST", "/users/me/factors/recovery-codes", {"password": PASSWORD}, expect(422)),  # no factor yet
    Row("DELETE", "/users/me/factors/{delegate_factor_id}", {"password": PASSWORD}, expect(404, delegate=204)),
    Row("GET", "/users", None, expect(200)),
    Row("POST", "/users", {"username": "moi", "password": "hoa-sen-mua-ha-7", "full_name": "Người mới"},
        expect(403, admin=201)),
    # The directory: who shares no meeting with the delegate does not learn the account exists.
    Row("GET", "/users/{user_id}", None, expect(200, outsider=404, archivist=404)),
    Row("PATCH", "/users/{user_id}", {"full_name": "Trần Thị Đổi Tên"},
        expect(403, delegate=200, admin=200, outsider=404, archivist=404)),
    # Sessions (tests/test_sessions.py): one's own password, devices; signing out an account.
    Row("POST", "/users/me/password", {"current": PASSWORD, "new": "mua-thu-la-vang-9"}, expect(204)),
    Row("GET", "/users/me/devices", None, expect(200)),
    Row("DELETE", "/users/me/devices/{delegate_device}", None, expect(404, delegate=204)),
    Row("GET", "/push/key", None, expect(200)),
    Row("POST", "/me/calendar-feed", None, expect(200)),
    Row("GET", "/me/notifications", None, expect(200)),
    Row("GET", "/me/notifications/unread", None, expect(200)),
    Row("POST", "/me/notifications/{delegate_notification_id}/read", None, expect(404, delegate=200)),
    Row("POST", "/me/notifications/read-all", None, expect(200)),
    Row("GET", "/me/notification-settings", None, expect(200)),
    Row("PUT", "/me/notification-settings", {"sms": False, "quiet_from": "22:00", "quiet_until": "06:00"},
        expect(200)),
    Row("GET", "/bodies/{body_id}/notification-settings", None, expect(403, admin=200)),
    Row("PUT", "/bodies/{body_id}/notification-settings", {"reminder_offsets": [120, 30]}, expect(403, admin=200)),
    Row("GET", "/meetings/{meeting_id}/my-invitation", None,
        expect(404, observer=200, delegate=200, chair=200, secretary=200)),
    Row("PUT", "/meetings/{meeting_id}/my-invitation", {"reply": "attend"},
        expect(404, observer=200, delegate=200, chair=200, secretary=200)),
    Row("GET", "/meetings/{meeting_id}/invitations", None, only(200, RUN)),
    Row("POST", "/meetings/{meeting_id}/attendance/from-replies", None, only(200, RUN)),
    Row("POST", "/push/subscriptions",
        {"endpoint": "https://push.example.org/send/abc", "keys": {"p256dh": "BNc", "auth": "tBH"}}, expect(503)),
    Row("DELETE", "/push/subscriptions", {"endpoint": "https://push.example.org/send/abc"}, expect(204)),
    Row("POST", "/users/{user_id}/sessions/revoke", None,
        expect(403, delegate=200, admin=200, outsider=404, archivist=404)),
    # Tablet enrolment (tests/test_enrolment.py): an administrator for one account (the delegate may not enrol
    # themself), the issuer or an administrator revokes; a meeting's links are for those preparing it.
    Row("POST", "/users/{user_id}/enrolment-links", None, expect(403, admin=201, outsider=404, archivist=404)),
    Row("DELETE", "/enrolment-links/{delegate_link_id}", None, expect(404, secretary=200, admin=200)),
    Row("POST", "/meetings/{meeting_id}/enrolment-links", {}, only(201, PREPARE)),
    Row("GET", "/meetings/{meeting_id}/enrolment-links", None, only(200, PREPARE)),
    Row("DELETE", "/meetings/{meeting_id}/enrolment-links/{delegate_link_id}", None, only(200, PREPARE)),
    # ---------------------------------------------------------------- bodies
    Row("GET", "/bodies", None, expect(200)),
    Row("POST", "/bodies", {"name": "Ban Pháp chế"}, expect(403, admin=201)),
    Row("GET", "/bodies/{body_id}", None, expect(200)),
    Row("PATCH", "/bodies/{body_id}", {"description": "Nhiệm kỳ mới"}, expect(403, admin=200)),
    Row("GET", "/bodies/{body_id}/members", None, expect(200)),
    Row("POST", "/bodies/{body_id}/members", {"user_id": "{outsider_id}"}, expect(403, admin=201)),
    Row("DELETE", "/bodies/{body_id}/members/{member_user_id}", None, expect(403, admin=204)),
    # ---------------------------------------------------------------- conclusion notices
    Row("POST", "/meetings/{meeting_id}/conclusion-notice", None, only(409, PREPARE), "meeting not closed"),
    Row("GET", "/meetings/{notice_meeting_id}/conclusion-notice", None, only(200, RUN, seen_by=RUN)),
    Row("GET", "/conclusion-notices/{draft_notice_id}", None, only(200, RUN, seen_by=RUN)),
    Row("PATCH", "/conclusion-notices/{draft_notice_id}", {"subject": "Kết luận đã sửa"},
        only(200, PREPARE, seen_by=RUN)),
    Row("GET", "/conclusion-notices/{draft_notice_id}/file", None, only(200, RUN, seen_by=RUN)),
    Row("POST", "/conclusion-notices/{draft_notice_id}/ready", None, only(200, PREPARE, seen_by=RUN)),
    Row("POST", "/conclusion-notices/{draft_notice_id}/reopen", None, only(409, PREPARE, seen_by=RUN)),
    Row("POST", "/conclusion-notices/{draft_notice_id}/publish", None, only(409, PREPARE, seen_by=RUN)),
    # Only the designated signer (the chair) gets past the policy: without a key, 422 no_key.
    Row("POST", "/conclusion-notices/{ready_notice_id}/signature", {"secret": "sai-mat-khau"},
        only(422, ("chair",))),
    Row("GET", "/bodies/{body_id}/conclusion-settings", None, expect(403, admin=200)),
    Row("PATCH", "/bodies/{body_id}/conclusion-settings", {"chair_title": "Chủ tịch"}, expect(403, admin=200)),
    # ---------------------------------------------------------------- units (the body's office: admin here)
    Row("GET", "/bodies/{body_id}/units", None, expect(200)),
    Row("POST", "/bodies/{body_id}/units", {"name": "Sở Y tế"}, expect(403, admin=201)),
    Row("GET", "/units/{unit_id}", None, expect(200)),
    Row("PATCH", "/units/{unit_id}", {"name": "Sở Tài chính tỉnh"}, expect(403, admin=200)),
    Row("DELETE", "/units/{unit_id}", None, expect(403, admin=200)),
    Row("GET", "/units/{unit_id}/members", None, expect(200)),
    Row("POST", "/units/{unit_id}/members", {"user_id": "{delegate2_id}"}, expect(403, admin=201)),
    Row("DELETE", "/units/{unit_id}/members/{delegate_id}", None, expect(403, admin=204)),
    # ---------------------------------------------------------------- tasks (tests/test_tasks*.py)
    # The office (admin) assigns and decides; the chair sees the dashboard; the delegate heads the lead unit.
    Row("GET", "/bodies/{body_id}/tasks", None, expect(403, chair=200, admin=200)),
    Row("POST", "/bodies/{body_id}/tasks", {"title": "Rà soát", "deadline": "2099-01-01T00:00:00Z",
                                            "lead_unit_id": "{unit_id}"}, expect(403, admin=201)),
    Row("GET", "/bodies/{body_id}/tasks/dashboard", None, expect(403, chair=200, admin=200)),
    Row("GET", "/bodies/{body_id}/tasks/export.csv", None, expect(403, chair=200, admin=200)),
    Row("GET", "/bodies/{body_id}/tasks/report.pdf", None, expect(403, chair=200, admin=200)),
    Row("GET", "/me/tasks", None, expect(200)),
    Row("GET", "/tasks/{task_id}", None, expect(404, delegate=200, chair=200, admin=200)),
    Row("PATCH", "/tasks/{task_id}", {"priority": "high"}, expect(404, delegate=403, chair=403, admin=200)),
    Row("POST", "/tasks/{task_id}/progress", {"text": "Đang làm", "progress": 30},
        expect(404, delegate=201, chair=403, admin=403)),
    Row("POST", "/tasks/{task_id}/submit", {"text": "Đã xong"}, expect(404, delegate=200, chair=403, admin=403)),
    Row("POST", "/tasks/{submitted_task_id}/accept", {}, expect(404, delegate=403, chair=403, admin=200)),
    Row("POST", "/tasks/{submitted_task_id}/return", {"reason": "Bổ sung"},
        expect(404, delegate=403, chair=403, admin=200)),
    Row("POST", "/tasks/{task_id}/extensions", {"new_deadline": "2099-06-01T00:00:00Z", "reason": "Chờ số liệu"},
        expect(404, delegate=201, chair=403, admin=403)),
    Row("POST", "/task-extensions/{task_extension_id}/decision", {"approve": True},
        expect(404, delegate=403, chair=403, admin=200)),
    Row("GET", "/tasks/{task_id}/files/{task_file_id}", None, expect(404, delegate=200, chair=200, admin=200)),
    # ---------------------------------------------------------------- meetings
    Row("GET", "/meetings", None, expect(200)),
    Row("POST", "/meetings", {"body_id": "{body_id}", "title": "Họp mới", "starts_at": "2030-01-02T08:00:00+07:00"},
        expect(403, admin=201)),
    Row("GET", "/meetings/{meeting_id}", None, only(200, SEE)),
    Row("GET", "/meetings/{draft_meeting_id}", None, only(200, SEE_DRAFT, seen_by=SEE_DRAFT), "draft"),
    Row("PATCH", "/meetings/{meeting_id}", {"place": "Phòng 5"}, only(200, PREPARE)),
    Row("PATCH", "/meetings/{draft_meeting_id}", {"place": "Phòng 5"}, only(200, PREPARE, seen_by=SEE_DRAFT), "draft"),
    Row("POST", "/meetings/{meeting_id}/status", {"status": "in_progress"}, only(200, RUN), "start"),
    Row("POST", "/meetings/{draft_meeting_id}/status", {"status": "scheduled"},
        only(200, PREPARE, seen_by=SEE_DRAFT), "publish a draft"),
    # ---------------------------------------------------------------- participants
    Row("GET", "/meetings/{meeting_id}/participants", None, only(200, SEE)),
    Row("POST", "/meetings/{meeting_id}/participants", {"user_id": "{outsider_id}", "role": "observer"},
        only(201, PREPARE)),
    Row("PATCH", "/meetings/{meeting_id}/participants/{participant_id}", {"vote_weight": 2}, only(200, PREPARE)),
    Row("DELETE", "/meetings/{meeting_id}/participants/{participant_id}", None, only(204, PREPARE)),
    # Bulk import (meetings/bodies/import_views.py): a dry run, an apply, a body's list, a body into a meeting.
    Row("POST", "/meetings/{meeting_id}/participants/import", {"file": "{people_csv}"}, only(200, PREPARE)),
    Row("POST", "/meetings/{meeting_id}/participants/import", {"file": "{people_csv}", "mode": "apply"},
        only(200, PREPARE), note="apply"),
    Row("POST", "/bodies/{body_id}/members/import", {"file": "{people_csv}", "mode": "apply"},
        expect(403, admin=200)),
    Row("POST", "/meetings/{meeting_id}/participants/from-body", {}, only(200, PREPARE)),
    # ---------------------------------------------------------------- agenda items
    Row("GET", "/meetings/{meeting_id}/items", None, only(200, SEE)),
    Row("GET", "/meetings/{draft_meeting_id}/items", None, only(200, SEE_DRAFT, seen_by=SEE_DRAFT), "draft"),
    Row("POST", "/meetings/{meeting_id}/items", {"title": "Nội dung bổ sung"}, only(201, PREPARE)),
    Row("PATCH", "/items/{item_id}", {"title": "Tên mới"}, only(200, PREPARE), "prepare"),
    Row("PATCH", "/items/{item_id}", {"status": "open", "conclusion": "Thống nhất."}, only(200, RUN), "run"),
    Row("PATCH", "/items/{draft_item_id}", {"status": "open"}, only(200, RUN, seen_by=SEE_DRAFT), "draft"),
    Row("DELETE", "/items/{item_id}", None, only(204, PREPARE)),
    Row("POST", "/meetings/{meeting_id}/items/order", {"parent_id": None, "ids": "{top_item_ids_reversed}"},
        only(200, PREPARE)),
    # ---------------------------------------------------------------- documents
    Row("POST", "/meetings/{meeting_id}/documents", {"file": PDF, "title": "Tờ trình"}, only(201, PREPARE)),
    Row("POST", "/meetings/{draft_meeting_id}/documents", {"file": PDF}, only(201, PREPARE, seen_by=SEE_DRAFT),
        "draft"),
    Row("GET", "/meetings/{meeting_id}/documents", None, only(200, SEE)),
    Row("GET", "/documents/{document_id}", None, only(200, SEE)),
    Row("GET", "/documents/{unpublished_document_id}", None, only(200, RUN, seen_by=RUN), "unpublished"),
    Row("PATCH", "/documents/{document_id}", {"title": "Tên mới"}, only(200, PREPARE)),
    Row("PATCH", "/documents/{unpublished_document_id}", {"published": True},
        only(200, PREPARE, seen_by=RUN), "unpublished"),
    Row("GET", "/documents/{document_id}/versions", None, only(200, SEE)),
    Row("POST", "/documents/{document_id}/versions", {"file": PDF}, only(201, PREPARE)),
    Row("GET", "/documents/{document_id}/file", None, only(200, SEE)),
    Row("GET", "/documents/{unpublished_document_id}/file", None, only(200, RUN, seen_by=RUN), "unpublished"),
    # The upload before the disarm: only those preparing the meeting (policy.require_original).
    Row("GET", "/documents/{document_id}/original", None, only(200, PREPARE)),
    Row("GET", "/documents/{unpublished_document_id}/original", None, only(200, PREPARE, seen_by=RUN),
        "unpublished"),
    # The Office file a document was converted from: those preparing the meeting (policy.require_source).
    Row("GET", "/documents/{converted_document_id}/source", None, only(200, PREPARE)),
    # ---------------------------------------------------------------- live room
    Row("GET", "/meetings/{meeting_id}/live", None, only(200, SEE)),
    Row("GET", "/meetings/{draft_meeting_id}/live", None, only(200, SEE_DRAFT, seen_by=SEE_DRAFT), "draft"),
    Row("GET", "/meetings/{meeting_id}/events", None, only(200, SEE)),
    Row("GET", "/meetings/{meeting_id}/attendance", None, only(200, SEE)),
    Row("PUT", "/meetings/{meeting_id}/attendance/{delegate_id}", {"status": "present"}, only(200, RUN)),
    Row("PUT", "/meetings/{meeting_id}/attendance", {"all": True, "status": "present"}, only(200, RUN)),
    Row("GET", "/meetings/{meeting_id}/speakers", None, only(200, SEE)),
    # ---------------------------------------------------------------- voting
    Row("POST", "/meetings/{meeting_id}/polls", {"title": "Thông qua tờ trình"}, only(201, RUN)),
    Row("GET", "/meetings/{meeting_id}/polls", None, only(200, SEE)),
    Row("GET", "/polls/{open_poll_id}", None, only(200, SEE)),
    Row("GET", "/polls/{draft_poll_id}", None, only(200, RUN, seen_by=RUN), "draft"),
    Row("DELETE", "/polls/{draft_poll_id}", None, only(204, RUN, seen_by=RUN)),
    Row("POST", "/polls/{draft_poll_id}/open", None, only(200, RUN, seen_by=RUN)),
    Row("POST", "/polls/{open_poll_id}/close", None, only(200, RUN)),
    Row("POST", "/polls/{closed_poll_id}/publish", None, only(200, RUN)),
    Row("POST", "/polls/{closed_poll_id}/annul", {"reason": "Sai sót khi kiểm phiếu"}, only(200, RUN)),
    Row("POST", "/polls/{open_poll_id}/ballots", {"option_ids": ["{for_option_id}"]}, only(201, VOTERS)),
    Row("POST", "/polls/{draft_poll_id}/ballots", {"option_ids": [1]},
        only(409, ("chair", "secretary"), seen_by=RUN), "draft"),  # the admin has no vote: 403
    Row("GET", "/polls/{closed_poll_id}/results.json", None, only(200, RUN), "closed"),
    Row("GET", "/polls/{published_poll_id}/results.json", None, only(200, SEE), "published"),
    Row("GET", "/polls/{open_poll_id}/board", None, only(409, SEE)),  # a named poll has no bulletin board
    Row("POST", "/polls/{open_poll_id}/partial-decryption", {"shares": []}, only(409, SEE)),
    Row("GET", "/polls/{closed_poll_id}/results.csv", None, only(200, RUN), "closed"),
    Row("GET", "/polls/{published_poll_id}/results.csv", None, only(200, SEE), "published"),
    # The counting committee (tests/test_voting_committee.py runs the ceremony): the chair is member 1 of 2;
    # only the member's own device posts and reads ceremony messages (409/400: the right caller, too early).
    Row("POST", "/meetings/{meeting_id}/counting-committee",
        {"member_ids": ["{delegate_id}", "{delegate2_id}"], "threshold": 2}, only(201, RUN)),
    Row("GET", "/meetings/{committee_meeting_id}/counting-committee", None, only(200, SEE)),
    Row("POST", "/meetings/{committee_meeting_id}/counting-committee/round1",
        {"transport_key": "{round1_transport_key}", "commitments": "{round1_commitments}", "pok": "{round1_pok}"},
        only(201, ("chair",))),
    Row("GET", "/meetings/{committee_meeting_id}/counting-committee/round1", None, only(409, ("chair",))),
    Row("POST", "/meetings/{committee_meeting_id}/counting-committee/round2", {"shares": []}, only(400, ("chair",))),
    Row("GET", "/meetings/{committee_meeting_id}/counting-committee/shares", None, only(409, ("chair",))),
    Row("POST", "/meetings/{committee_meeting_id}/counting-committee/confirm", {"complaint_against": 2},
        only(409, ("chair",))),
    Row("GET", "/meetings/{meeting_id}/proxies", None, only(200, SEE)),
    Row("POST", "/meetings/{meeting_id}/proxies", {"grantor_id": "{delegate_id}", "holder_id": "{delegate2_id}"},
        only(201, ("delegate",) + RUN)),
    Row("DELETE", "/proxies/{proxy_id}", None, only(200, ("delegate",) + RUN, seen_by=("delegate",) + RUN)),
    # ---------------------------------------------------------------- annotations
    Row("GET", "/documents/{document_id}/annotations", None, only(200, SEE)),
    Row("GET", "/documents/{unpublished_document_id}/annotations", None, only(200, RUN), "unpublished"),
    Row("POST", "/documents/{document_id}/annotations", note(), only(201, SEE)),
    Row("PATCH", "/annotations/{annotation_id}", {"version": 1, "text": "Đã sửa"}, only(200, ("delegate",))),
    Row("PATCH", "/annotations/{private_annotation_id}", {"version": 1, "text": "Đã sửa"},
        only(200, ("delegate",), seen_by=("delegate",)), "private"),
    Row("DELETE", "/annotations/{annotation_id}", None, only(200, ("delegate",))),
    Row("DELETE", "/annotations/{private_annotation_id}", None,
        only(200, ("delegate",), seen_by=("delegate",)), "private"),
    Row("DELETE", "/documents/{document_id}/annotations/presenter", None, only(200, RUN)),
    Row("GET", "/documents/{document_id}/annotated", None, only(200, SEE)),
    Row("GET", "/documents/{document_id}/annotations.jsonld", None, only(200, SEE)),
    Row("GET", "/meetings/{meeting_id}/read-receipts", None, only(200, RUN)),
    # ---------------------------------------------------------------- minutes
    Row("POST", "/meetings/{meeting_id}/minutes", {}, only(201, PREPARE)),
    Row("GET", "/meetings/{meeting_id}/minutes", None, only(200, SEE)),
    Row("GET", "/minutes/{draft_minutes_id}", None, only(200, RUN, seen_by=RUN)),
    Row("PATCH", "/minutes/{draft_minutes_id}", {"number": "01/BB-UBND"}, only(200, PREPARE, seen_by=RUN)),
    Row("GET", "/minutes/{draft_minutes_id}/file", None, only(200, RUN, seen_by=RUN), "draft"),
    Row("GET", "/minutes/{finalized_minutes_id}/file", None, only(200, RUN, seen_by=RUN), "finalized"),
    Row("POST", "/minutes/{draft_minutes_id}/finalize", None, only(200, PREPARE, seen_by=RUN)),
    # Unsigned and without keys: the signers pass the permission check and meet the next rule.
    Row("POST", "/minutes/{finalized_minutes_id}/signatures", {"secret": "sai-mat-khau"},
        only(403, (), secretary=422, chair=409)),
    Row("POST", "/minutes/{finalized_minutes_id}/publish", None, only(409, PREPARE, seen_by=RUN)),
    Row("POST", "/minutes/{finalized_minutes_id}/corrections", {"reason": "Sửa tên"},
        only(409, PREPARE, seen_by=RUN)),
    Row("GET", "/minutes/{finalized_minutes_id}/verification", None, only(200, RUN, seen_by=RUN)),
    Row("POST", "/verification", {"file": PDF}, expect(200)),
    Row("GET", "/minutes/{finalized_minutes_id}/validation-report", None, only(409, RUN, seen_by=RUN)),
    Row("GET", "/ca/chain", None, expect(404)),  # every logged-in caller; this world has no CA (no_ca)
    # ---------------------------------------------------------------- archive
    Row("GET", "/archive", None, expect(200)),
    # A package is of a closed meeting only (409 before), and 404 for whoever may not see the meeting.
    Row("GET", "/meetings/{meeting_id}/bundle", None, only(409, ("secretary", "archivist", "admin"))),
    Row("GET", "/meetings/{draft_meeting_id}/bundle", None, only(409, PREPARE, seen_by=SEE_DRAFT), "draft"),
    Row("GET", "/meetings/{closed_meeting_id}/bundle", None, only(200, ("secretary", "archivist", "admin")),
        "closed"),
    # ---------------------------------------------------------------- pages
    Row("GET", "/", None, _PAGE_ALL, page=True),
    Row("GET", "/meetings/new", None, _PAGE_ALL, page=True),
    Row("GET", "/archive", None, _PAGE_ALL, page=True),
    Row("GET", "/verify", None, _PAGE_ALL, page=True),
    # A form post without the CSRF token is refused before anything else.
    Row("POST", "/verify", {"file": PDF}, expect(400, anonymous=400), page=True),
    Row("POST", "/logout", None, expect(400, anonymous=400), page=True),  # CSRF: no forced logout
    Row("GET", "/devices", None, _PAGE_ALL, page=True),  # each sees their own (tests/test_device_pages.py)
    Row("POST", "/devices/{delegate_device}/sign-out", None, expect(400, anonymous=400), page=True),  # CSRF
    Row("POST", "/devices/sign-out-others", None, expect(400, anonymous=400), page=True),  # CSRF
    # The second login step: nothing pending without a password first; its forms need the CSRF token.
    Row("GET", "/login/second-factor", None, expect(302, anonymous=302), page=True),
    Row("POST", "/login/second-factor", None, expect(400, anonymous=400), page=True),
    Row("POST", "/login/second-factor/enrol", None, expect(400, anonymous=400), page=True),
    Row("GET", "/login/second-factor/webauthn", None, expect(401, anonymous=401), page=True),
    Row("POST", "/login/second-factor/webauthn", None, expect(400, anonymous=400), page=True),
    Row("GET", "/sw.js", None, expect(200, anonymous=200), page=True),
    Row("GET", "/meetings/{meeting_id}", None, page(200, SEE), page=True),
    Row("GET", "/meetings/{draft_meeting_id}", None, page(200, SEE_DRAFT, seen_by=SEE_DRAFT), "draft", page=True),
    Row("GET", "/meetings/{meeting_id}/room", None, page(200, SEE), page=True),
    Row("GET", "/meetings/{draft_meeting_id}/room", None, page(200, SEE_DRAFT, seen_by=SEE_DRAFT), "draft",
        page=True),
    Row("GET", "/meetings/{meeting_id}/console", None, page(200, RUN), page=True),
    Row("GET", "/meetings/{meeting_id}/prepare", None, page(200, PREPARE), page=True),
    Row("GET", "/meetings/{meeting_id}/screen", None, page(200, SEE), page=True),
    Row("GET", "/meetings/{meeting_id}/conclusions", None, page(200, SEE), page=True),
    Row("GET", "/polls/{open_poll_id}/board", None, page(409, SEE), page=True),  # a named poll has no board
    # An invitation's reply link (a GET only shows the form; the answer needs the form's CSRF token).
    Row("GET", "/invitations/{reply_token}", None, expect(200, anonymous=200), page=True),
    Row("POST", "/invitations/{reply_token}", {"reply": "attend"}, expect(400, anonymous=400), page=True),
    Row("GET", "/calendar/{feed_token}.ics", None, expect(200, anonymous=200), page=True),
    # A tablet's enrolment link: the GET only shows the button; the POST needs the page's CSRF token.
    Row("GET", "/enrol/{enrol_secret}", None, expect(200, anonymous=200), page=True),
    Row("POST", "/enrol/{enrol_secret}", None, expect(400, anonymous=400), page=True),
    Row("GET", "/meetings/{meeting_id}/tablets", None, page(200, PREPARE), page=True),
    Row("POST", "/meetings/{meeting_id}/enrolment-sheet", None, expect(400, anonymous=400), page=True),
    # The organization CA's public services (this world has no CA: nothing to publish; OCSP answers "malformed").
    Row("GET", "/pki/ca.crl", None, expect(404, anonymous=404), page=True),
    Row("GET", "/pki/ca.pem", None, expect(404, anonymous=404), page=True),
    Row("POST", "/pki/ocsp", None, expect(200, anonymous=200), page=True),
    Row("GET", "/pki/ocsp/AAAA", None, expect(200, anonymous=200), page=True),
    # Follow-up tasks: "Việc của tôi" for everyone, a task for who sees it, the dashboard for the chair and office.
    Row("GET", "/tasks", None, _PAGE_ALL, page=True),
    Row("GET", "/tasks/{task_id}", None, expect(404, anonymous=302, delegate=200, chair=200, admin=200), page=True),
    Row("GET", "/bodies/{body_id}/tasks", None, expect(403, anonymous=302, chair=200, admin=200), page=True),
    # The units page: whoever may change the body's units (units.can_manage_units; this world's office is the admin).
    Row("GET", "/bodies/{body_id}/units", None, expect(403, anonymous=302, admin=200), page=True),
    # ---------------------------------------------------------------- meeting copies, templates, regular sittings
    # (creating a meeting of the body: an administrator or the body's secretariat; this world's body has none)
    Row("POST", "/meetings/{meeting_id}/copy", {"starts_at": "2030-02-05T08:00:00+07:00"}, only(201, ("admin",))),
    Row("POST", "/meetings/{meeting_id}/template", {"name": "Thường kỳ"}, only(201, ("admin",))),
    Row("GET", "/bodies/{body_id}/templates", None, only(200, ("admin",), seen_by=ALL)),
    Row("GET", "/templates/{template_id}", None, only(200, ("admin",), seen_by=ALL)),
    Row("PATCH", "/templates/{template_id}", {"name": "Mẫu mới"}, only(200, ("admin",), seen_by=ALL)),
    Row("DELETE", "/templates/{template_id}", None, only(204, ("admin",), seen_by=ALL)),
    Row("POST", "/templates/{template_id}/meetings", {"starts_at": "2030-02-05T08:00:00+07:00"},
        only(201, ("admin",), seen_by=ALL)),
    Row("GET", "/bodies/{regular_body_id}/regular-sittings/next", None, only(200, ("admin",), seen_by=ALL)),
    Row("POST", "/bodies/{regular_body_id}/regular-sittings", {}, only(201, ("admin",), seen_by=ALL)),
    # ---------------------------------------------------------------- document slots, agenda moves
    Row("GET", "/meetings/{meeting_id}/slots", None, only(200, RUN)),
    Row("POST", "/items/{item_id}/slots", {"title": "Tờ trình"}, only(201, PREPARE)),
    Row("PATCH", "/slots/{slot_id}", {"title": "Tờ trình số 2"}, only(200, PREPARE)),
    Row("DELETE", "/slots/{slot_id}", None, only(204, PREPARE)),
    Row("POST", "/items/{sub_item_id}/move", {"parent_id": "{item_id}", "position": 0}, only(200, PREPARE)),
    # ---------------------------------------------------------------- written opinions (tests/test_opinions.py)
    # The office is the administrator (this world's body has no secretariat); the forms go to the body's members.
    Row("GET", "/opinion-forms", None, expect(200)),
    Row("POST", "/bodies/{body_id}/opinion-forms", {"title": "Xin ý kiến"}, only(201, ("admin",), seen_by=OPINION_SEE)),
    Row("GET", "/opinion-forms/{draft_opinion_id}", None, only(200, ("admin",), seen_by=("admin",)), "draft"),
    Row("GET", "/opinion-forms/{open_opinion_id}", None, only(200, OPINION_SEE, seen_by=OPINION_SEE), "open"),
    Row("PATCH", "/opinion-forms/{draft_opinion_id}", {"title": "Xin ý kiến khác"},
        only(200, ("admin",), seen_by=("admin",))),
    Row("DELETE", "/opinion-forms/{draft_opinion_id}", None, only(204, ("admin",), seen_by=("admin",))),
    Row("POST", "/opinion-forms/{draft_opinion_id}/questions", {"kind": "agree", "text": "Đồng ý?"},
        only(201, ("admin",), seen_by=("admin",))),
    Row("DELETE", "/opinion-forms/{draft_opinion_id}/questions/{draft_opinion_question_id}", None,
        only(204, ("admin",), seen_by=("admin",))),
    Row("POST", "/opinion-forms/{draft_opinion_id}/attachments", {"file": PDF},
        only(201, ("admin",), seen_by=("admin",))),
    Row("GET", "/opinion-forms/{open_opinion_id}/attachments/{opinion_attachment_id}", None,
        only(200, OPINION_SEE, seen_by=OPINION_SEE)),
    Row("POST", "/opinion-forms/{draft_opinion_id}/open", None, only(200, ("admin",), seen_by=("admin",))),
    Row("POST", "/opinion-forms/{open_opinion_id}/close", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    # Recipients answer; the office (not a recipient) may not.
    Row("PUT", "/opinion-forms/{open_opinion_id}/answer", {"answers": "{open_opinion_answers}"},
        only(200, OPINION_MEMBERS, seen_by=OPINION_SEE)),
    Row("GET", "/opinion-forms/{open_opinion_id}/answers", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    # Nobody has signed an answer yet: the member themself and the office learn there is none (404).
    Row("GET", "/opinion-forms/{open_opinion_id}/answers/{delegate_id}/paper", None,
        only(404, ("admin", "delegate"), seen_by=OPINION_SEE)),
    Row("GET", "/opinion-forms/{open_opinion_id}/tally", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    Row("POST", "/opinion-forms/{closed_opinion_id}/report", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    Row("GET", "/opinion-forms/{reported_opinion_id}/report", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    # The administrator is the report's signer but has no key in this world: 422 no_key.
    Row("POST", "/opinion-forms/{reported_opinion_id}/report/sign", {"secret": "x"},
        only(422, ("admin",), seen_by=OPINION_SEE)),
    Row("POST", "/opinion-forms/{reported_opinion_id}/report/publish", None,
        only(409, ("admin",), seen_by=OPINION_SEE)),  # not signed yet
    Row("GET", "/opinion-forms/{open_opinion_id}/bundle", None, only(200, ("admin",), seen_by=OPINION_SEE)),
    Row("GET", "/opinions", None, _PAGE_ALL, page=True),
    Row("GET", "/opinions/{open_opinion_id}", None, page(200, OPINION_SEE, seen_by=OPINION_SEE), page=True),
    Row("POST", "/opinions/{open_opinion_id}", None, expect(400, anonymous=400), page=True),  # CSRF
]


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in PLACEHOLDERS:
            return PLACEHOLDERS[value[1:-1]](world)
        return value.format_map(_Lazy(world)) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


class _Lazy(dict):
    """format_map source that builds only the placeholders a path uses."""

    def __init__(self, world: World):
        super().__init__()
        self.world = world

    def __missing__(self, key: str) -> Any:
        return PLACEHOLDERS[key](self.world)


def _counts() -> tuple[int, int]:
    db.session.remove()
    try:
        return (db.session.execute(select(func.count(AuditEntry.id))).scalar_one(),
                db.session.execute(select(func.count(MeetingEvent.id))).scalar_one())
    finally:
        # No transaction left open: on PostgreSQL its share locks made the next world's TRUNCATE
        # wait for ever (seen in CI: the matrix hung 30 minutes after a write succeeded).
        db.session.remove()


def _send(client, row: Row, path: str, body: Any):
    if isinstance(body, dict) and isinstance(body.get("file"), bytes):
        data = {**body, "file": (io.BytesIO(body["file"]), "tai-lieu.pdf")}
        return client.open(path, method=row.method, data=data, content_type="multipart/form-data")
    return client.open(path, method=row.method, json=body)


@pytest.fixture(scope="module")
def matrix_app(database_url, tmp_path_factory):
    """One application for the whole matrix (conftest's ``app`` truncates every table per test, which
    costs ~0.35 s on PostgreSQL; the matrix resets with DELETE instead, see ``_new_world``)."""
    tmp = tmp_path_factory.mktemp("matrix")
    application = create_app({
        "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp / "instance"), "STORAGE_PATH": str(tmp / "storage"),
        "SECRET_KEY": "test-secret", "TESTING": True, "LOGIN_RATE_LIMIT": "100000 per minute",
    })
    yield application
    db.session.remove()
    db.engine.dispose()


def _new_world(app) -> World:
    """An emptied database (DELETE, no TRUNCATE: ids need not restart) with a fresh world."""
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    world = factories.build_world(db.session)
    world.__dict__["app"] = app
    return world


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
def test_permission(row: Row, matrix_app):
    """Every caller in turn; the world is rebuilt after a caller's write succeeded."""
    failures: list[str] = []
    world = None
    for caller in CALLERS:
        if world is None:
            world = _new_world(matrix_app)
            clients = factories.TokenClients(matrix_app, world)
            path = row.prefix + _fill(row.path, world)
            body = _fill(row.body, world)
        client = clients(None if caller == "anonymous" else caller)  # issues the token before counting
        before = _counts()
        response = _send(client, row, path, body)
        expected = row.expected[caller]
        if response.status_code != expected:
            failures.append(f"{caller}: {response.status_code} ≠ {expected}: {response.get_data(as_text=True)[:200]}")
        elif expected >= 400:
            if not row.page and not response.json["error"]["code"]:
                failures.append(f"{caller}: a refusal without an error code")
            if _counts() != before:
                failures.append(f"{caller}: a refused request changed something")
        elif row.method not in ("GET", "HEAD"):
            world = None  # a write succeeded: the next caller gets a fresh world
    assert not failures, f"{row.id}\n" + "\n".join(failures)


def _covered(app) -> set[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    covered = set()
    for row in MATRIX:
        assert set(row.expected) == set(CALLERS), row.id
        path = row.prefix + row.path.format_map({k: 1 for k in PLACEHOLDERS})
        endpoint, _ = adapter.match(path, method=row.method)  # raises NotFound / MethodNotAllowed on a typo
        covered.add((endpoint, row.method))
    return covered


def test_every_row_names_a_route_and_every_caller(app):
    assert _covered(app)


def test_every_route_has_a_row(app):
    """Every rule of the url_map (pages too), every method: a route without a row fails here."""
    covered = _covered(app)
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNLISTED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the permission matrix:\n" + "\n".join(missing)


def test_only_the_listed_routes_are_public(app):
    """An anonymous caller is refused everywhere except the public routes."""
    for row in MATRIX:
        endpoint, _ = app.url_map.bind("localhost").match(
            row.prefix + row.path.format_map({k: 1 for k in PLACEHOLDERS}), method=row.method)
        if row.expected["anonymous"] < 300 and endpoint not in PUBLIC_ENDPOINTS:
            assert row.id == "POST /auth/token", f"{row.id} answers anonymous callers"


def test_openapi_document_needs_no_login(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.json["openapi"].startswith("3.")
