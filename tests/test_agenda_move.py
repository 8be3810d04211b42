"""Moving agenda items: a sub-item to another item at a given place, in one request."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from meetings.bodies.models import AgendaItem
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.factories import ROLES


@pytest.fixture
def agenda(as_user, world):
    """Item 1 with sub-items a, b, c; item 2 with x, y; item 3 with none (the world's scheduled meeting)."""
    for name in ROLES:
        as_user.token(name)
    sec = as_user("secretary")
    one, two, three = (i.id for i in world.items)
    subs = {}
    for parent, titles in ((one, "abc"), (two, "xy")):
        for t in titles:
            r = sec.post(f"/api/v1/meetings/{world.meeting.id}/items", json={"title": t, "parent_id": parent})
            assert r.status_code == 201, r.get_data(as_text=True)
            subs[t] = r.json["id"]
    return {"one": one, "two": two, "three": three, **subs}


def level(parent_id):
    db.session.remove()
    return [(i.title, i.position) for i in db.session.execute(
        select(AgendaItem).where(AgendaItem.parent_id == parent_id).order_by(AgendaItem.position)).scalars()]


def counts():
    db.session.remove()
    return (db.session.execute(select(func.count(AuditEntry.id))).scalar_one(),
            db.session.execute(select(func.count(MeetingEvent.id))).scalar_one(),
            tuple(db.session.execute(select(AgendaItem.id, AgendaItem.parent_id, AgendaItem.position)
                                     .order_by(AgendaItem.id)).all()))


def test_a_sub_item_moves_to_another_item_where_it_was_dropped(as_user, world, agenda):
    response = as_user("secretary").post(f"/api/v1/items/{agenda['b']}/move",
                                         json={"parent_id": agenda["two"], "position": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    # Both levels renumbered 0, 1, 2… with no gap and no duplicate.
    assert level(agenda["one"]) == [("a", 0), ("c", 1)]
    assert level(agenda["two"]) == [("x", 0), ("b", 1), ("y", 2)]
    # The answer is the whole agenda after the move.
    tree = {i["id"]: [s["title"] for s in i["sub_items"]] for i in response.json}
    assert tree[agenda["two"]] == ["x", "b", "y"] and tree[agenda["one"]] == ["a", "c"]
    db.session.remove()
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "agenda.item_moved")).scalar_one()
    assert entry.details == {"from_parent_id": agenda["one"], "parent_id": agenda["two"], "position": 1}
    event = db.session.execute(select(MeetingEvent).where(MeetingEvent.meeting_id == world.meeting.id)
                               .order_by(MeetingEvent.seq.desc())).scalars().first()
    assert event.type == "agenda.changed" and event.data["action"] == "moved"


def test_moves_within_a_level_to_an_empty_item_to_the_top_and_past_the_end(as_user, world, agenda):
    sec = as_user("secretary")
    assert sec.post(f"/api/v1/items/{agenda['c']}/move", json={"parent_id": agenda["one"], "position": 0}).status_code \
        == 200
    assert level(agenda["one"]) == [("c", 0), ("a", 1), ("b", 2)]
    assert sec.post(f"/api/v1/items/{agenda['a']}/move", json={"parent_id": agenda["three"],
                                                               "position": 7}).status_code == 200
    assert level(agenda["three"]) == [("a", 0)] and level(agenda["one"]) == [("c", 0), ("b", 1)]
    # Promoted to the top level, second place.
    assert sec.post(f"/api/v1/items/{agenda['b']}/move", json={"parent_id": None, "position": 1}).status_code == 200
    assert [t for t, _ in level(None)] == ["Nội dung 1", "b", "Nội dung 2", "Nội dung 3"]
    assert [p for _, p in level(None)] == [0, 1, 2, 3]


def test_refused_moves_change_nothing(as_user, world, agenda):
    sec = as_user("secretary")
    before = counts()
    cases = [
        (agenda["one"], {"parent_id": agenda["two"], "position": 0}, 422),   # an item with sub-items
        (agenda["a"], {"parent_id": agenda["x"], "position": 0}, 422),       # two levels deep
        (agenda["three"], {"parent_id": agenda["three"], "position": 0}, 422),  # under itself
        (agenda["a"], {"parent_id": 2**31 - 1, "position": 0}, 422),         # not an item of the meeting
        (agenda["a"], {"parent_id": agenda["two"], "position": -1}, 422),
        (agenda["a"], {"parent_id": agenda["two"]}, 422),
    ]
    for item, body, status in cases:
        response = sec.post(f"/api/v1/items/{item}/move", json=body)
        assert response.status_code == status, (body, response.get_data(as_text=True))
    for name, status in (("chair", 403), ("delegate", 403), ("outsider", 404), (None, 401)):
        response = as_user(name).post(f"/api/v1/items/{agenda['a']}/move",
                                      json={"parent_id": agenda["two"], "position": 0})
        assert response.status_code == status, name
    assert counts() == before
