"""The office's page of a form (server-rendered parts; the live parts are in
tests/browser/test_opinion_form.py).

The signer chooser says who can sign the report: a member without a usable signing key (none, revoked,
expired) is marked, and naming one shows a warning. Naming them is still allowed: a key can be issued
before the report is signed, and the signing step refuses without one. A draft shows the office a
preview that cannot be answered."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.minutes.models import SignerKey
from meetings.minutes.revocation import revoke_key
from tests.factories import page_client
from tests.minutes_support import pki  # noqa: F401  (fixture)
from tests.opinion_helpers import body12, form_body, opinion_keys  # noqa: F401  (fixtures)


def _signer_options(page: str) -> dict[int, str]:
    select_html = re.search(r'<select id="who-signer".*?</select>', page, re.S).group(0)
    found = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select_html)
    return {int(v): html.unescape(t) for v, t in found}


def _hint_shown(page: str) -> bool:
    tag = re.search(r'<p id="who-signer-no-key"[^>]*>', page).group(0)
    return " hidden" not in tag


def test_members_without_a_usable_key_are_marked_and_warned(app, opinion_keys, as_user):  # noqa: F811
    world = opinion_keys  # the delegate and the chair hold keys
    r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/opinion-forms", json=form_body(world))
    assert r.status_code == 201, r.json
    form_id = r.json["id"]
    office = page_client(app, "secretary")

    page = office.get(f"/opinions/{form_id}").get_data(as_text=True)
    options = _signer_options(page)
    chair, delegate, member = world.chair.id, world.delegate.id, world.users["member1"].id
    assert "chưa có khóa ký" not in options[chair] and "chưa có khóa ký" not in options[delegate]
    assert options[member].endswith("(chưa có khóa ký)"), options[member]
    assert not _hint_shown(page)  # the chair signs, and holds a key

    r = as_user("secretary").patch(f"/api/v1/opinion-forms/{form_id}", json={"signer_id": member})
    assert r.status_code == 200, r.json  # allowed: the key may come before the report is signed
    page = office.get(f"/opinions/{form_id}").get_data(as_text=True)
    assert _hint_shown(page) and "đề nghị quản trị viên cấp khóa" in page

    # The chair's key revoked, the delegate's expired: neither can sign any more.
    keys = {k.user_id: k for k in db.session.scalars(select(SignerKey))}
    revoke_key(db.session, keys[chair].id, reason="superseded")
    keys[delegate].not_after = utcnow() - timedelta(days=1)  # its certificate's end (a year on) has come
    db.session.commit()
    options = _signer_options(office.get(f"/opinions/{form_id}").get_data(as_text=True))
    assert options[chair].endswith("(chưa có khóa ký)") and options[delegate].endswith("(chưa có khóa ký)")


def test_the_warning_in_english(app, opinion_keys, as_user):  # noqa: F811
    world = opinion_keys
    r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/opinion-forms",
                                  json=form_body(world, signer_id=world.users["member2"].id))
    office = page_client(app, "secretary")
    page = office.get(f"/opinions/{r.json['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _signer_options(page)[world.users["member2"].id].endswith("(no signing key)")
    assert _hint_shown(page) and "ask an administrator to issue one" in page


def test_a_draft_shows_the_office_a_preview_it_cannot_answer(app, body12, as_user):  # noqa: F811
    r = as_user("secretary").post(f"/api/v1/bodies/{body12.body.id}/opinion-forms", json=form_body(body12))
    page = page_client(app, "secretary").get(f"/opinions/{r.json['id']}").get_data(as_text=True)
    assert "Bản xem trước: phiếu chưa gửi" in page
    assert 'id="opinion-send"' not in page
    assert all(" disabled" in tag for tag in re.findall(r'<fieldset class="opinion-question"[^>]*>', page))
    r = as_user("secretary").post(f"/api/v1/opinion-forms/{r.json['id']}/open")
    page = page_client(app, "secretary").get(f"/opinions/{r.json['id']}").get_data(as_text=True)
    assert "Bản xem trước" not in page
