"""Units of a body (departments): REST and service, permissions, audit, the bulk lookup for imports."""
from __future__ import annotations

from sqlalchemy import func, select

from meetings.bodies import units
from meetings.bodies.models import Body, BodyMember
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry


def _actions() -> list[str]:
    db.session.rollback()
    # Only the units' entries: issuing each caller's token is audited too.
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("unit.%"))
                                   .order_by(AuditEntry.id)))


def _make_secretariat(world, name: str) -> None:
    member = db.session.scalars(select(BodyMember).where(
        BodyMember.body_id == world.body.id, BodyMember.user_id == world.users[name].id)).one()
    member.is_secretariat = True
    db.session.commit()


def test_office_creates_staffs_renames_and_deactivates_a_unit(world, as_user):
    admin = as_user("admin")
    r = admin.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "  Sở   Tài chính ", "short_name": "STC",
                                                                 "email": "stc@meetings.test"})
    assert r.status_code == 201, r.json
    unit = r.json
    assert unit["name"] == "Sở Tài chính" and unit["short_name"] == "STC" and unit["active"] and unit["members"] == []
    # the same name again (spaces aside) is a conflict
    r = admin.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở Tài chính"})
    assert r.status_code == 409 and r.json["error"]["code"] == "unit_exists"

    r = admin.post(f"/api/v1/units/{unit['id']}/members", json={"user_id": world.delegate2.id})
    assert r.status_code == 201
    r = admin.post(f"/api/v1/units/{unit['id']}/members", json={"user_id": world.delegate.id, "is_head": True})
    assert r.status_code == 201 and r.json["is_head"] is True
    r = admin.post(f"/api/v1/units/{unit['id']}/members", json={"user_id": world.delegate2.id, "is_head": False})
    assert r.status_code == 200  # an update, not a second row
    # The head first, though added second: in the members list, in the unit and in the body's list alike.
    heads_first = [world.delegate.id, world.delegate2.id]
    assert [m["user_id"] for m in admin.get(f"/api/v1/units/{unit['id']}/members").json] == heads_first
    assert [m["user_id"] for m in admin.get(f"/api/v1/units/{unit['id']}").json["members"]] == heads_first
    listed = admin.get(f"/api/v1/bodies/{world.body.id}/units").json
    assert [m["user_id"] for m in listed[0]["members"]] == heads_first
    assert admin.post(f"/api/v1/units/{unit['id']}/members", json={"user_id": 999999}).status_code == 422

    r = admin.patch(f"/api/v1/units/{unit['id']}", json={"name": "Sở Tài chính tỉnh"})
    assert r.status_code == 200 and r.json["name"] == "Sở Tài chính tỉnh"
    assert admin.delete(f"/api/v1/units/{unit['id']}/members/{world.delegate2.id}").status_code == 204
    assert admin.delete(f"/api/v1/units/{unit['id']}/members/{world.delegate2.id}").status_code == 404

    r = admin.delete(f"/api/v1/units/{unit['id']}")
    assert r.status_code == 200 and r.json["active"] is False
    assert admin.get(f"/api/v1/bodies/{world.body.id}/units").json == []
    listed = admin.get(f"/api/v1/bodies/{world.body.id}/units?include_inactive=true").json
    assert [u["id"] for u in listed] == [unit["id"]]
    assert _actions()[-7:] == ["unit.created", "unit.member_added", "unit.member_added", "unit.member_updated",
                               "unit.updated", "unit.member_removed", "unit.deactivated"]


def test_the_body_secretariat_may_change_units_others_may_only_read(world, as_user):
    _make_secretariat(world, "secretary")
    r = as_user("secretary").post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở Xây dựng"})
    assert r.status_code == 201
    unit_id = r.json["id"]
    before = _actions()
    for name in ("chair", "delegate", "observer", "outsider", "archivist"):
        client = as_user(name)
        assert client.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở Y tế"}).status_code == 403
        assert client.patch(f"/api/v1/units/{unit_id}", json={"name": "Khác"}).status_code == 403
        assert client.post(f"/api/v1/units/{unit_id}/members", json={"user_id": world.delegate.id}).status_code == 403
        assert client.delete(f"/api/v1/units/{unit_id}").status_code == 403
        assert client.get(f"/api/v1/units/{unit_id}").status_code == 200
    assert _actions() == before  # refusals change nothing
    # the secretariat of another body is not this body's office
    other = Body(name="Hội đồng nhân dân tỉnh Khác")
    db.session.add(other)
    db.session.flush()
    db.session.add(BodyMember(body_id=other.id, user_id=world.outsider.id, is_secretariat=True))
    db.session.commit()
    assert as_user("outsider").post(f"/api/v1/bodies/{world.body.id}/units",
                                    json={"name": "Sở Y tế"}).status_code == 403
    assert as_user("outsider").post(f"/api/v1/bodies/{other.id}/units", json={"name": "Sở Y tế"}).status_code == 201
    assert as_user("outsider").get("/api/v1/units/999999").status_code == 404


