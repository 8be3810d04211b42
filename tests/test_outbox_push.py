"""Web Push to a real endpoint that decrypts the payload like a browser (http_ece, aes128gcm)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.notifications import delivery, outbox
from meetings.notifications.channels import push
from meetings.notifications.models import PushSubscription
from tests.outbox_helpers import row
from tests.push_endpoint import push_endpoint, unb64url  # noqa: F401  (fixture)


@pytest.fixture
def push_app(app, world):
    app.config.update(PUSH_ALLOW_HTTP_ENDPOINTS=True, VAPID_SUBJECT="mailto:office@meetings.test")
    result = app.test_cli_runner().invoke(args=["push", "keys"], catch_exceptions=False)
    assert "wrote private key" in result.output
    return app


def _subscribe(client, browser):
    answer = client.post("/api/v1/push/subscriptions", json=browser.as_json())
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_key_the_subscription_and_a_decrypted_notification(push_app, as_user, world, push_endpoint):  # noqa: F811
    client = as_user("delegate")
    key = client.get("/api/v1/push/key").get_json()["public_key"]
    with push_app.app_context():
        assert key == push.public_key(push_app.config)
    assert len(unb64url(key)) == 65 and unb64url(key)[0] == 4  # an uncompressed P-256 point
    tablet, phone = push_endpoint.subscribe("tablet"), push_endpoint.subscribe("phone")
    _subscribe(client, tablet)
    _subscribe(client, phone)
    with push_app.app_context():
        user = db.session.merge(world.delegate)
        messages = outbox.queue_push(db.session, user=user, kind="alert.document", dedupe_key="doc:5:2",
                                     title="Tài liệu đã được cập nhật", body="Báo cáo kinh tế — bản 2",
                                     url="/meetings/1/documents/5")
        db.session.commit()
        assert len(messages) == 2
        outcomes = [delivery.deliver(m.id) for m in messages]
        assert outcomes == ["sent", "sent"], (row(messages[0].id).last_error, push_endpoint.refused)
    assert push_endpoint.refused == []
    got = {name: payload for name, payload, _ in push_endpoint.received}
    assert set(got) == {"tablet", "phone"}
    assert got["tablet"]["title"] == "Tài liệu đã được cập nhật"
    assert got["tablet"]["body"] == "Báo cáo kinh tế — bản 2" and got["tablet"]["url"] == "/meetings/1/documents/5"
    claims = push_endpoint.received[0][2]["vapid"]
    assert claims["k"] == key and claims["sub"] == "mailto:office@meetings.test"


def test_a_gone_subscription_is_forgotten(push_app, as_user, world, push_endpoint):  # noqa: F811
    browser = push_endpoint.subscribe("old")
    _subscribe(as_user("delegate"), browser)
    push_endpoint.gone("old")
    with push_app.app_context():
        (message,) = outbox.queue_push(db.session, user=db.session.merge(world.delegate), kind="x",
                                       dedupe_key="k", title="t", body="b", url="/")
        db.session.commit()
        assert delivery.deliver(message.id) == "failed"
        assert "410" in row(message.id).last_error
        assert db.session.scalars(select(PushSubscription)).all() == []


def test_subscriptions_move_with_the_login_and_go_at_logout(push_app, as_user, world, push_endpoint):  # noqa: F811
    browser = push_endpoint.subscribe("shared")
    first = _subscribe(as_user("delegate"), browser)
    second = _subscribe(as_user("delegate2"), browser)
    assert first["id"] == second["id"]
    with push_app.app_context():
        assert db.session.get(PushSubscription, first["id"]).user_id == world.delegate2.id
    gone = {"endpoint": browser.endpoint}
    assert as_user("delegate").delete("/api/v1/push/subscriptions", json=gone).status_code == 204
    with push_app.app_context():
        assert db.session.get(PushSubscription, first["id"]) is not None  # not delegate's to remove
    assert as_user("delegate2").delete("/api/v1/push/subscriptions", json=gone).status_code == 204
    with push_app.app_context():
        assert db.session.scalars(select(PushSubscription)).all() == []


def test_without_keys_push_is_off(app, as_user, push_endpoint):  # noqa: F811
    client = as_user("delegate")
    assert client.get("/api/v1/push/key").get_json() == {"public_key": None}
    app.config.update(PUSH_ALLOW_HTTP_ENDPOINTS=True)
    answer = client.post("/api/v1/push/subscriptions", json=push_endpoint.subscribe().as_json())
    assert answer.status_code == 503


def test_only_https_endpoints_unless_allowed(push_app, as_user, push_endpoint):  # noqa: F811
    push_app.config.update(PUSH_ALLOW_HTTP_ENDPOINTS=False)
    answer = as_user("delegate").post("/api/v1/push/subscriptions", json=push_endpoint.subscribe().as_json())
    assert answer.status_code == 422
