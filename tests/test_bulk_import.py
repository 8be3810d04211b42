"""Bulk import of users and participants from CSV and XLSX lists; a body's members into a meeting."""
from __future__ import annotations

import csv
import io
import unicodedata
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from meetings.accounts.models import User
from meetings.accounts.service import check_password
from meetings.bodies import imports
from meetings.bodies.import_rows import read_sheet
from meetings.bodies.models import Body, BodyMember, Participant
from meetings.bodies.unit_models import Unit, UnitMember
from meetings.core.extensions import db
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.factories import build_draft_meeting

VI_HEADER = ["Họ và tên", "Tên đăng nhập", "Thư điện tử", "Điện thoại", "Đơn vị", "Vai trò",
             "Quyền biểu quyết", "Trọng số"]
EN_HEADER = ["name", "username", "e-mail", "phone", "unit", "role", "voting right", "weight"]
PEOPLE = [
    ["Nguyễn Văn An", "an.nguyen", "an.nguyen@ubnd.vn", "0912 345 678", "Sở Tài chính", "đại biểu", "có", "1"],
    ["Trần Thị Bích Ngọc", "ngoc.tran", "ngoc.tran@ubnd.vn", "", "Sở Xây dựng", "khách mời", "không", ""],
    ["Lê Hoàng Đức", "", "duc.le@ubnd.vn", "84987654321", "Sở Tài chính", "", "", "2"],
]


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: precomposed vowels (â, ư, ơ …) and a combining tone mark."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tones)
    return "".join(out).encode("cp1258")


