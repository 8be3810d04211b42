"""The "Báo cáo tổng hợp ý kiến": its content (Decree 30 header, figures, comments, who answered),
its signature validated by pyHanko and by poppler's pdfsig, and the tally rules it prints."""
from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.core.extensions import db
from meetings.minutes import keys
from meetings.minutes.verify import verify_pdf
from meetings.opinions import answering, files, report, service
from meetings.opinions.models import OpinionForm
from meetings.platform import jobs
from tests.minutes_support import CHAIR_PASS, flip_byte, nss_db_trusting, pdfsig_report, pdftotext, pki  # noqa: F401
from tests.opinion_helpers import MEMBER_PASS, body12, form_body, opinion_keys  # noqa: F401

CLOSES = datetime(2030, 5, 20, 3, 0, tzinfo=UTC)


def _answer(session, form, user, choice, options, comment="", config=None, secret=None):
    q1, q2 = form.questions
    return answering.submit_answer(session, form, user, [{"question_id": q1.id, "choice": choice, "comment": comment},
                                                         {"question_id": q2.id, "options": options}],
                                   config, secret=secret)


def _closed_form(app, world, monkeypatch, *, people: dict[str, tuple], **over) -> int:
    """A form to the named members, answered as given, closed at its deadline."""
    monkeypatch.setattr(answering, "utcnow", lambda: CLOSES - timedelta(hours=5))
    with app.app_context(), jobs.unit_of_work() as session:
        office = session.get(User, world.secretary.id)
        form = service.create_form(session, session.get(Body, world.body.id), office, {
            **form_body(world), "closes_at": CLOSES, "number": "15/BC-UBND",
            "recipient_ids": [world.users[n].id for n in people], **over})
        service.open_form(session, form, office, now=CLOSES - timedelta(days=2))
        for name, answer in people.items():
            if answer is not None:
                choice, options, comment, secret = answer
                _answer(session, form, session.get(User, world.users[name].id), choice, options, comment,
                        app.config, secret)
        form_id = form.id
    with app.app_context(), jobs.unit_of_work() as session:
        service.close_due(session, CLOSES)
    return form_id


@pytest.fixture
def signed_report(app, opinion_keys, monkeypatch):  # noqa: F811
    world = opinion_keys
    form_id = _closed_form(app, world, monkeypatch, people={
        "chair": ("agree", ["o1"], "", None),
        "delegate": ("disagree", ["o2"], "Chưa rõ nguồn vốn.", MEMBER_PASS),
        "delegate2": ("other", ["o1", "o3"], "Đề nghị lấy thêm ý kiến Sở Tài chính.", None),
        "member1": ("agree", ["o1"], "", None),
        "member2": None,  # never answers
    })
    with app.app_context(), jobs.unit_of_work() as session:
        form = session.get(OpinionForm, form_id)
        report.compose_report(session, form, session.get(User, world.secretary.id), app.config)
        composed = files.paper_file(app.config["STORAGE_PATH"], form.report_sha256).read_bytes()
        report.sign_report(session, form, session.get(User, world.chair.id), app.config, secret=CHAIR_PASS)
        signed = files.paper_file(app.config["STORAGE_PATH"], form.report_sha256).read_bytes()
    return {"world": world, "form_id": form_id, "composed": composed, "signed": signed,
            "roots": keys.trust_roots(app.config["INSTANCE_PATH"])}


def test_report_content(signed_report):
    text = pdftotext(signed_report["composed"])
    for expected in ("ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Số: 15/BC-UBND", "Thử Nghiệm, ngày 20 tháng 05 năm 2030",
                     "BÁO CÁO", "Tổng hợp ý kiến các thành viên về", "Đồng ý ban hành Quy chế theo dự thảo?",
                     "Chưa rõ nguồn vốn.", "Đề nghị lấy thêm ý kiến Sở Tài chính.", "Người dùng delegate",
                     "Thành viên chưa trả lời: Thành viên 2.", "CHỦ TỊCH", "Người dùng chair"):
        assert expected in " ".join(text.split()) or expected in text, expected
    flat = " ".join(text.split())
    # Five recipients, base "entitled": more than half of 5 is 3; two agreed: not adopted.
    assert "Số thành viên đã trả lời: 4; chưa trả lời: 1." in flat
    assert "= 5; điều kiện thông qua: quá 1/2, cần ít nhất 3 ý kiến." in flat
    assert "Kết quả: Không được thông qua" in flat
    assert "Các phương án đạt: Đức Trọng" in flat  # o1 was chosen by 3 of 5
    assert "Đồng ý 2 40,0%" in flat and "40.0%" not in flat  # the Vietnamese decimal comma
    assert "Nơi nhận:" in flat and "- Lưu: VT." in flat  # Decree 30: beside the signature


