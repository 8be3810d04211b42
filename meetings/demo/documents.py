"""Agenda documents of the demo meeting, composed with ReportLab.

Each is an A4 administrative document in the Decree 30/2020 layout (two-column
header, title, numbered sections, a table) set in DejaVu Serif so every
Vietnamese diacritic shows. The text is drawn deterministically from sentence
pools, so two runs make the same documents (same sha256) and the demo loader
can stay idempotent.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from meetings.core.fonts import SERIF, SERIF_BOLD, register_fonts


@dataclass
class DemoDocument:
    """What one agenda document says; ``sections`` is the number of numbered sections."""

    number: str  # e.g. "215/BC-UBND"
    kind: str  # BÁO CÁO, TỜ TRÌNH, KẾ HOẠCH …
    subject: str
    topic: str  # key into TOPIC_SENTENCES
    sections: list[str]
    table_title: str
    table: list[list[str]]
    confidential: bool = False
    seed: int = 1
    paragraphs_per_section: int = 3
    extra: list[str] = field(default_factory=list)


GENERAL_SENTENCES = [
    "Ủy ban nhân dân tỉnh đã chỉ đạo các sở, ban, ngành và Ủy ban nhân dân cấp xã triển khai đồng bộ "
    "các nhiệm vụ, giải pháp theo Nghị quyết của Hội đồng nhân dân tỉnh.",
    "Công tác phối hợp giữa các cơ quan chuyên môn được tăng cường, bảo đảm tiến độ và chất lượng "
    "tham mưu, đề xuất.",
    "Bên cạnh những kết quả đạt được, vẫn còn một số hạn chế cần được khắc phục trong thời gian tới.",
    "Nguyên nhân chủ yếu là do nguồn lực còn hạn chế, thủ tục đầu tư kéo dài và sự phối hợp ở một số "
    "nơi chưa chặt chẽ.",
    "Các địa phương đã chủ động rà soát, tháo gỡ khó khăn, vướng mắc cho người dân và doanh nghiệp.",
    "Đề nghị các thành viên Ủy ban nhân dân tỉnh nghiên cứu, cho ý kiến để hoàn thiện trước khi trình "
    "Hội đồng nhân dân tỉnh xem xét, quyết định.",
    "Việc tổ chức thực hiện phải bảo đảm công khai, minh bạch, đúng quy định của pháp luật và phù hợp "
    "với điều kiện thực tiễn của tỉnh.",
    "Sở Tài chính chủ trì, phối hợp với các cơ quan liên quan theo dõi, đôn đốc và tổng hợp kết quả "
    "thực hiện, báo cáo Ủy ban nhân dân tỉnh định kỳ hằng quý.",
    "Tình hình an ninh chính trị, trật tự an toàn xã hội tiếp tục được giữ vững; đời sống vật chất và "
    "tinh thần của Nhân dân từng bước được nâng lên.",
    "Những khó khăn về thời tiết cực đoan, giá cả nguyên vật liệu tăng cao đã ảnh hưởng không nhỏ đến "
    "hoạt động sản xuất, kinh doanh.",
]

TOPIC_SENTENCES = {
    "economy": [
        "Tốc độ tăng trưởng tổng sản phẩm trên địa bàn (GRDP) ước đạt 8,2%, vượt chỉ tiêu Nghị quyết đề ra.",
        "Thu ngân sách nhà nước trên địa bàn ước đạt 21.450 tỷ đồng, bằng 112% dự toán được giao.",
        "Khu vực nông, lâm nghiệp và thủy sản tăng 4,6%; công nghiệp và xây dựng tăng 10,3%; dịch vụ "
        "tăng 8,9%.",
        "Tổng lượt khách du lịch đến tỉnh ước đạt 12,5 triệu lượt, tăng 15% so với cùng kỳ.",
        "Kim ngạch xuất khẩu ước đạt 1,35 tỷ đô la Mỹ, chủ yếu là cà phê, rau hoa và sản phẩm chế biến.",
        "Công tác giảm nghèo bền vững đạt kết quả tích cực, tỷ lệ hộ nghèo giảm còn 1,8%.",
    ],
    "investment": [
        "Tổng vốn đầu tư công trung hạn giai đoạn 2026–2030 dự kiến là 48.600 tỷ đồng.",
        "Việc phân bổ vốn ưu tiên các dự án hạ tầng giao thông kết nối vùng, thủy lợi và chuyển đổi số.",
        "Không bố trí vốn cho các dự án chưa đủ thủ tục đầu tư theo quy định của Luật Đầu tư công.",
        "Tỷ lệ giải ngân vốn đầu tư công năm 2026 ước đạt 93,5% kế hoạch được giao.",
        "Các chủ đầu tư chịu trách nhiệm toàn diện về tiến độ, chất lượng và hiệu quả sử dụng vốn.",
        "Dự phòng chung được giữ ở mức 10% tổng vốn để xử lý các nhu cầu phát sinh cấp bách.",
    ],
    "planning": [
        "Điều chỉnh quy hoạch nhằm bố trí quỹ đất cho các khu công nghiệp, khu tái định cư và công trình "
        "công cộng.",
        "Diện tích đất nông nghiệp chuyển sang mục đích phi nông nghiệp được kiểm soát chặt chẽ.",
        "Ý kiến của cộng đồng dân cư đã được lấy công khai trong thời gian 30 ngày theo quy định.",
        "Việc điều chỉnh không làm thay đổi chỉ tiêu đất trồng lúa và đất rừng phòng hộ được phân bổ.",
        "Hồ sơ điều chỉnh đã được Hội đồng thẩm định quy hoạch tỉnh xem xét, thông qua.",
        "Các khu vực có nguy cơ sạt lở được ưu tiên bố trí di dời dân cư đến nơi an toàn.",
    ],
    "digital": [
        "Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận và giải quyết trực tuyến toàn trình đạt 78%.",
        "Hệ thống phòng họp không giấy được triển khai tại Ủy ban nhân dân tỉnh và các sở, ngành.",
        "Trung tâm điều hành thông minh kết nối dữ liệu từ các lĩnh vực giao thông, y tế và giáo dục.",
        "Chữ ký số được sử dụng trong 100% văn bản điện tử gửi, nhận giữa các cơ quan nhà nước.",
        "Công tác bảo đảm an toàn, an ninh mạng được thực hiện theo mô hình bốn lớp.",
        "Nguồn nhân lực công nghệ thông tin được bồi dưỡng, nâng cao kỹ năng số cho cán bộ, công chức.",
    ],
    "reform": [
        "Chỉ số cải cách hành chính của tỉnh tăng 5 bậc so với năm trước.",
        "Bộ thủ tục hành chính được rà soát, cắt giảm 20% thời gian giải quyết.",
        "Mức độ hài lòng của người dân đối với sự phục vụ của cơ quan hành chính đạt 86,4%.",
        "Việc sắp xếp tổ chức bộ máy tinh gọn, hoạt động hiệu lực, hiệu quả được thực hiện nghiêm túc.",
        "Kỷ luật, kỷ cương hành chính được siết chặt; tình trạng né tránh, đùn đẩy trách nhiệm giảm rõ rệt.",
    ],
    "petitions": [
        "Cử tri kiến nghị sớm sửa chữa các tuyến đường liên xã bị hư hỏng sau mùa mưa.",
        "Nhiều ý kiến đề nghị tăng cường kiểm tra an toàn thực phẩm tại các chợ đầu mối.",
        "Cử tri đề nghị đẩy nhanh tiến độ cấp giấy chứng nhận quyền sử dụng đất cho các hộ gia đình.",
        "Các kiến nghị đã được chuyển đến cơ quan có thẩm quyền xem xét, trả lời theo quy định.",
        "Một số kiến nghị về chính sách hỗ trợ giá giống cây trồng đang được nghiên cứu, đề xuất.",
    ],
}


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SERIF, fontSize=13, leading=18, alignment=TA_JUSTIFY,
                          firstLineIndent=10 * mm, spaceAfter=6)
    return {
        "body": base,
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER, firstLineIndent=0, spaceAfter=0),
        "title": ParagraphStyle("title", parent=base, fontName=SERIF_BOLD, fontSize=14, leading=20,
                                alignment=TA_CENTER, firstLineIndent=0, spaceAfter=2),
        "heading": ParagraphStyle("heading", parent=base, fontName=SERIF_BOLD, firstLineIndent=0,
                                  spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=SERIF, fontSize=11, leading=14),
        "cellhead": ParagraphStyle("cellhead", fontName=SERIF_BOLD, fontSize=11, leading=14, alignment=TA_CENTER),
    }


def _header(body_name: str, doc: DemoDocument, place_date: str, st: dict) -> Table:
    left = [Paragraph("ỦY BAN NHÂN DÂN", st["cellhead"]),
            Paragraph(f"<b>{body_name.upper()}</b>", st["cellhead"]),
            Paragraph(f"Số: {doc.number}", ParagraphStyle("n", parent=st["cell"], alignment=TA_CENTER))]
    right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", ParagraphStyle("r", parent=st["cellhead"], fontSize=10)),
             Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", st["cellhead"]),
             Paragraph(f"<i>{place_date}</i>", ParagraphStyle("d", parent=st["cell"], alignment=TA_CENTER))]
    table = Table([[left, right]], colWidths=[60 * mm, 100 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _data_table(rows: list[list[str]], st: dict) -> Table:
    data = [[Paragraph(c, st["cellhead"]) for c in rows[0]]]
    data += [[Paragraph(c, st["cell"]) for c in row] for row in rows[1:]]
    first = 160 * mm - 25 * mm * (len(rows[0]) - 1)
    table = Table(data, colWidths=[first] + [25 * mm] * (len(rows[0]) - 1), repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def compose(doc: DemoDocument, body_name: str, place_date: str) -> bytes:
    """Render one document to PDF bytes (deterministic for the same arguments)."""
    register_fonts()
    st = _styles()
    rng = random.Random(doc.seed)
    pool = TOPIC_SENTENCES[doc.topic] + GENERAL_SENTENCES
    story = [_header(body_name, doc, place_date, st), Spacer(1, 8 * mm),
             Paragraph(doc.kind, st["title"]), Paragraph(doc.subject, st["title"]), Spacer(1, 6 * mm)]
    story += [Paragraph(text, st["body"]) for text in doc.extra]
    for number, heading in enumerate(doc.sections, start=1):
        story.append(Paragraph(f"{_roman(number)}. {heading.upper()}", st["heading"]))
        for _ in range(doc.paragraphs_per_section):
            story.append(Paragraph(" ".join(rng.sample(pool, 5)), st["body"]))
        if number == 2:
            story += [Paragraph(doc.table_title, st["heading"]), _data_table(doc.table, st), Spacer(1, 4 * mm)]
    story += [Spacer(1, 10 * mm), _signature(st)]

    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=A4, leftMargin=30 * mm, rightMargin=20 * mm, topMargin=22 * mm,
                            bottomMargin=20 * mm, title=f"{doc.kind.title()} {doc.subject}",
                            author=body_name, subject=doc.subject, creator="meetings demo", invariant=True)
    decorate = _page_decorator(doc.confidential)
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


def _signature(st: dict) -> Table:
    left = [Paragraph("<b><i>Nơi nhận:</i></b>", st["cell"]),
            Paragraph("- Thường trực Tỉnh ủy;", st["cell"]),
            Paragraph("- Thường trực HĐND tỉnh;", st["cell"]),
            Paragraph("- Các thành viên UBND tỉnh;", st["cell"]),
            Paragraph("- Lưu: VT, TH.", st["cell"])]
    right = [Paragraph("TM. ỦY BAN NHÂN DÂN", st["cellhead"]), Paragraph("CHỦ TỊCH", st["cellhead"]),
             Spacer(1, 18 * mm), Paragraph("Nguyễn Văn An", st["cellhead"])]
    table = Table([[left, right]], colWidths=[80 * mm, 80 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _page_decorator(confidential: bool):
    def decorate(canvas, pdf):
        canvas.saveState()
        canvas.setFont(SERIF, 10)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"Trang {canvas.getPageNumber()}")
        if confidential:
            # The confidentiality mark of Decree 30: boxed, top right, on every page.
            canvas.setFillColor(colors.red)
            canvas.setStrokeColor(colors.red)
            canvas.setFont(SERIF_BOLD, 14)
            x, y = A4[0] - 45 * mm, A4[1] - 15 * mm
            canvas.rect(x - 3 * mm, y - 2 * mm, 22 * mm, 8 * mm)
            canvas.drawString(x, y, "MẬT")
        canvas.restoreState()

    return decorate


def _roman(n: int) -> str:
    return ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][n - 1]