def csv_bytes(rows, header=VI_HEADER, *, bom=True, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = windows_1258(out.getvalue()) if encoding == "cp1258" else out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


def xlsx_bytes(rows, header=EN_HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([int(v) if isinstance(v, str) and v.isdigit() and len(v) < 4 else (v or None) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, meeting_id, data, *, mode=None, name="danh-sach.csv", query="", **form):
    fields = {"file": (io.BytesIO(data), name), **form}
    if mode:
        fields["mode"] = mode
    return client.post(f"/api/v1/meetings/{meeting_id}/participants/import{query}", data=fields,
                       content_type="multipart/form-data")


def state() -> dict[str, int]:
    """What an import can write, counted."""
    db.session.remove()
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return {"users": count(User), "participants": count(Participant), "units": count(Unit),
            "unit_members": count(UnitMember), "body_members": count(BodyMember), "audit": count(AuditEntry),
            "events": count(MeetingEvent)}


def participant(meeting_id, username):
    db.session.remove()
    return db.session.execute(select(Participant).join(User, User.id == Participant.user_id).where(
        Participant.meeting_id == meeting_id, User.username == username)).scalar_one_or_none()


# ----------------------------------------------------------------------------- reading the file

@pytest.mark.parametrize("make", [
    lambda: csv_bytes(PEOPLE),
    lambda: csv_bytes(PEOPLE, bom=False),
    lambda: csv_bytes(PEOPLE, EN_HEADER, delimiter=";"),
    lambda: csv_bytes(PEOPLE, encoding="cp1258"),
    lambda: xlsx_bytes(PEOPLE),
    lambda: xlsx_bytes(PEOPLE, VI_HEADER),
], ids=["csv-bom", "csv-utf8", "csv-semicolon-en", "csv-cp1258", "xlsx-en", "xlsx-vi"])
def test_every_format_reads_the_same_people(make):
    sheet = read_sheet(make())
    assert sheet.all_errors() == []
    got = [(r.number, r.full_name, r.username, r.email, r.phone, r.unit, r.role, r.can_vote, r.vote_weight)
           for r in sheet.rows]
    assert got == [
        (2, "Nguyễn Văn An", "an.nguyen", "an.nguyen@ubnd.vn", "0912345678", "Sở Tài chính", "delegate", True, 1),
        (3, "Trần Thị Bích Ngọc", "ngoc.tran", "ngoc.tran@ubnd.vn", None, "Sở Xây dựng", "observer", False, None),
        (4, "Lê Hoàng Đức", None, "duc.le@ubnd.vn", "84987654321", "Sở Tài chính", None, None, 2),
    ]


def test_bad_rows_get_an_error_each_with_row_and_column():
    rows = [
        ["", "no.name", "", "", "", "", "", ""],                                   # 2: missing name
        ["Phạm Văn Bình", "binh", "not-an-email", "", "", "", "", ""],            # 3: bad e-mail
        ["Phạm Văn Bình", "binh", "", "", "", "phó chủ tịch", "", ""],            # 4: duplicate username, role
        ["Vũ Thị Hà", "ha", "", "", "", "", "", "0"],                             # 5: weight 0
        ["Đỗ Minh", "minh", "", "", "", "", "", "1.5"],                           # 6: weight not whole
        ["Hồ Thu", "thu", "", "", "", "khách mời", "có", ""],                     # 7: observer votes
        ["Ngô Lan", "lan", "", "", "", "", "chắc chắn", ""],                      # 8: not yes/no
    ]
    errors = {(e.row, e.column, e.code) for e in read_sheet(csv_bytes(rows)).all_errors()}
    assert errors == {(2, "full_name", "missing_name"), (3, "email", "bad_email"),
                      (4, "username", "duplicate_username"), (4, "role", "unknown_role"),
                      (5, "vote_weight", "bad_weight"), (6, "vote_weight", "bad_weight"),
                      (7, "can_vote", "observer_cannot_vote"), (8, "can_vote", "bad_yes_no")}


def test_a_file_without_a_name_column_or_unreadable_is_refused(as_user, world):
    assert read_sheet(csv_bytes([["x"]], ["Tên đăng nhập"])).errors[0].code == "missing_column"
    r = upload(as_user("secretary"), world.meeting.id, b"PK\x03\x04 broken zip", name="ds.xlsx")
    assert r.status_code == 422 and r.json["error"]["code"] == "unreadable_file"
    r = upload(as_user("secretary"), world.meeting.id, b"")
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_file"
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes([["x" * 200_000, "x"]]))
    assert r.status_code == 422 and r.json["error"]["code"] == "unreadable_file"  # over csv's field limit
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\0" * (101 * 1024 * 1024))
    r = upload(as_user("secretary"), world.meeting.id, bomb.getvalue(), name="ds.xlsx")
    assert r.status_code == 422 and r.json["error"]["code"] == "zip_bomb"


def test_control_characters_never_reach_the_database(as_user, world):
    rows = [["Nguyễn\x00 Văn\x07An", "an\x00", "", "", "Sở\x00Tài chính", "", "", ""]]
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 200, r.json
    db.session.remove()
    assert db.session.scalar(select(User.full_name).where(User.username == "an")) == "Nguyễn Văn An"


# ----------------------------------------------------------------------------- dry run and apply

def test_dry_run_writes_nothing_then_apply_then_again_changes_nothing(as_user, world):
    mid, data = world.meeting.id, xlsx_bytes(PEOPLE, VI_HEADER)
    as_user("secretary")  # its token is issued (and audited) before counting
    before = state()
    r = upload(as_user("secretary"), mid, data, name="danh-sach.xlsx")
    assert r.status_code == 200, r.json
    preview = r.json
    assert preview["dry_run"] is True and preview["format"] == "xlsx" and preview["errors"] == []
    assert preview["counts"].items() >= {"users_created": 3, "participants_added": 3, "units_created": 2,
                                         "unit_memberships_added": 3}.items()
    assert [row["user"] for row in preview["rows"]] == ["new", "new", "new"]
    assert preview["rows"][2]["username"] == "duc.le"  # made from the e-mail
    assert state() == before  # the dry run wrote nothing
    r = upload(as_user("secretary"), mid, data, mode="apply", name="danh-sach.xlsx",
               file_sha256=preview["file_sha256"])
    assert r.status_code == 200, r.json
    assert r.json["applied"] is True and r.json["counts"]["participants_added"] == 3
    after = state()
    assert after["users"] == before["users"] + 3 and after["participants"] == before["participants"] + 3
    assert after["units"] == 2 and after["unit_members"] == 3
    assert after["events"] == before["events"] + 1  # one participants.changed, not one per row
    db.session.remove()
    an = db.session.scalar(select(User).where(User.username == "an.nguyen"))
    assert an.full_name == "Nguyễn Văn An" and an.phone == "0912345678" and not check_password(an, "!import")
    p = participant(mid, "ngoc.tran")
    assert (p.role, p.can_vote, p.vote_weight) == ("observer", False, 1)
    assert participant(mid, "duc.le").vote_weight == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "participants.imported"))
    assert entry.details["participants_added"] == 3 and entry.actor_id == world.secretary.id
    again = upload(as_user("secretary"), mid, data, mode="apply", name="danh-sach.xlsx")
    assert again.status_code == 200 and again.json["counts"]["users_created"] == 0
    assert [row["participant"] for row in again.json["rows"]] == ["same"] * 3
    assert state() == after  # applied twice: nothing changed, nothing announced


