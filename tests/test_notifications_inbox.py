"""The bell's REST: my list, the unread count, read marks (live to my other devices), and the
notification settings of a user and of a body."""
from __future__ import annotations

from meetings.core.extensions import db, socketio
from meetings.notifications import inbox
from tests.notification_helpers import lines


def _add(app, user_id: int, n: int, key: str = "k") -> None:
    with app.test_request_context():
        for i in range(n):
            inbox.add(db.session, user_id=user_id, kind="reminder", title=f"Nhắc lịch {i}", body="…",
                      url="/meetings/1/room", dedupe_key=f"{key}:{user_id}:{i}")
        db.session.commit()


def test_list_count_read_and_read_all(app, world, as_user):
    delegate, chair = world.users["delegate"].id, world.users["chair"].id
    _add(app, delegate, 3)
    _add(app, delegate, 3)  # the same keys: nothing doubled
    _add(app, chair, 1)
    me = as_user("delegate")
    page = me.get("/api/v1/me/notifications").get_json()
    assert page["unread"] == 3 and [n["title"] for n in page["items"]] == ["Nhắc lịch 2", "Nhắc lịch 1", "Nhắc lịch 0"]
    older = me.get(f"/api/v1/me/notifications?before={page['items'][0]['id']}&limit=1").get_json()
    assert [n["title"] for n in older["items"]] == ["Nhắc lịch 1"]
    # A second device of mine hears the read marks.
    other = socketio.test_client(app, auth={"token": as_user.token("delegate")})
    other.get_received()
    first = page["items"][0]["id"]
    r = me.post(f"/api/v1/me/notifications/{first}/read")
    assert r.status_code == 200 and r.get_json()["read_at"]
    assert me.get("/api/v1/me/notifications/unread").get_json() == {"unread": 2}
    assert [m["args"][0] for m in other.get_received() if m["name"] == "notification.read"] == [
        {"ids": [first], "unread": 2}]
    assert len(me.get("/api/v1/me/notifications?unread=true").get_json()["items"]) == 2
    # Somebody else's line is no line of mine.
    chairs = lines(chair)[0].id
    assert me.post(f"/api/v1/me/notifications/{chairs}/read").status_code == 404
    assert me.post("/api/v1/me/notifications/read-all").get_json() == {"unread": 0, "marked": 2}
    assert as_user("chair").get("/api/v1/me/notifications/unread").get_json() == {"unread": 1}
    assert as_user(None).get("/api/v1/me/notifications").status_code == 401
    other.disconnect()


def test_my_settings(app, world, as_user):
    me = as_user("delegate")
    assert me.get("/api/v1/me/notification-settings").get_json() == {
        "email": True, "sms": True, "push": True, "inapp": True, "quiet_from": None, "quiet_until": None}
    r = me.put("/api/v1/me/notification-settings", json={"sms": False, "quiet_from": "22:00", "quiet_until": "06:30"})
    assert r.status_code == 200 and r.get_json()["sms"] is False and r.get_json()["quiet_until"] == "06:30"
    assert me.put("/api/v1/me/notification-settings", json={"quiet_from": "25:00"}).status_code == 422
    assert me.put("/api/v1/me/notification-settings", json={"quiet_from": None}).status_code == 422  # one end only
    assert me.get("/api/v1/me/notification-settings").get_json()["quiet_from"] == "22:00"


def test_body_settings_are_the_secretariats(app, world, as_user):
    body_id = world.body.id
    url = f"/api/v1/bodies/{body_id}/notification-settings"
    admin = as_user("admin")
    got = admin.get(url).get_json()
    assert got["reminder_offsets"] == [1440, 60] and got["deadline_offsets"]["poll"] == [2]
    assert got["channels"]["reminder"] == ["email", "sms", "push", "inapp"] and got["channels"]["poll"] == ["inapp"]
    r = admin.put(url, json={"reminder_offsets": [60, 2880, 60], "channels": {"document": ["inapp", "email"]}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["reminder_offsets"] == [2880, 60] and r.get_json()["channels"]["document"] == ["email", "inapp"]
    assert admin.put(url, json={"channels": {"document": ["fax"]}}).status_code == 422
    assert admin.put(url, json={"channels": {"gossip": ["email"]}}).status_code == 422
    assert admin.put(url, json={"deadline_offsets": {"nonsense": [60]}}).status_code == 422  # no such source
    assert admin.put(url, json={"reminder_offsets": [0]}).status_code == 422
    # The meeting's secretary is not the body's secretariat; a delegate neither.
    assert as_user("secretary").get(url).status_code == 403
    assert as_user("delegate").put(url, json={"reminder_offsets": [5]}).status_code == 403
    assert admin.get("/api/v1/bodies/999999/notification-settings").status_code == 404
    with app.app_context():
        from meetings.bodies.models import BodyMember

        member = db.session.query(BodyMember).filter_by(body_id=body_id, user_id=world.users["secretary"].id).one()
        member.is_secretariat = True
        db.session.commit()
    assert as_user("secretary").put(url, json={"reminder_offsets": None}).get_json()["reminder_offsets"] == [1440, 60]