def test_signed_report_validates_with_pyhanko(signed_report):
    got = verify_pdf(signed_report["signed"], signed_report["roots"])
    assert got["intact"] and got["valid"] and got["trusted"] and not got["tampered"], got
    (sig,) = got["signatures"]
    assert sig["field"] == "NguoiKy" and sig["signer"] == "Người dùng chair" and sig["certifying"]
    assert signed_report["signed"].startswith(signed_report["composed"])  # an incremental update


def test_signed_report_validates_with_pdfsig(signed_report, tmp_path, app):
    out = pdfsig_report(signed_report["signed"], tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 1, out
    nss = nss_db_trusting(Path(app.config["INSTANCE_PATH"]) / "ca" / "root.pem", tmp_path / "nss")
    assert nss is not None
    # The app's certificates point at its own OCSP responder, which no server answers here: -no-ocsp.
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_report["signed"])
    done = subprocess.run(["pdfsig", "-no-ocsp", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True)
    assert "Certificate Validation: Certificate is Trusted." in done.stdout, done.stdout + done.stderr


def test_a_changed_report_fails_both_checks(signed_report, tmp_path):
    bad = flip_byte(signed_report["signed"], at=len(signed_report["composed"]) // 2)
    got = verify_pdf(bad, signed_report["roots"])
    assert not (got["intact"] and got["valid"])
    assert "Signature is Valid." not in pdfsig_report(bad, tmp_path)


def test_signed_answer_validates(app, signed_report):
    from sqlalchemy import select

    from meetings.opinions.models import OpinionAnswer

    with app.app_context():
        row = db.session.scalars(select(OpinionAnswer).where(OpinionAnswer.paper_sha256.is_not(None))).one()
        pdf = files.paper_file(app.config["STORAGE_PATH"], row.paper_sha256).read_bytes()
    got = verify_pdf(pdf, signed_report["roots"])
    assert got["valid"] and got["trusted"] and got["signatures"][0]["signer"] == "Người dùng delegate"
    flat = " ".join(pdftotext(pdf).split())
    assert "PHIẾU TRẢ LỜI LẤY Ý KIẾN" in flat and "Trả lời: Không đồng ý" in flat and "Chưa rõ nguồn vốn." in flat


def test_a_tie_follows_the_chair(app, body12, monkeypatch):  # noqa: F811
    """Base "cast": 2 agree, 2 disagree, 1 other opinion (out of the base); the chair agreed → adopted."""
    world = body12
    form_id = _closed_form(app, world, monkeypatch, majority_base="cast", people={
        "chair": ("agree", ["o1"], "", None), "member1": ("agree", ["o1"], "", None),
        "delegate": ("disagree", ["o1"], "", None), "delegate2": ("disagree", ["o1"], "", None),
        "member2": ("other", ["o1"], "Ý kiến khác", None)})
    with app.app_context():
        q1 = db.session.get(OpinionForm, form_id).result["questions"][0]
    assert (q1["base_count"], q1["required"], q1["abstained"], q1["tie"]) == (4, 3, 1, True)
    assert q1["tie_break_used"] and q1["outcome"] == "adopted"
    form_id = _closed_form(app, world, monkeypatch, majority_base="cast", tie_rule="reject", people={
        "chair": ("agree", ["o1"], "", None), "member1": ("agree", ["o1"], "", None),
        "delegate": ("disagree", ["o1"], "", None), "delegate2": ("disagree", ["o1"], "", None)})
    with app.app_context():
        q1 = db.session.get(OpinionForm, form_id).result["questions"][0]
    assert q1["tie"] and not q1["tie_break_used"] and q1["outcome"] == "rejected"