def test_apply_with_a_bad_row_writes_nothing(as_user, world):
    rows = [*PEOPLE, ["Bùi Văn Tâm", "tam", "tam@@ubnd", "", "Sở Nội vụ", "", "", ""]]
    as_user("secretary")
    before = state()
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 422 and r.json["error"]["code"] == "import_errors"
    assert r.json["error"]["details"]["errors"] == [
        {"row": 5, "column": "email", "code": "bad_email", "message": "'tam@@ubnd' is not an e-mail address."}]
    assert state() == before  # all or nothing: not the three good rows either
    preview = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows)).json
    assert preview["rows"][3]["errors"][0]["code"] == "bad_email" and preview["rows"][0]["errors"] == []


def test_apply_refuses_a_file_other_than_the_one_previewed(as_user, world):
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(PEOPLE), mode="apply", file_sha256="0" * 64)
    assert r.status_code == 422 and r.json["error"]["code"] == "file_changed"
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(PEOPLE), mode="apply", query="?dry_run=1")
    assert r.status_code == 422
    assert upload(as_user("secretary"), world.meeting.id, csv_bytes(PEOPLE), query="?dry_run=0").json["applied"]


def test_existing_accounts_and_participants_are_updated(as_user, world):
    mid = world.meeting.id
    rows = [["Người dùng delegate (đã đổi)", "delegate", "delegate@ubnd.vn", "", "Văn phòng", "đại biểu", "có", "3"],
            ["Người dùng observer", "observer", "", "", "", "thư ký", "", ""]]
    preview = upload(as_user("admin"), mid, csv_bytes(rows)).json
    assert [(r["user"], r["participant"]) for r in preview["rows"]] == [("update", "update"), ("same", "update")]
    assert preview["rows"][0]["user_changes"] == ["email", "full_name"]
    r = upload(as_user("admin"), mid, csv_bytes(rows), mode="apply")
    assert r.status_code == 200, r.json
    db.session.remove()
    delegate = db.session.get(User, world.delegate.id)
    assert (delegate.full_name, delegate.email) == ("Người dùng delegate (đã đổi)", "delegate@ubnd.vn")
    assert participant(mid, "delegate").vote_weight == 3
    observer = participant(mid, "observer")
    # The observer becomes a secretary; the file does not say the voting right: it is kept (none).
    assert (observer.role, observer.can_vote) == ("secretary", False)


def test_usernames_match_whatever_their_case(as_user, world):
    rows = [["Người dùng delegate", "Delegate", "", "", "", "", "", ""]]
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 200 and r.json["rows"][0]["user"] == "same" and r.json["counts"]["users_created"] == 0


