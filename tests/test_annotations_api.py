"""Annotations over REST: CRUD, the privacy matrix, conflicts, replays, limits, bad input, receipts."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from meetings.annotations import rules
from meetings.annotations.models import Annotation
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.annotation_helpers import add_doc, arrow, highlight, ink, note, rect

API = "/api/v1"


@pytest.fixture
def doc(app, world):
    return add_doc(db.session, app, world.meeting, world.secretary)


def _count() -> int:
    db.session.remove()
    return db.session.execute(select(func.count()).select_from(Annotation)).scalar_one()


def _ids(resp) -> set[str]:
    assert resp.status_code == 200, resp.json
    return {a["id"] for a in resp.json["annotations"]}


def _audits(action: str) -> list[AuditEntry]:
    db.session.remove()
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def _annotation_events(meeting_id: int) -> list[MeetingEvent]:
    db.session.remove()
    return db.session.execute(select(MeetingEvent).where(
        MeetingEvent.meeting_id == meeting_id, MeetingEvent.type.like("annotation.%")
    ).order_by(MeetingEvent.seq)).scalars().all()


def test_every_kind_round_trips(as_user, doc):
    c = as_user("delegate")
    made = [ink(), highlight(), note(), rect(), arrow(page=3)]
    for body in made:
        r = c.post(f"{API}/documents/{doc.id}/annotations", json=body)
        assert r.status_code == 201, r.json
        assert r.json["id"] == body["id"] and r.json["version"] == 1 and r.json["visibility"] == "private"
    listed = c.get(f"{API}/documents/{doc.id}/annotations").json["annotations"]
    assert [a["kind"] for a in listed] == ["ink", "highlight", "note", "rect", "arrow"]
    # Untrusted text is stored exactly as given (escaping is the renderer's job).
    assert listed[2]["text"] == "Cần làm rõ nguồn vốn <script>alert(1)</script>"
    assert listed[1]["anchor"]["exact"] == "Mục tiêu tăng trưởng"
    assert listed[0]["geometry"]["strokes"][0][1] == [150.0, 520.0, 0.6]


def test_update_then_delete_leaves_a_tombstone_for_since(as_user, doc):
    c = as_user("delegate")
    body = ink()
    c.post(f"{API}/documents/{doc.id}/annotations", json=body)
    cursor = c.get(f"{API}/documents/{doc.id}/annotations").json["cursor"]
    r = c.patch(f"{API}/annotations/{body['id']}", json={"version": 1, "color": "#00FF00"})
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["color"] == "#00ff00"
    r = c.delete(f"{API}/annotations/{body['id']}")
    assert r.status_code == 200 and r.json["deleted"] is True and "geometry" not in r.json
    assert _ids(c.get(f"{API}/documents/{doc.id}/annotations")) == set()
    changes = c.get(f"{API}/documents/{doc.id}/annotations", query_string={"since": cursor}).json
    assert [(a["id"], a["deleted"]) for a in changes["annotations"]] == [(body["id"], True)]
    assert changes["cursor"] > cursor
    # Nothing after the newest cursor.
    assert c.get(f"{API}/documents/{doc.id}/annotations",
                 query_string={"since": changes["cursor"]}).json["annotations"] == []
    # An ISO time works too, and a bad cursor is a clear 422.
    iso = c.get(f"{API}/documents/{doc.id}/annotations", query_string={"since": "2000-01-01T00:00:00Z"})
    assert _ids(iso) == {body["id"]}
    bad = c.get(f"{API}/documents/{doc.id}/annotations", query_string={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_since"


def test_privacy_matrix_over_rest(as_user, world, doc):
    d1, d2 = as_user("delegate"), as_user("delegate2")
    private = ink()
    shared = note(visibility="meeting")
    chosen = rect(visibility="participants", shared_with=[world.delegate2.id])
    for body in (private, shared, chosen):
        assert d1.post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    presenter = arrow(visibility="presenter")
    assert d1.post(f"{API}/documents/{doc.id}/annotations", json=presenter).status_code == 403
    assert as_user("chair").post(f"{API}/documents/{doc.id}/annotations", json=presenter).status_code == 201
    everyone = {shared["id"], presenter["id"]}
    expected = {
        "delegate": {private["id"], shared["id"], chosen["id"], presenter["id"]},
        "delegate2": everyone | {chosen["id"]},
        "chair": everyone, "secretary": everyone, "observer": everyone, "admin": everyone, "archivist": everyone,
    }
    for name, ids in expected.items():
        assert _ids(as_user(name).get(f"{API}/documents/{doc.id}/annotations")) == ids, name
        assert _ids(as_user(name).get(f"{API}/documents/{doc.id}/annotations", query_string={"since": 0})) == ids
    assert as_user("outsider").get(f"{API}/documents/{doc.id}/annotations").status_code == 404
    # Others cannot touch (or even confirm) a private annotation.
    for name in ("delegate2", "chair", "admin"):
        c = as_user(name)
        assert c.patch(f"{API}/annotations/{private['id']}", json={"version": 1, "color": "#000000"}).status_code == 404
        assert c.delete(f"{API}/annotations/{private['id']}").status_code == 404
    # Seeing a shared annotation does not mean editing it.
    r = d2.patch(f"{API}/annotations/{shared['id']}", json={"version": 1, "text": "sửa trộm"})
    assert r.status_code == 403
    assert d2.delete(f"{API}/annotations/{shared['id']}").status_code == 403
    # Private and chosen-participant annotations never enter the meeting-wide event log.
    logged = {e.data.get("annotation", {}).get("id") for e in _annotation_events(world.meeting.id)}
    assert logged == everyone
    # Neither does any text reach the audit log.
    assert all("text" not in e.details for e in _audits("annotation.created"))


def test_narrowing_visibility_withdraws_without_content(as_user, world, doc):
    d1 = as_user("delegate")
    body = note(visibility="meeting", text="Ý kiến sẽ rút lại")
    d1.post(f"{API}/documents/{doc.id}/annotations", json=body)
    r = d1.patch(f"{API}/annotations/{body['id']}", json={"version": 1, "visibility": "private"})
    assert r.status_code == 200 and r.json["visibility"] == "private"
    types = [(e.type, e.data) for e in _annotation_events(world.meeting.id)]
    assert types[-1] == ("annotation.withdrawn", {"id": body["id"], "document_id": doc.id})
    assert body["id"] not in _ids(as_user("delegate2").get(f"{API}/documents/{doc.id}/annotations"))


def test_stale_update_is_409_with_current_state(as_user, doc):
    tablet, laptop = as_user("delegate"), as_user("delegate")
    body = ink()
    tablet.post(f"{API}/documents/{doc.id}/annotations", json=body)
    assert tablet.patch(f"{API}/annotations/{body['id']}", json={"version": 1, "color": "#111111"}).status_code == 200
    r = laptop.patch(f"{API}/annotations/{body['id']}", json={"version": 1, "color": "#222222"})
    assert r.status_code == 409 and r.json["error"]["code"] == "version_conflict"
    assert r.json["error"]["details"]["current"]["version"] == 2
    assert r.json["error"]["details"]["current"]["color"] == "#111111"
    r = laptop.delete(f"{API}/annotations/{body['id']}", query_string={"version": 1})
    assert r.status_code == 409
    listed = tablet.get(f"{API}/documents/{doc.id}/annotations").json["annotations"]
    assert [(a["version"], a["color"]) for a in listed] == [(2, "#111111")]


def test_replaying_each_change_three_times_applies_it_once(as_user, world, doc):
    c = as_user("delegate")
    body = highlight(visibility="meeting")
    codes = [c.post(f"{API}/documents/{doc.id}/annotations", json=body).status_code for _ in range(3)]
    assert codes == [201, 200, 200]
    patch = {"version": 1, "color": "#123456", "text": "Đồng ý"}
    answers = [c.patch(f"{API}/annotations/{body['id']}", json=patch) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json["version"] for a in answers} == {2}
    assert [c.delete(f"{API}/annotations/{body['id']}").status_code for _ in range(3)] == [200, 200, 200]
    assert _count() == 1
    assert [len(_audits(f"annotation.{x}")) for x in ("created", "updated", "deleted")] == [1, 1, 1]
    assert [e.type for e in _annotation_events(world.meeting.id)] == [
        "annotation.created", "annotation.updated", "annotation.deleted"]


def test_someone_elses_id_is_refused_without_leaking(as_user, doc):
    body = note(text="bí mật")
    as_user("delegate").post(f"{API}/documents/{doc.id}/annotations", json=body)
    r = as_user("delegate2").post(f"{API}/documents/{doc.id}/annotations", json={**body, "text": "khác"})
    assert r.status_code == 409 and r.json["error"]["code"] == "id_taken"
    assert "bí mật" not in r.get_data(as_text=True)
    assert _count() == 1


BAD = [
    ("kind", lambda b: {**b, "kind": "circle"}),
    ("page type", lambda b: {**b, "page": "1"}),
    ("page range", lambda b: {**b, "page": 99}),
    ("page zero", lambda b: {**b, "page": 0}),
    ("geometry type", lambda b: {**b, "geometry": [1, 2]}),
    ("no strokes", lambda b: {**b, "geometry": {"strokes": []}}),
    ("point shape", lambda b: {**b, "geometry": {"strokes": [[[1, 2, 3, 4]]]}}),
    ("point type", lambda b: {**b, "geometry": {"strokes": [[["1", 2]]]}}),
    ("pressure", lambda b: {**b, "geometry": {"strokes": [[[1, 2, 2.0]]]}}),
    ("huge coordinate", lambda b: {**b, "geometry": {"strokes": [[[1e9, 2]]]}}),
    ("width", lambda b: {**b, "geometry": {**b["geometry"], "width": 500}}),
    ("too many points", lambda b: {**b, "geometry": {"strokes": [[[1, 1]] * (rules.MAX_POINTS_PER_STROKE + 1)]}}),
    ("colour", lambda b: {**b, "color": "red"}),
    ("text too long", lambda b: {**b, "text": "x" * (rules.MAX_TEXT_CHARS + 1)}),
    ("text type", lambda b: {**b, "text": 5}),
    ("unknown field", lambda b: {**b, "owner": 1}),
    ("bad uuid", lambda b: {**b, "id": "not-a-uuid"}),
    ("visibility", lambda b: {**b, "visibility": "public"}),
    ("nobody chosen", lambda b: {**b, "visibility": "participants", "shared_with": []}),
    ("chosen outsider", lambda b: {**b, "visibility": "participants", "shared_with": [10 ** 6]}),
    ("not json object", lambda b: [b]),
]


@pytest.mark.parametrize("label,mutate", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_422_and_changes_nothing(as_user, doc, label, mutate):
    r = as_user("delegate").post(f"{API}/documents/{doc.id}/annotations", json=mutate(ink()))
    assert r.status_code == 422, (label, r.json)
    assert r.json["error"]["code"]
    assert _count() == 0


def test_bad_highlights_notes_and_patches(as_user, world, doc):
    c = as_user("delegate")
    assert c.post(f"{API}/documents/{doc.id}/annotations", json={**highlight(), "anchor": None}).status_code == 422
    assert c.post(f"{API}/documents/{doc.id}/annotations",
                  json=highlight(exact="x" * (rules.MAX_QUOTE_CHARS + 1))).status_code == 422
    assert c.post(f"{API}/documents/{doc.id}/annotations", json=note(text="   ")).status_code == 422
    # A note may hang only on a highlight the author can see.
    theirs = highlight()
    as_user("delegate2").post(f"{API}/documents/{doc.id}/annotations", json=theirs)
    r = c.post(f"{API}/documents/{doc.id}/annotations", json=note(target_id=theirs["id"]))
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_target"
    mine = highlight()
    c.post(f"{API}/documents/{doc.id}/annotations", json=mine)
    assert c.post(f"{API}/documents/{doc.id}/annotations",
                  json=note(target_id=mine["id"], text=None)).status_code == 201
    before = _count()
    r = c.patch(f"{API}/annotations/{mine['id']}", json={"color": "#000000"})
    assert r.status_code == 422  # version is required
    r = c.patch(f"{API}/annotations/{mine['id']}", json={"version": 1, "geometry": {"rects": "x"}})
    assert r.status_code == 422
    assert c.patch(f"{API}/annotations/{uuid.uuid4()}", json={"version": 1}).status_code == 404
    assert c.delete(f"{API}/annotations/{uuid.uuid4()}").status_code == 404
    assert _count() == before
    listed = {a["id"]: a for a in c.get(f"{API}/documents/{doc.id}/annotations").json["annotations"]}
    assert listed[mine["id"]]["version"] == 1


def test_cap_per_user_per_document(as_user, doc, monkeypatch):
    monkeypatch.setattr(rules, "MAX_PER_USER_PER_DOCUMENT", 3)
    c = as_user("delegate")
    for _ in range(3):
        assert c.post(f"{API}/documents/{doc.id}/annotations", json=ink()).status_code == 201
    r = c.post(f"{API}/documents/{doc.id}/annotations", json=ink())
    assert r.status_code == 422 and r.json["error"]["code"] == "annotation_limit"
    # Another user's quota is their own.
    assert as_user("delegate2").post(f"{API}/documents/{doc.id}/annotations", json=ink()).status_code == 201


def test_document_access_is_checked(app, as_user, world, doc, client):
    hidden = add_doc(db.session, app, world.meeting, world.secretary, published=False)
    assert as_user("delegate").get(f"{API}/documents/{hidden.id}/annotations").status_code == 403
    assert as_user("delegate").post(f"{API}/documents/{hidden.id}/annotations", json=ink()).status_code == 403
    assert as_user("chair").post(f"{API}/documents/{hidden.id}/annotations", json=ink()).status_code == 201
    assert as_user("delegate").get(f"{API}/documents/999999/annotations").status_code == 404
    assert as_user("outsider").post(f"{API}/documents/{doc.id}/annotations", json=ink()).status_code == 404
    assert client.get(f"{API}/documents/{doc.id}/annotations").status_code == 401
    assert client.post(f"{API}/documents/{doc.id}/annotations", json=ink()).status_code == 401
    # Archivists read but, not taking part, cannot share with the meeting.
    r = as_user("archivist").post(f"{API}/documents/{doc.id}/annotations", json=ink(visibility="meeting"))
    assert r.status_code == 403


def test_presenter_drawing_is_cleared_by_the_chair(as_user, world, doc):
    chair = as_user("chair")
    drawn = [ink(visibility="presenter"), arrow(visibility="presenter")]
    for body in drawn:
        assert chair.post(f"{API}/documents/{doc.id}/annotations", json=body).status_code == 201
    assert as_user("delegate").delete(f"{API}/documents/{doc.id}/annotations/presenter").status_code == 403
    assert as_user("delegate").delete(f"{API}/annotations/{drawn[0]['id']}").status_code == 403
    r = as_user("secretary").delete(f"{API}/documents/{doc.id}/annotations/presenter")
    assert r.status_code == 200 and r.json == {"cleared": 2}
    assert _ids(as_user("delegate").get(f"{API}/documents/{doc.id}/annotations")) == set()


def test_item_presenter_may_draw_for_everyone(app, as_user, world):
    world.items[1].presenter_id = world.delegate.id
    db.session.merge(world.items[1])
    db.session.commit()
    on_item = add_doc(db.session, app, world.meeting, world.secretary, agenda_item_id=world.items[1].id)
    r = as_user("delegate").post(f"{API}/documents/{on_item.id}/annotations", json=ink(visibility="presenter"))
    assert r.status_code == 201
    r = as_user("delegate2").post(f"{API}/documents/{on_item.id}/annotations", json=ink(visibility="presenter"))
    assert r.status_code == 403


def test_old_versions_take_no_new_annotations(app, as_user, world, doc):
    from meetings.documents.service import replace_document
    from tests.annotation_helpers import PAGE_TEXTS, pdf_with_lines

    with app.app_context():  # the carry-over receiver reads the app's settings
        replace_document(db.session, db.session.merge(doc), db.session.merge(world.secretary),
                         pdf_with_lines(PAGE_TEXTS[:2]), filename="v2.pdf", storage_path=app.config["STORAGE_PATH"])
        db.session.commit()
    r = as_user("delegate").post(f"{API}/documents/{doc.id}/annotations", json=ink())
    assert r.status_code == 409 and r.json["error"]["code"] == "document_replaced"


def test_read_receipts_for_those_who_run_the_meeting(as_user, world, doc):
    from datetime import timedelta

    from meetings.annotations import receipts
    from meetings.annotations.models import DocumentView
    from meetings.documents.models import Document

    for name in ("delegate", "delegate", "chair"):  # the second is one of many Range requests: one opening
        receipts.queue_opening(db.session.get(Document, doc.id), world.users[name])
    assert receipts.flush() == 2  # what the background flush does a few seconds later
    db.session.rollback()  # end this session's read snapshot: the flush wrote on its own connection
    assert db.session.execute(select(DocumentView.open_count).where(
        DocumentView.user_id == world.delegate.id)).scalar_one() == 1
    row = db.session.execute(select(DocumentView).where(DocumentView.user_id == world.delegate.id)).scalar_one()
    row.first_opened_at -= timedelta(hours=2)
    row.last_opened_at -= timedelta(hours=1)
    db.session.commit()
    receipts._recently_recorded.clear()  # what an hour does to the process's one-minute memo
    receipts.queue_opening(db.session.get(Document, doc.id), world.delegate)  # back an hour later
    db.session.remove()  # forget the row loaded above: the request reads what is stored (flushing the queue first)
    r = as_user("chair").get(f"{API}/meetings/{world.meeting.id}/read-receipts")
    assert r.status_code == 200
    [entry] = r.json
    rows = {p["user_id"]: p for p in entry["participants"]}
    assert rows[world.delegate.id]["opened"] and rows[world.delegate.id]["open_count"] == 2
    assert rows[world.delegate.id]["first_opened_at"] < rows[world.delegate.id]["last_opened_at"]
    assert not rows[world.delegate2.id]["opened"] and rows[world.delegate2.id]["first_opened_at"] is None
    assert entry["opened_count"] == 2
    assert as_user("secretary").get(f"{API}/meetings/{world.meeting.id}/read-receipts").status_code == 200
    assert as_user("delegate").get(f"{API}/meetings/{world.meeting.id}/read-receipts").status_code == 403
    assert as_user("outsider").get(f"{API}/meetings/{world.meeting.id}/read-receipts").status_code == 404
    assert as_user("chair").get(f"{API}/meetings/999999/read-receipts").status_code == 404
