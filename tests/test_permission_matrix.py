"""The permission matrix: every /api/v1 endpoint × every kind of caller → the expected status.

Each row is (method, path template, JSON body, expected status per caller). A
fresh world (tests/factories.py) is built for every case, so write rows can
succeed without disturbing the next case. A refused request (any 4xx) must
also change nothing: no audit entry, no meeting event.

To add your domain's endpoints: append rows to MATRIX (use ``expect``), add
any placeholder your paths need to PLACEHOLDERS, and remove your blueprint
from NOT_YET_COVERED. ``test_every_api_route_has_a_row`` fails for any route
without a row.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from meetings.agenda.models import Participant
from meetings.audit.models import AuditEntry
from meetings.extensions import db
from meetings.live.models import MeetingEvent
from tests.factories import PASSWORD, World, build_draft_meeting

CALLERS = ("anonymous", "outsider", "observer", "delegate", "chair", "secretary", "archivist", "admin")
SEE = ("observer", "delegate", "chair", "secretary", "archivist", "admin")  # who sees the scheduled meeting
RUN = ("chair", "secretary", "admin")          # permissions.can_run on the world's meeting
PREPARE = ("secretary", "admin")               # permissions.can_prepare on the world's meeting
SEE_DRAFT = ("chair", "secretary", "admin")    # a draft is visible only to those preparing or running it

# Blueprints whose routes have no rows yet (their authors add rows, then delete the name here).
NOT_YET_COVERED = {
    "documents",    # intake, delivery: rows come with the documents issue
    "live",         # room state, attendance, speakers
    "voting",       # polls and ballots
    "annotations",  # annotations, exports, read receipts
    "minutes",      # compose, sign, verify
    "archive",      # search, archival packages
}
# Routes that need no authentication at all.
PUBLIC_ENDPOINTS = {"api-docs.openapi_json"}


def expect(default: int, *, anonymous: int = 401, **by_caller: int) -> dict[str, int]:
    """Expected status per caller: ``default`` unless named (``anonymous`` is 401 unless named)."""
    unknown = set(by_caller) - set(CALLERS)
    assert not unknown, unknown
    return {c: by_caller.get(c, anonymous if c == "anonymous" else default) for c in CALLERS}


def only(ok: int, allowed: tuple[str, ...], *, seen_by: tuple[str, ...] = SEE) -> dict[str, int]:
    """``ok`` for ``allowed``; 403 for those who see the meeting but may not; 404 for the rest."""
    return expect(404, **{c: ok if c in allowed else 403 for c in seen_by})


@dataclass(frozen=True)
class Row:
    method: str
    path: str                       # "{name}" parts are filled from PLACEHOLDERS
    body: dict | None
    expected: dict[str, int]
    note: str = ""                  # tells apart two rows of one route

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.note})" if self.note else "")


def _participant_id(world: World, name: str) -> int:
    return db.session.execute(select(Participant.id).where(
        Participant.meeting_id == world.meeting.id, Participant.user_id == world.users[name].id)).scalar_one()


def _draft(world: World):
    if "draft" not in world.__dict__:
        world.__dict__["draft"] = build_draft_meeting(db.session, world)
    return world.__dict__["draft"]


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
    "draft_meeting_id": lambda w: _draft(w).id,
    "draft_item_id": lambda w: _draft(w).items[0].id,
}

MATRIX: list[Row] = [
    # ---------------------------------------------------------------- accounts
    Row("POST", "/auth/token", {"username": "delegate", "password": PASSWORD}, expect(201, anonymous=201)),
    Row("DELETE", "/auth/token", None, expect(204)),
    Row("GET", "/users/me", None, expect(200)),
    Row("GET", "/users", None, expect(200)),
    Row("POST", "/users", {"username": "moi", "password": "pass1234", "full_name": "Người mới"},
        expect(403, admin=201)),
    Row("GET", "/users/{user_id}", None, expect(200)),
    Row("PATCH", "/users/{user_id}", {"full_name": "Trần Thị Đổi Tên"}, expect(403, delegate=200, admin=200)),
    # ---------------------------------------------------------------- bodies
    Row("GET", "/bodies", None, expect(200)),
    Row("POST", "/bodies", {"name": "Ban Pháp chế"}, expect(403, admin=201)),
    Row("GET", "/bodies/{body_id}", None, expect(200)),
    Row("PATCH", "/bodies/{body_id}", {"description": "Nhiệm kỳ mới"}, expect(403, admin=200)),
    Row("GET", "/bodies/{body_id}/members", None, expect(200)),
    Row("POST", "/bodies/{body_id}/members", {"user_id": "{outsider_id}"}, expect(403, admin=201)),
    Row("DELETE", "/bodies/{body_id}/members/{member_user_id}", None, expect(403, admin=204)),
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
    return (db.session.execute(select(func.count(AuditEntry.id))).scalar_one(),
            db.session.execute(select(func.count(MeetingEvent.id))).scalar_one())


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
def test_permission(row: Row, caller: str, as_user, world):
    path = "/api/v1" + _fill(row.path, world)
    body = _fill(row.body, world)
    client = as_user(None if caller == "anonymous" else caller)  # issues the token before counting
    before = _counts()
    response = client.open(path, method=row.method, json=body)
    expected = row.expected[caller]
    assert response.status_code == expected, f"{caller} {row.id}: {response.get_data(as_text=True)[:300]}"
    if expected >= 400:
        assert response.json["error"]["code"], response.json
        assert _counts() == before, "a refused request changed something"


def test_every_row_names_a_route_and_every_caller(app):
    adapter = app.url_map.bind("localhost")
    for row in MATRIX:
        assert set(row.expected) == set(CALLERS), row.id
        path = "/api/v1" + row.path.format_map({k: 1 for k in PLACEHOLDERS})
        adapter.match(path, method=row.method)  # raises NotFound / MethodNotAllowed on a typo


def test_every_api_route_has_a_row(app):
    adapter = app.url_map.bind("localhost")
    covered = set()
    for row in MATRIX:
        path = "/api/v1" + row.path.format_map({k: 1 for k in PLACEHOLDERS})
        endpoint, _ = adapter.match(path, method=row.method)
        covered.add((endpoint, row.method))
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.endpoint.split(".", 1)[0] in NOT_YET_COVERED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the permission matrix:\n" + "\n".join(missing)


def test_openapi_document_needs_no_login(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.json["openapi"].startswith("3.")