def test_only_an_administrator_changes_an_existing_account(as_user, world):
    rows = [["Tên khác", "chair", "chair@elsewhere.vn", "", "", "", "", ""]]
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 200 and r.json["warnings"][0]["code"] == "account_kept"
    db.session.remove()
    assert db.session.get(User, world.chair.id).full_name == "Người dùng chair"


def test_a_second_chair_and_an_e_mail_of_another_account_are_refused(as_user, world):
    db.session.get(User, world.outsider.id).email = "outsider@ubnd.vn"
    db.session.commit()
    rows = [["Chủ tọa mới", "new.chair", "", "", "", "chủ tọa", "", ""],
            ["Ai đó", "someone", "outsider@ubnd.vn", "", "", "", "", ""]]
    errors = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows)).json["errors"]
    assert {(e["row"], e["code"]) for e in errors} == {(2, "chair_taken"), (3, "email_taken")}


def test_the_chair_can_be_handed_over_in_one_file(as_user, world):
    rows = [["Chủ tọa mới", "new.chair", "newchair@ubnd.vn", "", "", "chủ tọa", "", ""],
            ["Người dùng chair", "chair", "", "", "", "đại biểu", "", ""]]  # the old chair, after the new one
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 200, r.json
    assert participant(world.meeting.id, "new.chair").role == "chair"
    assert participant(world.meeting.id, "chair").role == "delegate"


def test_a_user_of_another_body_joins_by_username_and_a_unit_of_this_body(as_user, world):
    other = Body(name="Hội đồng nhân dân tỉnh", short_name="HĐND")
    db.session.add(other)
    db.session.flush()
    db.session.add(BodyMember(body_id=other.id, user_id=world.outsider.id))
    db.session.commit()
    rows = [["Người dùng outsider", "outsider", "", "", "Ban Pháp chế", "đại biểu", "", ""]]
    r = upload(as_user("secretary"), world.meeting.id, csv_bytes(rows), mode="apply")
    assert r.status_code == 200 and r.json["rows"][0]["user"] == "same"
    assert participant(world.meeting.id, "outsider").role == "delegate"
    unit = db.session.scalar(select(Unit).where(Unit.name == "Ban Pháp chế"))
    assert unit.body_id == world.body.id  # the meeting's body's unit, not the other body's


def test_who_may_import(as_user, world):
    data = csv_bytes(PEOPLE)
    for who in ("delegate", "chair", "observer", "outsider"):
        as_user(who)
    before = state()
    for who, status in (("delegate", 403), ("chair", 403), ("observer", 403), ("outsider", 404), (None, 401)):
        assert upload(as_user(who), world.meeting.id, data).status_code == status, who
        assert upload(as_user(who), world.meeting.id, data, mode="apply").status_code == status, who
    assert state() == before
    assert upload(as_user("admin"), world.meeting.id, data).status_code == 200


# ----------------------------------------------------------------------------- a body

def test_body_import_is_for_administrators(as_user, world):
    rows = [["Nguyễn Văn An", "an.nguyen", "an@ubnd.vn", "", "Sở Tài chính", "", "", "", "Giám đốc", "có"]]
    data = csv_bytes(rows, [*VI_HEADER, "Chức vụ", "Tổ thư ký"])
    url = f"/api/v1/bodies/{world.body.id}/members/import"
    send = lambda who, **form: as_user(who).post(url, data={"file": (io.BytesIO(data), "ds.csv"), **form},  # noqa: E731
                                                   content_type="multipart/form-data")
    assert send("secretary").status_code == 403 and send("secretary", mode="apply").status_code == 403
    r = send("admin", mode="apply")
    assert r.status_code == 200 and r.json["counts"]["members_added"] == 1, r.json
    db.session.remove()
    member = db.session.execute(select(BodyMember).join(User, User.id == BodyMember.user_id).where(
        User.username == "an.nguyen")).scalar_one()
    assert (member.body_id, member.position, member.is_secretariat) == (world.body.id, "Giám đốc", True)
    assert send("admin", mode="apply").json["counts"]["members_added"] == 0