def test_unit_of_user_and_bulk_find_or_create(app, world):
    body = db.session.get(Body, world.body.id)
    admin = db.session.merge(world.admin)
    stc = units.create_unit(db.session, body, admin, name="Sở Tài chính", short_name="STC")
    kh = units.create_unit(db.session, body, admin, name="Sở Kế hoạch và Đầu tư")
    units.set_unit_member(db.session, stc, admin, user_id=world.delegate.id)
    units.set_unit_member(db.session, kh, admin, user_id=world.delegate.id, is_head=True)
    db.session.commit()
    assert units.unit_of_user(db.session, body.id, world.delegate.id).id == kh.id  # the unit they head first
    assert units.unit_of_user(db.session, body.id, world.outsider.id) is None
    assert units.unit_ids_of_user(db.session, world.delegate.id) == {stc.id, kh.id}

    before = len(_actions())
    names = ["SỞ TÀI CHÍNH", "STC", " Sở  Nội vụ ", "Sở Nội vụ", "", "Sở Y tế"]
    got = units.find_or_create_by_names(db.session, body, names)
    db.session.commit()
    assert got["SỞ TÀI CHÍNH"].id == stc.id and got["STC"].id == stc.id
    assert got[" Sở  Nội vụ "].id == got["Sở Nội vụ"].id and got["Sở Nội vụ"].name == "Sở Nội vụ"
    assert "" not in got and got["Sở Y tế"].name == "Sở Y tế"
    assert len(_actions()) == before + 2  # two units created, each audited
    assert sorted(u.name for u in units.units_of(db.session, body)) == [
        "Sở Kế hoạch và Đầu tư", "Sở Nội vụ", "Sở Tài chính", "Sở Y tế"]
    # again: nothing new
    units.find_or_create_by_names(db.session, body, ["Sở Nội vụ", "Sở Y tế"])
    db.session.commit()
    assert len(units.units_of(db.session, body)) == 4


def test_two_screens_at_the_same_moment_get_a_conflict_not_a_500(app, world, as_user, monkeypatch):
    """Two office screens create the same unit, or add the same member, at once: the database's unique
    constraints decide, and the loser gets 409 with its session still usable."""
    from sqlalchemy.orm import Session

    from meetings.bodies.unit_models import Unit, UnitMember
    from meetings.core.errors import Conflict

    admin = as_user("admin")
    unit = admin.post(f"/api/v1/bodies/{world.body.id}/units", json={"name": "Sở Xây dựng"}).json
    with app.app_context():
        stale = Session(bind=db.engine, expire_on_commit=False)
        try:
            body, actor = stale.get(Body, world.body.id), stale.get(type(world.admin), world.admin.id)
            seen = stale.get(Unit, unit["id"])
            assert seen.members == []  # read before the other screen adds the member
            stale.commit()  # its read is over (on SQLite a reader open would hold the writer back)
            assert admin.post(f"/api/v1/units/{unit['id']}/members", json={"user_id": world.delegate.id}
                              ).status_code == 201
            try:
                units.set_unit_member(stale, seen, actor, user_id=world.delegate.id)
                raise AssertionError("a second row for the same member")
            except Conflict as exc:
                assert exc.code == "conflict"
            # the other screen's name check ran before this one committed the same name
            monkeypatch.setattr(units, "_name_taken", lambda *a, **k: False)
            try:
                units.create_unit(stale, body, actor, name="Sở Xây dựng")
                raise AssertionError("a second unit of the same name")
            except Conflict as exc:
                assert exc.code == "unit_exists"
            assert stale.get(Unit, unit["id"]).name == "Sở Xây dựng"  # the session still answers
        finally:
            stale.rollback()
            stale.close()
    db.session.rollback()
    assert db.session.scalar(select(func.count(UnitMember.id)).where(UnitMember.unit_id == unit["id"])) == 1
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.name == "Sở Xây dựng")) == 1
