"""The minutes workflow over REST: draft → finalized → two signatures → published → correction."""
from __future__ import annotations

import hashlib
import shutil

import pytest

from meetings.core.extensions import db
from meetings.minutes import files
from meetings.minutes.signers import issue_key
from tests.factories import move_meeting
from tests.minutes_support import (
    CA_PASS,
    CHAIR_PASS,
    SECRETARY_PASS,
    flip_byte,
    pdftotext,
    pki,  # noqa: F401  (fixture)
)


@pytest.fixture
def signers(app, world, pki):  # noqa: F811
    """The organization CA in the app's instance folder, and keys for the secretary and the chair."""
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config["MINUTES_FONT_CACHE"] = str(pki["instance"] / "fonts")  # rescale DejaVu once per run
    with app.app_context():
        issue_key(db.session, app.config, world.secretary, ca_passphrase=CA_PASS, passphrase=SECRETARY_PASS)
        issue_key(db.session, app.config, world.chair, ca_passphrase=CA_PASS, passphrase=CHAIR_PASS)
        db.session.commit()
    return world


def _close_meeting(app, world, status="closed"):
    """Hold and end the sitting through the status service (never by setting the column)."""
    with app.app_context():
        from meetings.bodies.models import Meeting

        move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.users["secretary"], status)


def _create(as_user, world, **body):
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/minutes", json=body)
    assert r.status_code == 201, r.json
    return r.json


def _finalized(app, as_user, world):
    m = _create(as_user, world)
    _close_meeting(app, world)
    r = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/finalize")
    assert r.status_code == 200, r.json
    return r.json


def _sign(as_user, name, minutes_id, secret):
    return as_user(name).post(f"/api/v1/minutes/{minutes_id}/signatures", json={"secret": secret})


def test_whole_flow_draft_to_published(app, as_user, signers):
    world = signers
    m = _create(as_user, world)
    assert m["status"] == "draft" and m["version"] == 1
    item = world.items[0]
    r = as_user("secretary").patch(f"/api/v1/minutes/{m['id']}", json={
        "number": "07/BB-UBND", "conclusions": {str(item.id): "Thống nhất giao Sở Tài chính chủ trì."},
        "recipients": ["- Thường trực Tỉnh ủy;", "- Lưu: VT, TH."]})
    assert r.status_code == 200 and r.json["number"] == "07/BB-UBND"
    draft = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/file")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    assert draft.headers["Cache-Control"] == "no-store"
    text = " ".join(pdftotext(draft.data).split())
    assert "Thống nhất giao Sở Tài chính chủ trì." in text and "Thường trực Tỉnh ủy;" in text

    _close_meeting(app, world)
    fin = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/finalize").json
    assert fin["status"] == "finalized" and fin["sha256"] == fin["final_sha256"]
    body = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/file").data
    assert hashlib.sha256(body).hexdigest() == fin["sha256"]

    r = _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    assert r.status_code == 201 and r.json["role"] == "secretary"
    r = _sign(as_user, "chair", m["id"], CHAIR_PASS)
    assert r.status_code == 201 and r.json["role"] == "chair"
    got = as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json
    assert got["status"] == "signed" and [s["role"] for s in got["signatures"]] == ["secretary", "chair"]
    assert got["sha256"] == got["signatures"][1]["sha256"] != fin["sha256"]

    report = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/verification").json
    assert report["valid"] and report["trusted"] and not report["tampered"]
    assert [s["signer"] for s in report["signatures"]] == ["Người dùng secretary", "Người dùng chair"]

    assert as_user("secretary").post(f"/api/v1/minutes/{m['id']}/publish").json["status"] == "published"
    # Each stored file stays as it was written: the finalized one and each signed one.
    for sha in (fin["sha256"], got["signatures"][0]["sha256"], got["sha256"]):
        path = files.minutes_file(app.config["STORAGE_PATH"], sha)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_signing_is_refused_clearly(app, as_user, signers):
    world = signers
    m = _create(as_user, world)
    r = _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_finalized"
    _close_meeting(app, world)
    as_user("secretary").post(f"/api/v1/minutes/{m['id']}/finalize")
    r = _sign(as_user, "delegate", m["id"], "whatever-pass")
    assert r.status_code == 403 and r.json["error"]["code"] == "not_a_signer"
    r = _sign(as_user, "admin", m["id"], "whatever-pass")
    assert r.status_code == 403
    r = _sign(as_user, "outsider", m["id"], "whatever-pass")
    assert r.status_code == 404
    r = _sign(as_user, "chair", m["id"], CHAIR_PASS)
    assert r.status_code == 409 and r.json["error"]["code"] == "wrong_signing_order"
    before = as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json
    r = _sign(as_user, "secretary", m["id"], "wrong-passphrase")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_passphrase"
    for bad in ({}, {"secret": ""}, {"secret": None}, {"secret": 5}, {"secret": "x", "key_id": "one"}, []):
        assert as_user("secretary").post(f"/api/v1/minutes/{m['id']}/signatures", json=bad).status_code == 422
    r = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/signatures", json={"secret": SECRETARY_PASS,
                                                                                  "key_id": 999999})
    assert r.status_code == 422 and r.json["error"]["code"] == "no_key"
    after = as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json
    assert after == before  # nothing changed by any refused attempt
    assert _sign(as_user, "secretary", m["id"], SECRETARY_PASS).status_code == 201
    assert _sign(as_user, "secretary", m["id"], SECRETARY_PASS).status_code == 409
    assert _sign(as_user, "chair", m["id"], CHAIR_PASS).status_code == 201
    r = _sign(as_user, "chair", m["id"], CHAIR_PASS)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_signed"