def test_all_members_of_the_body_join_a_meeting_in_one_step(as_user, world):
    draft = build_draft_meeting(db.session, world)
    for p in list(draft.participants):
        db.session.delete(p)
    db.session.get(BodyMember, db.session.scalar(select(BodyMember.id).where(
        BodyMember.user_id == world.secretary.id))).is_secretariat = True
    db.session.commit()
    url = f"/api/v1/meetings/{draft.id}/participants/from-body"
    assert as_user("delegate").post(url, json={}).status_code == 404  # a draft: not even seen
    r = as_user("admin").post(url, json={})
    assert r.status_code == 200 and r.json == {"added": 5, "already": 0, "participants": 5}
    assert participant(draft.id, "secretary").role == "secretary"
    assert (participant(draft.id, "delegate").role, participant(draft.id, "delegate").can_vote) == ("delegate", True)
    assert as_user("admin").post(url, json={}).json == {"added": 0, "already": 5, "participants": 5}


# ----------------------------------------------------------------------------- scale and the CLI

def test_a_thousand_rows_in_one_file(as_user, world):
    draft = build_draft_meeting(db.session, world)
    rows = [[f"Đại biểu số {i}", f"db{i:04d}", f"db{i:04d}@ubnd.vn", "", f"Đơn vị {i % 20}", "đại biểu", "có", "1"]
            for i in range(1000)]
    r = upload(as_user("secretary"), draft.id, xlsx_bytes(rows, VI_HEADER), mode="apply", name="1000.xlsx")
    assert r.status_code == 200, r.json["error"] if "error" in r.json else None
    assert r.json["counts"]["participants_added"] == 1000 and r.json["counts"]["units_created"] == 20
    assert state()["unit_members"] == 1000


def test_the_cli_previews_and_applies(app, world, tmp_path):
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(csv_bytes(PEOPLE))
    runner = app.test_cli_runner()
    before = state()
    result = runner.invoke(args=["import-participants", str(path), "--meeting", str(world.meeting.id), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Nguyễn Văn An" in result.output and "dry run" in result.output and state() == before
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([*PEOPLE, ["", "x", "", "", "", "", "", ""]]))
    result = runner.invoke(args=["import-participants", str(bad), "--meeting", str(world.meeting.id)])
    assert result.exit_code == 1 and "missing_name" in result.output and state() == before
    result = runner.invoke(args=["import-participants", str(path), "--meeting", str(world.meeting.id)])
    assert result.exit_code == 0 and "applied" in result.output, result.output
    assert state()["participants"] == before["participants"] + 3
    result = runner.invoke(args=["import-participants", str(path), "--meeting", str(world.meeting.id),
                                 "--as", "delegate"])
    assert result.exit_code == 1 and "secretariat" in result.output


def test_the_cli_imports_a_body_s_members(app, world, tmp_path):
    path = tmp_path / "thanh-vien.xlsx"
    path.write_bytes(xlsx_bytes(PEOPLE))
    result = app.test_cli_runner().invoke(args=["import-participants", str(path), "--body", str(world.body.id)])
    assert result.exit_code == 0 and "members_added=3" in result.output, result.output
    result = app.test_cli_runner().invoke(args=["import-participants", str(path)])
    assert result.exit_code == 2 and "--meeting ID or --body ID" in result.output


def test_service_dry_run_and_apply_agree(app, world):
    with app.app_context():
        meeting = db.session.get(type(world.meeting), world.meeting.id)
        actor = db.session.get(User, world.secretary.id)
        preview = imports.preview_meeting(db.session, meeting, actor, csv_bytes(PEOPLE))
        db.session.rollback()
        applied = imports.import_meeting(db.session, meeting, actor, csv_bytes(PEOPLE))
        db.session.commit()
        assert preview["counts"] == applied["counts"]
