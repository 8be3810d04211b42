"""Documents: revalidation answered before any file work, and X-Accel-Redirect for nginx.

The nginx end of it runs for real in tests/test_delivery_accel_nginx.py.
"""
from __future__ import annotations

from pathlib import Path

from meetings.documents import storage
from tests import pdfs
from tests.pdfs import upload

PREFIX = "/_files"


def _published(as_user, world, data: bytes, **fields) -> dict:
    r = upload(as_user("secretary"), world.meeting.id, data, published="true", **fields)
    assert r.status_code == 201, r.json
    return r.json


def test_with_the_setting_nginx_is_told_which_file_to_send(app, as_user, world):
    app.config["X_ACCEL_REDIRECT_PREFIX"] = PREFIX
    doc = _published(as_user, world, pdfs.simple_pdf(2), filename="Tờ trình.pdf")
    r = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 200 and r.data == b""
    sha = doc["sha256"]
    assert r.headers["X-Accel-Redirect"] == f"{PREFIX}/blobs/{sha[:2]}/{sha[2:4]}/{sha}.pdf"
    blob = storage.blob_path(app.config["STORAGE_PATH"], sha)
    assert Path(app.config["STORAGE_PATH"], r.headers["X-Accel-Redirect"][len(PREFIX) + 1:]) == blob
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["ETag"] == f'"{sha}"'
    assert r.headers["Cache-Control"] == "private, no-cache"
    assert r.headers["Content-Disposition"].startswith("inline;") and "filename*=UTF-8''T%E1%BB%9D" in \
        r.headers["Content-Disposition"]


def test_no_redirect_for_who_may_not_see_it(app, as_user, world):
    app.config["X_ACCEL_REDIRECT_PREFIX"] = PREFIX
    draft = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1)).json  # not published
    url = f"/api/v1/documents/{draft['id']}/file"
    for who, status in ((None, 401), ("outsider", 404), ("delegate", 404)):
        r = (app.test_client() if who is None else as_user(who)).get(url)
        assert r.status_code == status, who
        assert "X-Accel-Redirect" not in r.headers, who
    assert "X-Accel-Redirect" in as_user("secretary").get(url).headers


def test_a_stamped_copy_is_made_then_handed_to_nginx(app, as_user, world):
    app.config["X_ACCEL_REDIRECT_PREFIX"] = PREFIX
    doc = _published(as_user, world, pdfs.simple_pdf(1), confidentiality="secret")
    r = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file")
    target = r.headers["X-Accel-Redirect"]
    assert r.status_code == 200 and target.startswith(f"{PREFIX}/watermarked/{doc['id']}/{world.delegate.id}-")
    stamped = Path(app.config["STORAGE_PATH"], target[len(PREFIX) + 1:])
    assert stamped.is_file() and stamped.read_bytes() != storage.blob_path(
        app.config["STORAGE_PATH"], doc["sha256"]).read_bytes()
    again = as_user("delegate").get(f"/api/v1/documents/{doc['id']}/file", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and "X-Accel-Redirect" not in again.headers


def test_revalidation_is_answered_without_touching_the_file(app, as_user, world):
    """The blob gone from storage: a tablet's current copy still gets its 304 (decided from the
    row), while a download fails: the 304 came before any file was opened."""
    doc = _published(as_user, world, pdfs.simple_pdf(2))
    url = f"/api/v1/documents/{doc['id']}/file"
    etag = as_user("delegate").get(url).headers["ETag"]
    storage.blob_path(app.config["STORAGE_PATH"], doc["sha256"]).unlink()
    for accel in (None, PREFIX):
        app.config["X_ACCEL_REDIRECT_PREFIX"] = accel
        r = as_user("delegate").get(url, headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.data == b"" and r.headers["ETag"] == etag, accel
        assert r.headers["Cache-Control"] == "private, no-cache"
        assert as_user("delegate").get(url).status_code == 503, accel  # file_missing
        assert as_user("delegate").get(url, headers={"If-None-Match": '"other"'}).status_code == 503, accel
    # Authorization still comes first: no 304 (and no ETag) for one who may not see it.
    r = as_user("outsider").get(url, headers={"If-None-Match": etag})
    assert r.status_code == 404 and "ETag" not in r.headers


def test_if_modified_since_is_answered_early_too(app, as_user, world):
    doc = _published(as_user, world, pdfs.simple_pdf(1))
    url = f"/api/v1/documents/{doc['id']}/file"
    first = as_user("delegate").get(url)
    r = as_user("delegate").get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert r.status_code == 304 and r.headers["ETag"] == first.headers["ETag"]
    r = as_user("delegate").get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert r.status_code == 200 and r.data == first.data
