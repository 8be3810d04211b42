"""Helpers shared by the minutes, archive and audit tests: a small record, a PKI, pdftotext, pdfsig."""
from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meetings.minutes.record import (
    Attendee,
    DocumentRef,
    ItemRecord,
    MinutesRecord,
    NamedVote,
    PollOption,
    PollResult,
    Speech,
)
from tests.tools import require_tool

CA_PASS = "ca-passphrase-1"
SECRETARY_PASS = "thu-ky-mat-khau"
CHAIR_PASS = "chu-toa-mat-khau"


def small_record(**overrides) -> MinutesRecord:
    start = datetime(2026, 12, 15, 1, 30, tzinfo=UTC)
    people = [
        Attendee("Lê Thị Thu Hằng", "chair", "present", arrived_at=start),
        Attendee("Phạm Quốc Việt", "secretary", "present", arrived_at=start),
        Attendee("Nguyễn Thị Ánh Tuyết", "delegate", "remote", arrived_at=start + timedelta(minutes=7)),
        Attendee("Đặng Hữu Phước", "delegate", "excused", reason="Đi công tác nước ngoài"),
        Attendee("Võ Minh Đức", "delegate", "absent"),
    ]
    poll = PollResult(
        title="Thông qua Nghị quyết về kế hoạch đầu tư công năm 2027", secret=False,
        options=[PollOption("Tán thành", 3), PollOption("Không tán thành", 0), PollOption("Không biểu quyết", 0)],
        entitled=5, present=3, cast=3, base="entitled", base_count=5, threshold="1/2", threshold_strict=True,
        required=3,
        outcome="adopted", closed_at=start + timedelta(hours=1),
        named_votes=[NamedVote("Lê Thị Thu Hằng", ["Tán thành"]), NamedVote("Phạm Quốc Việt", ["Tán thành"]),
                     NamedVote("Nguyễn Thị Ánh Tuyết", ["Tán thành"], by_proxy_for=None)])
    secret = PollResult(title="Bầu Phó Chủ tịch", secret=True,
                        options=[PollOption("Trần Văn Hải", 2), PollOption("Hồ Thị Lan", 1)],
                        entitled=5, present=3, cast=3, base="cast", base_count=3, threshold="2/3",
                        threshold_strict=False, required=2,
                        outcome="adopted")
    items = [
        ItemRecord("1", "Báo cáo tình hình kinh tế - xã hội quý IV", presenter="Phạm Quốc Việt",
                   documents=[DocumentRef("Báo cáo số 45/BC-UBND", 2, 14)],
                   speeches=[Speech("Nguyễn Thị Ánh Tuyết", "question", "against", start + timedelta(minutes=20), 185)],
                   polls=[poll], conclusion="Thống nhất thông qua báo cáo; giao Sở Kế hoạch và Đầu tư hoàn thiện."),
        ItemRecord("2", "Kiện toàn nhân sự", polls=[secret], conclusion=None),
    ]
    data = dict(body_name="Ủy ban nhân dân tỉnh Thử Nghiệm", parent_name=None, short_name="UBND",
                meeting_title="Phiên họp thường kỳ tháng 12 năm 2026", starts_at=start,
                ends_at=start + timedelta(hours=3, minutes=15), place="Phòng họp số 1", chair="Lê Thị Thu Hằng",
                secretary="Phạm Quốc Việt", attendees=people, items=items, number="12/BB-UBND",
                place_name="Thử Nghiệm")
    data.update(overrides)
    return MinutesRecord(**data)


def pdftotext(pdf: bytes, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(args + ["-", "-"], input=pdf, capture_output=True, check=True).stdout.decode("utf-8")


def pdfsig_report(pdf: bytes, tmp: Path, nss_dir: Path | None = None) -> str:
    path = tmp / "to-check.pdf"
    path.write_bytes(pdf)
    args = ["pdfsig"] + (["-nssdir", f"sql:{nss_dir}"] if nss_dir else []) + [str(path)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def nss_db_trusting(ca_pem: Path, folder: Path) -> Path | None:
    """An NSS database trusting the organization CA, so pdfsig can say "trusted".

    Without certutil the calling test skips (fails under CI=true: tests/tools.py)."""
    require_tool("certutil", why="pdfsig cannot be told to trust the CA", install="libnss3-tools")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "org-ca", "-t", "CT,C,C", "-i", str(ca_pem)],
                   check=True, capture_output=True)
    return folder


def add_annotation(pdf: bytes) -> bytes:
    """Append a sticky note to page 1 as an incremental update (what a tamperer might do)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    annot = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (100, 100, 120, 120)]),
        generic.NameObject("/Contents"): generic.TextStringObject("thêm sau khi ký"),
    })
    ref = w.add_object(annot)
    page = w.root["/Pages"]["/Kids"][0].get_object()
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(ref)
    page[generic.NameObject("/Annots")] = annots
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def flip_byte(pdf: bytes, at: int = 3000) -> bytes:
    data = bytearray(pdf)
    data[at] ^= 0x01
    return bytes(data)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """An organization CA and PKCS#12 keys for a secretary and a chair (no database; made once:
    RSA key generation is the slow part)."""
    from meetings.minutes import keys

    inst = tmp_path_factory.mktemp("pki") / "pki-instance"
    keys.init_ca(inst, "UBND tỉnh Thử Nghiệm", CA_PASS)
    secretary = keys.issue_pkcs12(inst, CA_PASS, user_id=1, full_name="Phạm Quốc Việt", organization="UBND",
                                  passphrase=SECRETARY_PASS)
    chair = keys.issue_pkcs12(inst, CA_PASS, user_id=2, full_name="Lê Thị Thu Hằng", organization="UBND",
                              passphrase=CHAIR_PASS)
    return {"instance": inst, "secretary": secretary, "chair": chair}
