"""The demo: one provincial People's Committee, one upcoming meeting, sixteen users.

``flask --app wsgi demo load`` (run by ``make run``) calls :func:`load_demo`.
Everything is looked up by its natural key first (usernames, the body's name,
the meeting's title within the body, item titles, document file names), so a
second run finds it all and changes nothing. The demo users exist only
because this loader creates them; a real installation never runs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.accounts.service import create_user
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.demo.documents import DemoDocument, compose
from meetings.documents.models import Document
from meetings.platform.audit import service as audit

PASSWORD = "demo"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BODY_NAME = "Ủy ban nhân dân tỉnh Lâm Đồng"
MEETING_TITLE = "Phiên họp thường kỳ tháng 12 năm 2026 của Ủy ban nhân dân tỉnh"
PLACE = "Phòng họp tầng 3, trụ sở UBND tỉnh"
# A fixed issue date keeps the documents byte-identical from run to run.
ISSUED = "Lâm Đồng, ngày 20 tháng 11 năm 2026"

# username → (full name, position in the body, global role)
STAFF = {
    "admin": ("Quản trị hệ thống", None, "admin"),
    "archivist": ("Trương Thị Ngân", None, "archivist"),
    "secretary": ("Phan Thị Thanh Hà", "Chánh Văn phòng UBND tỉnh", None),
    "chair": ("Nguyễn Văn An", "Chủ tịch UBND tỉnh", None),
}
DELEGATES = [
    ("Trần Thị Bích Ngọc", "Phó Chủ tịch UBND tỉnh"),
    ("Lê Hoàng Dũng", "Phó Chủ tịch UBND tỉnh"),
    ("Phạm Minh Tuấn", "Giám đốc Sở Tài chính"),
    ("Hoàng Thị Thu Hương", "Giám đốc Sở Nội vụ"),
    ("Vũ Đức Thắng", "Giám đốc Sở Xây dựng"),
    ("Đặng Thị Lan Anh", "Giám đốc Sở Khoa học và Công nghệ"),
    ("Bùi Quốc Khánh", "Giám đốc Sở Nông nghiệp và Môi trường"),
    ("Đỗ Thị Hồng Nhung", "Giám đốc Sở Y tế"),
    ("Ngô Văn Hải", "Giám đốc Sở Giáo dục và Đào tạo"),
    ("Dương Thị Mỹ Duyên", "Giám đốc Sở Văn hóa, Thể thao và Du lịch"),
    ("Lý Văn Phước", "Chánh Thanh tra tỉnh"),
    ("Huỳnh Thị Kim Oanh", "Giám đốc Sở Tư pháp"),
]
USERNAMES = [*STAFF, *(f"delegate{i}" for i in range(1, len(DELEGATES) + 1))]


@dataclass
class DemoItem:
    title: str
    minutes: int
    document: DemoDocument | None = None
    filename: str = ""
    children: list[DemoItem] = field(default_factory=list)


def _item(title, minutes, filename, document, children=()) -> DemoItem:
    return DemoItem(title, minutes, document, filename, list(children))


AGENDA = [
    _item("Báo cáo tình hình kinh tế - xã hội năm 2026, phương hướng, nhiệm vụ năm 2027", 40,
          "bao-cao-kinh-te-xa-hoi-2026.pdf", DemoDocument(
              "215/BC-UBND", "BÁO CÁO", "Tình hình kinh tế - xã hội năm 2026 và phương hướng, nhiệm vụ năm 2027",
              "economy", ["Kết quả thực hiện các chỉ tiêu chủ yếu", "Kết quả trên các lĩnh vực",
                          "Tồn tại, hạn chế và nguyên nhân", "Phương hướng, nhiệm vụ năm 2027",
                          "Giải pháp chủ yếu"],
              "Bảng 1. Một số chỉ tiêu kinh tế - xã hội chủ yếu",
              [["Chỉ tiêu", "Kế hoạch", "Ước thực hiện", "Đạt (%)"],
               ["Tốc độ tăng GRDP (%)", "7,5", "8,2", "109"],
               ["Thu ngân sách (tỷ đồng)", "19.150", "21.450", "112"],
               ["Kim ngạch xuất khẩu (triệu USD)", "1.250", "1.350", "108"],
               ["Tỷ lệ hộ nghèo (%)", "2,0", "1,8", "—"],
               ["Lượt khách du lịch (triệu)", "11,0", "12,5", "114"]], seed=11)),
    _item("Dự thảo Nghị quyết về kế hoạch đầu tư công trung hạn giai đoạn 2026–2030", 45,
          "du-thao-nghi-quyet-dau-tu-cong.pdf", DemoDocument(
              "48/TTr-UBND", "TỜ TRÌNH", "Dự thảo Nghị quyết về kế hoạch đầu tư công trung hạn giai đoạn "
              "2026–2030", "investment", ["Sự cần thiết ban hành Nghị quyết", "Nguyên tắc phân bổ vốn",
                                          "Tổng mức và cơ cấu vốn", "Tổ chức thực hiện"],
              "Bảng 2. Cơ cấu vốn đầu tư công trung hạn (tỷ đồng)",
              [["Lĩnh vực", "Ngân sách tỉnh", "Trung ương", "Tổng"],
               ["Giao thông", "9.800", "7.200", "17.000"], ["Thủy lợi, nông nghiệp", "4.100", "3.300", "7.400"],
               ["Giáo dục, y tế", "5.600", "1.900", "7.500"], ["Chuyển đổi số", "2.300", "700", "3.000"],
               ["Khác và dự phòng", "9.500", "4.200", "13.700"]], seed=22), children=[
        _item("Danh mục dự án trọng điểm sử dụng vốn ngân sách tỉnh", 15, "danh-muc-du-an-trong-diem.pdf",
              DemoDocument("49/BC-UBND", "BÁO CÁO", "Danh mục dự án trọng điểm sử dụng vốn ngân sách tỉnh",
                           "investment", ["Tiêu chí lựa chọn dự án", "Danh mục dự án", "Kiến nghị"],
                           "Bảng 3. Dự án trọng điểm (tỷ đồng)",
                           [["Dự án", "Tổng mức", "Khởi công", "Hoàn thành"],
                            ["Đường cao tốc nối vùng, đoạn qua tỉnh", "6.200", "2026", "2029"],
                            ["Hồ chứa nước Đạ Sị", "1.450", "2027", "2030"],
                            ["Bệnh viện đa khoa tỉnh, cơ sở 2", "1.100", "2026", "2028"]], seed=33)),
    ]),
    _item("Tờ trình về điều chỉnh quy hoạch sử dụng đất đến năm 2030", 30, "to-trinh-dieu-chinh-quy-hoach.pdf",
          DemoDocument("52/TTr-UBND", "TỜ TRÌNH", "Điều chỉnh quy hoạch sử dụng đất đến năm 2030 của tỉnh",
                       "planning", ["Căn cứ pháp lý", "Nội dung điều chỉnh", "Đánh giá tác động",
                                    "Đề xuất"],
                       "Bảng 4. Diện tích điều chỉnh theo loại đất (ha)",
                       [["Loại đất", "Hiện trạng", "Quy hoạch", "Điều chỉnh"],
                        ["Đất khu công nghiệp", "1.240", "2.100", "2.450"],
                        ["Đất ở đô thị", "3.870", "5.200", "5.350"],
                        ["Đất trồng lúa", "18.900", "18.100", "18.100"]],
                       confidential=True, seed=44)),
    _item("Kế hoạch chuyển đổi số tỉnh năm 2027", 25, "ke-hoach-chuyen-doi-so-2027.pdf", DemoDocument(
        "301/KH-UBND", "KẾ HOẠCH", "Chuyển đổi số tỉnh năm 2027", "digital",
        ["Mục đích, yêu cầu", "Chỉ tiêu", "Nhiệm vụ trọng tâm", "Kinh phí", "Tổ chức thực hiện"],
        "Bảng 5. Chỉ tiêu chuyển đổi số năm 2027",
        [["Chỉ tiêu", "2026", "2027", "Cơ quan chủ trì"],
         ["Hồ sơ trực tuyến toàn trình (%)", "78", "85", "Sở KH&CN"],
         ["Cuộc họp không giấy (%)", "60", "90", "Văn phòng UBND"],
         ["Văn bản ký số (%)", "100", "100", "Các sở, ngành"]], seed=55)),
    _item("Báo cáo kết quả công tác cải cách hành chính năm 2026", 20, "bao-cao-cai-cach-hanh-chinh.pdf",
          DemoDocument("230/BC-UBND", "BÁO CÁO", "Kết quả công tác cải cách hành chính năm 2026", "reform",
                       ["Công tác chỉ đạo, điều hành", "Kết quả thực hiện", "Hạn chế, nguyên nhân"],
                       "Bảng 6. Chỉ số cải cách hành chính",
                       [["Chỉ số", "2025", "2026", "Thay đổi"], ["PAR INDEX (điểm)", "84,1", "87,6", "+3,5"],
                        ["SIPAS (%)", "83,0", "86,4", "+3,4"], ["Xếp hạng", "21", "16", "+5"]], seed=66)),
    _item("Các vấn đề khác", 15, "tong-hop-kien-nghi-cu-tri.pdf", DemoDocument(
        "240/BC-UBND", "BÁO CÁO", "Tổng hợp ý kiến, kiến nghị của cử tri và các vấn đề phát sinh", "petitions",
        ["Ý kiến, kiến nghị của cử tri", "Kết quả giải quyết", "Các vấn đề phát sinh"],
        "Bảng 7. Kiến nghị theo lĩnh vực",
        [["Lĩnh vực", "Số kiến nghị", "Đã trả lời", "Đang xử lý"], ["Đất đai", "42", "35", "7"],
         ["Giao thông", "28", "25", "3"], ["Y tế, giáo dục", "19", "19", "0"]], seed=77)),
]


@dataclass
class DemoResult:
    created: bool
    meeting_id: int
    users: list[str]


def load_demo(session: Session, storage_path: str | Path, now: datetime | None = None) -> DemoResult:
    """Create whatever part of the demo is missing; the caller commits.

    Returns ``created=False`` when everything was already there.
    """
    from meetings.documents.service import add_document  # written by the documents domain

    made: list[str] = []
    shared_hash: list[str] = []
    users = {name: _user(session, name, made, shared_hash) for name in USERNAMES}
    admin_id = users["admin"].id
    body = session.execute(select(Body).where(Body.name == BODY_NAME)).scalar_one_or_none()
    if body is None:
        body = Body(name=BODY_NAME, short_name="UBND", parent_name="", place_name="Lâm Đồng",
                    minutes_copies=2, minutes_recipients=["- Thường trực Tỉnh ủy;", "- Thường trực HĐND tỉnh;",
                                                          "- Các thành viên UBND tỉnh;", "- Lưu: VT, TH."],
                    description="Dữ liệu mẫu", quorum_numerator=2, quorum_denominator=3)
        session.add(body)
        session.flush()
        audit.record(session, "body.created", actor_id=admin_id, object_type="body", object_id=body.id,
                     details={"name": BODY_NAME, "demo": True})
        made.append("body")
    _members(session, body, users, made)

    meeting = session.execute(
        select(Meeting).where(Meeting.body_id == body.id, Meeting.title == MEETING_TITLE)
    ).scalar_one_or_none()
    if meeting is None:
        meeting = Meeting(body_id=body.id, title=MEETING_TITLE, place=PLACE, status="scheduled",
                          starts_at=_tomorrow_at_eight(now), created_by_id=users["secretary"].id,
                          description="Phiên họp mẫu để thử hệ thống phòng họp không giấy.")
        meeting.ends_at = meeting.starts_at + timedelta(hours=4)
        session.add(meeting)
        session.flush()
        audit.record(session, "meeting.created", actor_id=users["secretary"].id, object_type="meeting",
                     object_id=meeting.id, meeting_id=meeting.id, details={"title": MEETING_TITLE, "demo": True})
        made.append("meeting")
    _participants(session, meeting, users, made)

    for position, spec in enumerate(AGENDA):
        parent = _agenda_item(session, meeting, spec, position, None, made)
        for sub_position, child in enumerate(spec.children):
            _agenda_item(session, meeting, child, sub_position, parent.id, made)
    for item_spec, item in _items_with_documents(session, meeting):
        exists = session.execute(select(Document.id).where(
            Document.meeting_id == meeting.id, Document.filename == item_spec.filename)).first()
        if exists:
            continue
        doc = item_spec.document
        add_document(session, meeting, compose(doc, "tỉnh Lâm Đồng", ISSUED),
                     title=f"{doc.kind.capitalize()} {doc.number}: {doc.subject}", filename=item_spec.filename,
                     uploaded_by_id=users["secretary"].id, agenda_item_id=item.id,
                     confidentiality="confidential" if doc.confidential else "normal",
                     published=True, storage_path=str(storage_path))
        made.append(item_spec.filename)
    from flask import current_app

    from meetings.demo.opinions import load_demo_opinions  # a written opinion form, sent, partly answered

    if load_demo_opinions(session, body, users, current_app.config, now):
        made.append("opinions")
    if made:
        audit.record(session, "demo.loaded", actor_id=admin_id, object_type="meeting", object_id=meeting.id,
                     meeting_id=meeting.id, details={"created": len(made)})
    return DemoResult(created=bool(made), meeting_id=meeting.id, users=USERNAMES)


def _tomorrow_at_eight(now: datetime | None) -> datetime:
    local = (now or datetime.now(UTC)).astimezone(LOCAL_TZ)
    start = datetime.combine(local.date() + timedelta(days=1), time(8, 0), tzinfo=LOCAL_TZ)
    return start.astimezone(UTC)


def _user(session: Session, username: str, made: list[str], password_hash: list[str]) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        return user
    if username in STAFF:
        full_name, _, role = STAFF[username]
    else:
        full_name, role = DELEGATES[int(username.removeprefix("delegate")) - 1][0], None
    made.append(username)
    if not password_hash:
        # The demo's password is public and short on purpose: the one account set the policy lets through.
        user = create_user(session, username, PASSWORD, full_name, global_role=role, enforce_policy=False)
        password_hash.append(user.password_hash)
        return user
    # Argon2 is slow on purpose (~0.1 s, seconds on a busy machine); the password is
    # the same public "demo" for all, so one hash serves every demo user.
    user = User(username=username, full_name=full_name, password_hash=password_hash[0], global_role=role)
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_id=None, object_type="user", object_id=user.id,
                 details={"username": username, "global_role": role, "demo": True})
    return user


def _position(username: str) -> str | None:
    if username in STAFF:
        return STAFF[username][1]
    return DELEGATES[int(username.removeprefix("delegate")) - 1][1]


def _members(session: Session, body: Body, users: dict[str, User], made: list[str]) -> None:
    have = set(session.execute(select(BodyMember.user_id).where(BodyMember.body_id == body.id)).scalars())
    for name, user in users.items():
        if name in ("admin", "archivist") or user.id in have:
            continue
        session.add(BodyMember(body_id=body.id, user_id=user.id, position=_position(name),
                               is_secretariat=name == "secretary"))
        made.append(f"member:{name}")
    session.flush()


def _participants(session: Session, meeting: Meeting, users: dict[str, User], made: list[str]) -> None:
    have = set(session.execute(select(Participant.user_id).where(Participant.meeting_id == meeting.id)).scalars())
    for name, user in users.items():
        if name in ("admin", "archivist") or user.id in have:
            continue
        role = name if name in ("chair", "secretary") else "delegate"
        # The secretary keeps the minutes; only the committee's members vote.
        session.add(Participant(meeting_id=meeting.id, user_id=user.id, role=role, can_vote=role != "secretary"))
        made.append(f"participant:{name}")
    session.flush()


def _agenda_item(session: Session, meeting: Meeting, spec: DemoItem, position: int, parent_id: int | None,
                 made: list[str]) -> AgendaItem:
    item = session.execute(select(AgendaItem).where(
        AgendaItem.meeting_id == meeting.id, AgendaItem.title == spec.title)).scalar_one_or_none()
    if item is None:
        item = AgendaItem(meeting_id=meeting.id, parent_id=parent_id, position=position, title=spec.title,
                          planned_minutes=spec.minutes)
        session.add(item)
        session.flush()
        made.append(f"item:{position}")
    return item


def _items_with_documents(session: Session, meeting: Meeting) -> list[tuple[DemoItem, AgendaItem]]:
    by_title = {i.title: i for i in session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).scalars()}
    specs = [s for top in AGENDA for s in (top, *top.children)]
    return [(s, by_title[s.title]) for s in specs if s.document is not None]


# The demo's signing keys: an organization CA and a PKCS#12 for the secretary and the chair,
# so the minutes can be signed right after `make run`. Public passphrases: demo only.
DEMO_CA_PASSPHRASE = "demo-ca-passphrase"
DEMO_SIGNING_PASSPHRASE = "demo-sign"
DEMO_SIGNERS = ("secretary", "chair")


def load_demo_signers(session: Session, config) -> list[str]:
    """Create the demo CA and the signers' keys when missing; returns the usernames given a key now."""
    from meetings.minutes import keys
    from meetings.minutes.models import SignerKey
    from meetings.minutes.signers import issue_key

    if keys.load_ca_cert(config["INSTANCE_PATH"]) is None:
        keys.init_ca(config["INSTANCE_PATH"], BODY_NAME, DEMO_CA_PASSPHRASE)
    issued = []
    for username in DEMO_SIGNERS:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        has_key = session.execute(select(SignerKey.id).where(SignerKey.user_id == user.id,
                                                             SignerKey.revoked_at.is_(None))).first()
        if not has_key:
            issue_key(session, config, user, ca_passphrase=DEMO_CA_PASSPHRASE,
                      passphrase=DEMO_SIGNING_PASSPHRASE, organization=BODY_NAME)
            issued.append(username)
    return issued
