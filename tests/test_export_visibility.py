"""One visibility policy for everything that leaves the server (issue 13, item 1).

Bundles, the archive search, minutes downloads and the annotated export answer
as the pages do: a bundle only of a closed meeting, 404 for whoever may not see
the meeting; only published documents and minutes; confidential documents
stamped for the receiver (or left out, ``BUNDLE_CONFIDENTIAL="omit"``); an
archivist only up to their clearance. The user directory: full records for
administrators, names of the people in one's own meetings for everyone else.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from meetings.accounts.models import CLEARANCES, DEFAULT_CLEARANCE, User
from meetings.bodies.models import CONFIDENTIALITY, BodyMember, Meeting
from meetings.core.extensions import db
from meetings.minutes import files
from meetings.minutes.models import Minutes
from tests.annotation_helpers import add_doc, pdf_with_lines
from tests.factories import build_draft_meeting, move_meeting

SECRET_LINE = "Phương án giải phóng mặt bằng chưa công bố"


def _bag(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        return {name.split("/data/", 1)[-1]: zf.read(name) for name in zf.namelist()}


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _minutes(app, meeting_id: int, version: int, status: str, previous_id: int | None = None) -> Minutes:
    """A minutes version with a stored file (its content says which version it is)."""
    data = pdf_with_lines([[f"Biên bản phiên bản {version} ({status})"]])
    sha = files.store_bytes(app.config["STORAGE_PATH"], data)
    m = Minutes(meeting_id=meeting_id, version=version, status=status, previous_id=previous_id, sha256=sha,
                size=len(data), page_count=1, recipients=[], conclusions={}, boxes={},
                search_text="bien ban", search_title="phien hop thuong ky")
    db.session.add(m)
    db.session.commit()
    return m


def _close(world) -> Meeting:
    return move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.secretary, "closed")


def _set(meeting_id: int, **fields) -> None:
    meeting = db.session.get(Meeting, meeting_id)
    for k, v in fields.items():
        setattr(meeting, k, v)
    db.session.commit()


# ------------------------------------------------------------------ the defect as reported

def test_an_archivist_gets_no_bundle_of_a_meeting_they_may_not_see(app, world, as_user):
    """Draft + confidential: 404 on the meeting, and the same 404 on its bundle (it was 200, with
    the meeting's unpublished, confidential document inside, un-watermarked)."""
    draft = build_draft_meeting(db.session, world)
    _set(draft.id, confidentiality="confidential")
    add_doc(db.session, app, db.session.get(Meeting, draft.id), world.secretary, [[SECRET_LINE]], published=False)
    arch = as_user("archivist")
    assert arch.get(f"/api/v1/meetings/{draft.id}").status_code == 404
    r = arch.get(f"/api/v1/meetings/{draft.id}/bundle")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert as_user("delegate").get(f"/api/v1/meetings/{draft.id}/bundle").status_code == 404
    # Those who may see it still get no package of a meeting that is not over.
    r = as_user("secretary").get(f"/api/v1/meetings/{draft.id}/bundle")
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_closed"


def test_a_bundle_only_of_a_closed_meeting(app, world, as_user):
    url = f"/api/v1/meetings/{world.meeting.id}/bundle"
    for name in ("secretary", "archivist", "admin"):
        r = as_user(name).get(url)
        assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_closed", name
    assert as_user("delegate").get(url).status_code == 403
    assert as_user("outsider").get(url).status_code == 404
    _close(world)
    assert as_user("archivist").get(url).status_code == 200


def test_a_bundle_holds_only_published_documents_and_minutes(app, world, as_user):
    meeting = db.session.get(Meeting, world.meeting.id)
    shown = add_doc(db.session, app, meeting, world.secretary, [["Tờ trình đã phát hành"]], published=True,
                    title="Tờ trình đã phát hành")
    hidden = add_doc(db.session, app, meeting, world.secretary, [[SECRET_LINE]], published=False,
                     title="Dự thảo chưa phát hành")
    shown_id, hidden_id = shown.id, hidden.id
    meeting = _close(world)
    v1 = _minutes(app, meeting.id, 1, "signed")              # signed, then replaced by a published correction
    v2 = _minutes(app, meeting.id, 2, "published", v1.id)
    _minutes(app, meeting.id, 3, "signed", v2.id)            # signed, not published yet
    bag = _bag(as_user("archivist").get(f"/api/v1/meetings/{meeting.id}/bundle"))
    docs = sorted(k for k in bag if k.startswith("documents/"))
    assert docs == [f"documents/{shown_id}-du-thao.pdf"]
    assert all(SECRET_LINE not in _text(bag[k]) for k in docs)
    assert sorted(k for k in bag if k.startswith("minutes/")) == ["minutes/bien-ban-v1.pdf", "minutes/bien-ban-v2.pdf"]
    meta = json.loads(bag["meeting.json"])
    assert [m["version"] for m in meta["minutes"]] == [1, 2]
    assert [d["id"] for d in meta["documents"]] == [shown_id]
    # The unpublished document's title and file name do not leak through the audit log either.
    audit = [json.loads(x) for x in bag["audit-log.jsonl"].decode().splitlines()]
    assert any(e["object_type"] == "document" and e["object_id"] == shown_id for e in audit)
    assert not any(e["object_type"] == "document" and e["object_id"] == hidden_id for e in audit)
    assert "Dự thảo chưa phát hành" not in bag["audit-log.jsonl"].decode()


def test_confidential_documents_are_stamped_for_the_exporter_or_left_out(app, world, as_user):
    meeting = db.session.get(Meeting, world.meeting.id)
    doc = add_doc(db.session, app, meeting, world.secretary, [["Báo cáo mật về ngân sách"]], published=True)
    doc.confidentiality = "confidential"
    db.session.commit()
    doc_id, original = doc.id, (app.config["STORAGE_PATH"], doc.sha256)
    _close(world)
    url = f"/api/v1/meetings/{world.meeting.id}/bundle"
    bag = _bag(as_user("archivist").get(url))
    stamped = bag[f"documents/{doc_id}-du-thao.pdf"]
    from meetings.documents.storage import blob_path

    assert hashlib.sha256(stamped).hexdigest() != original[1]
    assert blob_path(*original).read_bytes() != stamped
    text = _text(stamped)
    assert "MẬT" in text and "Bản cấp cho: Người dùng archivist" in text and "Báo cáo mật về ngân sách" in text
    meta = json.loads(bag["meeting.json"])
    (entry,) = meta["documents"]
    assert entry.items() >= {"id": doc_id, "title": "Dự thảo nghị quyết", "version": 1,
                             "confidentiality": "confidential", "sha256": original[1], "watermarked": True}.items()
    assert entry.get("original_file") is None  # a confidential one never gets its unstamped original
    app.config["BUNDLE_CONFIDENTIAL"] = "omit"
    bag = _bag(as_user("archivist").get(url))
    assert not [k for k in bag if k.startswith("documents/")]
    assert json.loads(bag["meeting.json"])["documents"] == []


def test_the_annotated_export_of_a_confidential_document_is_stamped(app, world, as_user):
    doc = add_doc(db.session, app, db.session.get(Meeting, world.meeting.id), world.secretary,
                  [["Báo cáo mật về ngân sách"]], published=True)
    doc.confidentiality = "secret"
    db.session.commit()
    r = as_user("delegate").get(f"/api/v1/documents/{doc.id}/annotated")
    assert r.status_code == 200
    text = _text(r.data)
    assert "TỐI MẬT" in text and "Bản cấp cho: Người dùng delegate" in text


# ------------------------------------------------------------------ clearance

def test_clearance_levels_are_the_meeting_confidentiality_levels():
    assert CLEARANCES == CONFIDENTIALITY and DEFAULT_CLEARANCE == "internal"


def test_an_archivist_sees_only_what_they_are_cleared_for(app, world, as_user):
    meeting = _close(world)
    m = _minutes(app, meeting.id, 1, "published")
    _set(meeting.id, confidentiality="confidential")
    arch, admin = as_user("archivist"), as_user("admin")
    mid = meeting.id
    urls = (f"/api/v1/meetings/{mid}", f"/api/v1/meetings/{mid}/bundle", f"/api/v1/minutes/{m.id}",
            f"/api/v1/minutes/{m.id}/file", f"/api/v1/meetings/{mid}/minutes")
    assert arch.get("/api/v1/users/me").json["clearance"] == "internal"
    for url in urls:
        assert arch.get(url).status_code == 404, url
    assert arch.get("/api/v1/archive").json["total"] == 0
    assert mid not in [x["id"] for x in arch.get("/api/v1/meetings").json]
    # Participants see their meeting whatever its level; an archivist cannot raise their own clearance.
    assert as_user("delegate").get("/api/v1/archive").json["total"] == 1
    r = arch.patch(f"/api/v1/users/{world.archivist.id}", json={"clearance": "top_secret"})
    assert r.status_code == 403
    r = admin.patch(f"/api/v1/users/{world.archivist.id}", json={"clearance": "very_secret"})
    assert r.status_code == 422
    r = admin.patch(f"/api/v1/users/{world.archivist.id}", json={"clearance": "confidential"})
    assert r.status_code == 200 and r.json["clearance"] == "confidential"
    for url in urls:
        assert arch.get(url).status_code == 200, url
    assert arch.get("/api/v1/archive").json["total"] == 1
    _set(mid, confidentiality="secret")
    assert arch.get(f"/api/v1/meetings/{mid}/bundle").status_code == 404
    assert arch.get("/api/v1/archive").json["total"] == 0


# ------------------------------------------------------------------ the user directory

def _keys(rows: list[dict]) -> set[str]:
    return {k for r in rows for k in r}


def test_the_directory_shows_full_records_only_to_administrators(app, world, as_user):
    everyone = {u.id for u in db.session.query(User)}
    full = as_user("admin").get("/api/v1/users").json
    assert {u["id"] for u in full} == everyone and {"username", "email", "global_role", "clearance"} <= _keys(full)

    mine = {world.users[n].id for n in ("secretary", "chair", "delegate", "delegate2", "observer")}
    rows = as_user("delegate").get("/api/v1/users").json
    assert {u["id"] for u in rows} == mine  # the people of the delegate's meeting, not the outsider or admin
    others = [u for u in rows if u["id"] != world.delegate.id]
    assert _keys(others) == {"id", "full_name"}
    assert next(u for u in rows if u["id"] == world.delegate.id)["username"] == "delegate"  # one's own record

    assert [u["id"] for u in as_user("outsider").get("/api/v1/users").json] == [world.outsider.id]
    assert [u["id"] for u in as_user("archivist").get("/api/v1/users").json] == [world.archivist.id]

    d = as_user("delegate")
    assert d.get(f"/api/v1/users/{world.chair.id}").json == {"id": world.chair.id, "full_name": "Người dùng chair"}
    assert d.get(f"/api/v1/users/{world.outsider.id}").status_code == 404
    assert d.get(f"/api/v1/users/{world.admin.id}").status_code == 404
    assert d.patch(f"/api/v1/users/{world.outsider.id}", json={"full_name": "X"}).status_code == 404
    assert d.patch(f"/api/v1/users/{world.chair.id}", json={"full_name": "X"}).status_code == 403
    assert as_user("admin").get(f"/api/v1/users/{world.outsider.id}").json["username"] == "outsider"


def test_those_who_prepare_meetings_see_the_body_and_no_one_learns_of_a_draft(app, world, as_user):
    """A meeting's secretary and a body's secretariat choose participants among the body's members;
    a person listed only in a draft meeting is not revealed to its delegates before it is published."""
    db.session.add(BodyMember(body_id=world.body.id, user_id=world.outsider.id, position="Thành viên"))
    db.session.commit()
    seen = {n: {u["id"] for u in as_user(n).get("/api/v1/users").json} for n in ("secretary", "chair", "delegate2")}
    assert world.outsider.id in seen["secretary"] and world.admin.id not in seen["secretary"]
    assert world.outsider.id not in seen["chair"] | seen["delegate2"]
    row = db.session.query(BodyMember).filter_by(body_id=world.body.id, user_id=world.delegate2.id).one()
    row.is_secretariat = True
    db.session.commit()
    assert world.outsider.id in {u["id"] for u in as_user("delegate2").get("/api/v1/users").json}
    draft = build_draft_meeting(db.session, world)
    from meetings.bodies.models import Participant

    db.session.add(Participant(meeting_id=draft.id, user_id=world.admin.id, role="delegate"))
    db.session.commit()
    assert world.admin.id not in {u["id"] for u in as_user("delegate").get("/api/v1/users").json}
    assert world.admin.id in {u["id"] for u in as_user("chair").get("/api/v1/users").json}


@pytest.mark.parametrize("level", ["normal", "internal"])
def test_the_default_clearance_reads_normal_and_internal_meetings(app, world, as_user, level):
    _set(world.meeting.id, confidentiality=level)
    assert as_user("archivist").get(f"/api/v1/meetings/{world.meeting.id}").status_code == 200