def test_signer_without_a_key_is_told(app, as_user, world):
    m = _finalized(app, as_user, world)
    r = _sign(as_user, "secretary", m["id"], "some-passphrase")
    assert r.status_code == 422 and r.json["error"]["code"] == "no_key"


def test_draft_rules_and_bad_input(app, as_user, world):
    mid = world.meeting.id
    assert as_user("delegate").post(f"/api/v1/meetings/{mid}/minutes", json={}).status_code == 403
    assert as_user("outsider").post(f"/api/v1/meetings/{mid}/minutes", json={}).status_code == 404
    assert as_user("secretary").post("/api/v1/meetings/999999/minutes", json={}).status_code == 404
    assert as_user("secretary").post(f"/api/v1/meetings/{mid}/minutes", json={"language": "fr"}).status_code == 422
    assert as_user(None).post(f"/api/v1/meetings/{mid}/minutes", json={}).status_code == 401
    m = _create(as_user, world)
    r = as_user("secretary").post(f"/api/v1/meetings/{mid}/minutes", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "minutes_exist"
    url = f"/api/v1/minutes/{m['id']}"
    for bad in ({"number": 5}, {"recipients": "x"}, {"conclusions": {"abc": "x"}}, {"conclusions": []},
                {"opening_text": ["x"]}, {"status": "published"}, {"sha256": "0" * 64}):
        r = as_user("secretary").patch(url, json=bad)
        assert r.status_code == 422, bad
    r = as_user("secretary").patch(url, json={"conclusions": {"999999": "Không thuộc cuộc họp này"}})
    assert r.status_code == 422
    assert as_user("delegate").patch(url, json={"number": "1"}).status_code == 404  # drafts are not shown
    assert as_user("chair").patch(url, json={"number": "1"}).status_code == 403
    assert as_user("secretary").get("/api/v1/minutes/999999").status_code == 404
    # Finalizing before the meeting is over is refused; so is editing once finalized.
    r = as_user("secretary").post(f"{url}/finalize")
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_finished"
    # Adjourned is only suspended: the sitting may resume, so its minutes cannot be final yet.
    _close_meeting(app, world, "adjourned")
    r = as_user("secretary").post(f"{url}/finalize")
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_finished"
    _close_meeting(app, world, "closed")
    assert as_user("secretary").post(f"{url}/finalize").status_code == 200
    assert as_user("secretary").post(f"{url}/finalize").status_code == 409
    r = as_user("secretary").patch(url, json={"number": "2"})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_draft"
    assert as_user("secretary").post(f"{url}/publish").status_code == 409
    r = as_user("secretary").post(f"{url}/corrections", json={"reason": "Sai tên"})
    assert r.status_code == 409  # not signed yet: there is nothing to correct by a new version


def test_who_sees_what(app, as_user, signers):
    world = signers
    m = _finalized(app, as_user, world)
    url = f"/api/v1/minutes/{m['id']}"
    assert as_user("chair").get(url).status_code == 200
    for name in ("delegate", "observer", "archivist", "outsider"):
        assert as_user(name).get(url).status_code == 404, name
        assert as_user(name).get(f"{url}/file").status_code == 404, name
    _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    _sign(as_user, "chair", m["id"], CHAIR_PASS)
    as_user("secretary").post(f"{url}/publish")
    for name in ("delegate", "observer", "archivist"):
        assert as_user(name).get(url).status_code == 200, name
        assert as_user(name).get(f"{url}/file").status_code == 200, name
    assert as_user("outsider").get(url).status_code == 404
    assert as_user("archivist").post(f"{url}/corrections", json={"reason": "x"}).status_code == 403


def test_correction_is_a_new_version_and_the_signed_file_stays(app, as_user, signers):
    world = signers
    m = _finalized(app, as_user, world)
    _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    _sign(as_user, "chair", m["id"], CHAIR_PASS)
    signed = as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json
    assert as_user("secretary").post(f"/api/v1/minutes/{m['id']}/corrections", json={}).status_code == 422
    r = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/corrections", json={"reason": "Sửa tên đại biểu"})
    assert r.status_code == 201
    v2 = r.json
    assert (v2["version"], v2["previous_id"], v2["status"]) == (2, m["id"], "draft")
    assert v2["correction_reason"] == "Sửa tên đại biểu"
    again = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/corrections", json={"reason": "x"})
    assert again.status_code == 409 and again.json["error"]["code"] == "not_latest"
    assert as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json == signed
    as_user("secretary").post(f"/api/v1/minutes/{v2['id']}/finalize")
    text = " ".join(pdftotext(as_user("secretary").get(f"/api/v1/minutes/{v2['id']}/file").data).split())
    assert "Phiên bản 2. Thay thế phiên bản 1: Sửa tên đại biểu" in text
    listed = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/minutes").json
    assert [x["version"] for x in listed] == [2, 1]


def test_verification_upload(app, as_user, signers):
    world = signers
    m = _finalized(app, as_user, world)
    _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    pdf = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/file").data
    import io

    r = as_user("archivist").post("/api/v1/verification", data={"file": (io.BytesIO(pdf), "bb.pdf")},
                                  content_type="multipart/form-data")
    assert r.status_code == 200 and r.json["valid"] and r.json["trusted"]
    assert r.json["signatures"][0]["role"] == "secretary"
    r = as_user("archivist").post("/api/v1/verification", data=flip_byte(pdf),
                                  content_type="application/pdf")
    assert r.status_code == 200 and r.json["tampered"] and not r.json["valid"]
    r = as_user("archivist").post("/api/v1/verification", data={"file": (io.BytesIO(b"hello"), "x.pdf")},
                                  content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["error"]["code"] == "not_pdf"
    assert as_user("archivist").post("/api/v1/verification", json={"file": "x"}).status_code == 422
    assert as_user(None).post("/api/v1/verification", data=pdf, content_type="application/pdf").status_code == 401


def _browser_login(app, username):
    from tests.factories import PASSWORD

    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return c, token


def test_verify_page(app, as_user, signers):
    import io

    world = signers
    m = _finalized(app, as_user, world)
    _sign(as_user, "secretary", m["id"], SECRETARY_PASS)
    pdf = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/file").data
    assert app.test_client().get("/verify").status_code == 302  # to the login page
    c, token = _browser_login(app, "archivist")
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the checks below read the English page
    page = c.get("/verify")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)
    r = c.post("/verify", data={"file": (io.BytesIO(pdf), "bb.pdf"), "csrf_token": token},
               content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Người dùng secretary" in html and "valid and trusted" in html
    r = c.post("/verify", data={"file": (io.BytesIO(flip_byte(pdf)), "bb.pdf"), "csrf_token": token},
               content_type="multipart/form-data")
    assert "TAMPERED" in r.get_data(as_text=True)
    r = c.post("/verify", data={"file": (io.BytesIO(b"<html>"), "x.pdf"), "csrf_token": token},
               content_type="multipart/form-data")
    assert r.status_code == 422 and "not a PDF" in r.get_data(as_text=True)
    r = c.post("/verify", data={"file": (io.BytesIO(pdf), "bb.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 400  # no CSRF token
