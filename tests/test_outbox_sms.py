"""SMS through a real HTTP server standing in for the gateway: the template, retries, refusals."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from tests.outbox_helpers import person, row
from tests.sms_gateway import sms_gateway  # noqa: F401  (fixture)

TEXT = 'Nhắc họp: "Phiên họp" lúc 8:00 {ngày mai} & 100% tài liệu'


@pytest.fixture
def sms_app(app, sms_gateway):  # noqa: F811
    app.config.update({
        "SMS_GATEWAY_URL": sms_gateway.url + "/send?to={phone}&ref={message_id}",
        "SMS_GATEWAY_HEADERS": json.dumps({"Authorization": "Basic dGVzdDpwdw==", "X-Ref": "{message_id}"}),
        "SMS_GATEWAY_BODY": json.dumps({"brandname": "UBND", "messages": [{"phone": "{phone}", "content": "{text}",
                                                                           "unicode": 1}]}),
    })
    with app.app_context():
        yield app


def _queue(user, key="reminder:1"):
    message = outbox.queue_sms(db.session, user=user, kind="reminder.hour_before", dedupe_key=key, text=TEXT)
    db.session.commit()
    return message


def test_the_template_fills_url_headers_and_json_body(sms_app, sms_gateway):  # noqa: F811
    message = _queue(person("an", phone="+84912345678"))
    assert delivery.deliver(message.id) == "sent"
    (got,) = sms_gateway.requests
    assert got.method == "POST"
    assert got.query == {"to": "+84912345678", "ref": f"outbox-{message.id}"}  # URL-encoded, "+" kept
    assert got.headers["Authorization"] == "Basic dGVzdDpwdw==" and got.headers["X-Ref"] == f"outbox-{message.id}"
    assert got.headers["Content-Type"] == "application/json"
    assert got.json == {"brandname": "UBND", "messages": [{"phone": "+84912345678", "content": TEXT, "unicode": 1}]}
    assert row(message.id).status == "sent"


def test_a_form_body_and_get(sms_app, sms_gateway):  # noqa: F811
    user = person("binh", phone="0912000111")
    sms_app.config.update(SMS_GATEWAY_FORMAT="form", SMS_GATEWAY_BODY=json.dumps({"u": "x", "msg": "{text}"}))
    first = _queue(user, "a")
    assert delivery.deliver(first.id) == "sent"
    assert sms_gateway.requests[0].form == {"u": "x", "msg": TEXT}
    sms_app.config.update(SMS_GATEWAY_METHOD="GET", SMS_GATEWAY_URL=sms_gateway.url + "/api?p={phone}&t={text}")
    second = _queue(user, "b")
    assert delivery.deliver(second.id) == "sent"
    assert sms_gateway.requests[1].method == "GET" and sms_gateway.requests[1].query == {"p": "0912000111", "t": TEXT}


def test_a_5xx_is_retried_then_sent_once_and_a_4xx_fails(sms_app, sms_gateway):  # noqa: F811
    user = person("chi", phone="0912000222")
    message = _queue(user)
    sms_gateway.statuses = [503, 502]
    now = utcnow()
    assert delivery.deliver(message.id, now=now) == "retry"
    assert "503" in row(message.id).last_error
    assert delivery.deliver_due(now=now + timedelta(seconds=31)) == {"retry": 1}
    assert delivery.deliver_due(now=now + timedelta(seconds=92)) == {"sent": 1}
    assert len(sms_gateway.requests) == 3 and row(message.id).status == "sent"
    refused = _queue(user, "bad")
    sms_gateway.statuses = [400]
    assert delivery.deliver(refused.id) == "failed"
    assert row(refused.id).status == "failed" and "400" in row(refused.id).last_error


def test_a_gateway_that_does_not_answer_is_retried(sms_app):
    sms_app.config.update(SMS_GATEWAY_URL="http://127.0.0.1:9/closed", SMS_GATEWAY_TIMEOUT=2)
    message = _queue(person("dung", phone="0912000333"))
    assert delivery.deliver(message.id) == "retry"
    assert "unreachable" in row(message.id).last_error


def test_an_administrator_sets_a_phone_number(as_user, world):
    admin = as_user("admin")
    answer = admin.patch(f"/api/v1/users/{world.delegate.id}", json={"phone": "+84 912 345 678"})
    assert answer.status_code == 200 and answer.get_json()["phone"] == "+84 912 345 678"
    assert admin.patch(f"/api/v1/users/{world.delegate.id}", json={"phone": "call me"}).status_code == 422
    # A colleague of the same meeting sees the account but may not change it.
    colleague = as_user("delegate2").patch(f"/api/v1/users/{world.delegate.id}", json={"phone": "0912345678"})
    assert colleague.status_code == 403
