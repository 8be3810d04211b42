"""``data/README.txt`` of an archival bag: what each file is and how to check it, in Vietnamese and English.

Plain text, so that it can be read in decades without this application.
"""
from __future__ import annotations

README = """\
HỒ SƠ LƯU TRỮ PHIÊN HỌP / MEETING ARCHIVAL PACKAGE
{title}
{body} — meeting-{meeting_id}

=== Tiếng Việt ===

Gói này là một "túi" BagIt (RFC 8493). Các tệp:

  minutes/bien-ban-v<n>.pdf               Biên bản đã ký số: mỗi phiên bản đã công bố, và các phiên bản đã ký
                                          mà một bản đính chính đã công bố thay thế (PDF, chữ ký PAdES).
  minutes/bien-ban-v<n>.validation.json   Báo cáo kiểm tra chữ ký lập khi công bố biên bản: mã băm SHA-256
                                          của tệp, thời điểm kiểm tra, các chứng thư gốc tin cậy (dấu vân
                                          tay SHA-256), kết quả từng chữ ký.
  minutes/bien-ban-v<n>.validation.html   Cùng báo cáo đó, dạng trang đọc được.
  conclusions/thong-bao-ket-luan.pdf      Thông báo kết luận đã ký số, như đã công bố và gửi; conclusions.json: số,
                                          trích yếu, người ký, mã băm SHA-256 và từng kết luận được đánh số.
  documents/<mã>-<tên>.pdf                Tài liệu hiện hành, đã phát hành, của từng nội dung chương trình, đúng như
                                          đại biểu nhận (bản quét có lớp chữ nhận dạng OCR khi đã xong); tài liệu
                                          mật mang dấu của người nhận gói (hoặc không đưa vào, tùy cấu hình).
  documents/<mã>-<tên>.original.pdf       Bản gốc đã ký số, nguyên từng byte, khi tệp trên không phải là nó (bản có
                                          lớp chữ OCR): để kiểm tra chữ ký (pyhanko sign validate như mục 2).
  attendance.csv, attendance.json         Điểm danh: từng đại biểu, vai trò, tình trạng, lý do, giờ đến, giờ rời.
  votes.csv, votes.json                   Biểu quyết: số phiếu từng phương án của mọi cuộc biểu quyết
                                          (dòng "option"); với biểu quyết công khai, thêm lựa chọn của từng
                                          người (dòng "ballot": người bỏ phiếu, lựa chọn, bỏ phiếu thay cho ai
                                          theo ủy quyền, trọng số, thời điểm). Bỏ phiếu kín chỉ có số phiếu.
  polls/<mã>/bulletin-board.json          Bảng công khai của từng cuộc bỏ phiếu kín: mọi lá phiếu đã mã hoá, mã
  polls/<mã>/verify_board.py, elgamal.py, theo dõi, kết quả giải mã của Ban kiểm phiếu và các chứng minh. Ai cũng
  elgamal_dkg.py                          kiểm tra được: python verify_board.py bulletin-board.json (cần pysodium).
  speakers.json                           Các lượt phát biểu.
  audit-log.jsonl                         Nhật ký kiểm toán của phiên họp, mỗi dòng một bản ghi với mã băm chuỗi
                                          (trừ các bản ghi về tài liệu chưa từng phát hành).
  meeting.json                            Phiên họp, cơ quan, chương trình, các lần họp thực tế, các phiên bản
                                          biên bản và chữ ký.
  trust/ca-chain.pem                      Chứng thư gốc của cơ quan (và các gốc tin cậy khác) để kiểm tra
                                          chữ ký mà không cần máy chủ.

Thời gian: mọi thời điểm ghi theo ISO 8601, giờ UTC, có độ lệch "+00:00"
(ví dụ 2026-12-01T07:29:00+00:00 là 14:29 giờ Việt Nam).

Cách kiểm tra:
  1. Tính toàn vẹn của gói:   python -m bagit --validate <thư mục gói>   (hoặc bagit.Bag(...).validate())
  2. Chữ ký của biên bản, ngoại tuyến, chỉ với gói này:
       pyhanko sign validate --pretty-print --trust data/trust/ca-chain.pem data/minutes/bien-ban-v1.pdf
     (gói pyhanko-cli), hoặc nhập data/trust/ca-chain.pem vào kho tin cậy của Adobe Acrobat / NSS (pdfsig).
     So dấu vân tay SHA-256 của chứng thư gốc với dấu vân tay trong báo cáo kiểm tra và với bản cơ quan công bố.
  3. Nhật ký kiểm toán: mã băm (hash) mỗi dòng là SHA-256 của JSON UTF-8 (khóa sắp xếp, không khoảng trắng)
     gồm prev (= prev_hash), at (UTC bỏ độ lệch, đến micro giây), actor (= actor_id), action, object_type,
     object_id, meeting (= meeting_id), details; prev_hash là hash của bản ghi liền trước trong toàn bộ
     nhật ký của cơ quan (bản ghi của các phiên họp khác không có trong gói này).

=== English ===

This package is a BagIt bag (RFC 8493). The files:

  minutes/bien-ban-v<n>.pdf               The signed minutes: every published version, and the signed versions a
                                          published correction replaces (PDF, PAdES signatures).
  minutes/bien-ban-v<n>.validation.json   The validation report made when the minutes were published: the
                                          file's SHA-256, when it was validated, against which trust roots
                                          (SHA-256 fingerprints), each signature's result.
  minutes/bien-ban-v<n>.validation.html   The same report as a readable page.
  conclusions/thong-bao-ket-luan.pdf      The signed conclusion notice as published and sent; conclusions.json: its
                                          number, subject, signer, SHA-256 and each numbered conclusion.
  documents/<id>-<name>.pdf               The current, published document of each agenda item as delegates received
                                          it (a scan with its OCR text layer once ready); confidential ones carry
                                          the stamp of whoever took the package (or are left out, by setting).
  documents/<id>-<name>.original.pdf      The digitally signed upload byte for byte, when the file above is not it
                                          (an OCR rendition): its signature still verifies (pyhanko, as in step 2).
  attendance.csv, attendance.json         Roll call: each participant, role, status, reason, arrival, departure.
  votes.csv, votes.json                   Votes: every poll's count per option ("option" rows); for open (named)
                                          polls also each voter's choice ("ballot" rows: voter, choices, by proxy
                                          for whom, weight, cast time). Secret polls appear as counts only.
  polls/<id>/bulletin-board.json          Each secret poll's bulletin board: every encrypted ballot, its tracking
  polls/<id>/verify_board.py, elgamal.py, code, the counting committee's partial decryptions and every proof.
  elgamal_dkg.py                          Anyone can check it: python verify_board.py bulletin-board.json (needs
                                          pysodium).
  speakers.json                           Who spoke, when, for how long.
  audit-log.jsonl                         The meeting's audit entries, one per line, with their chain hashes
                                          (except those about documents never published).
  meeting.json                            The meeting, its body, agenda, actual sitting times, minutes versions
                                          and signatures.
  trust/ca-chain.pem                      The organization's root certificate (and any other trusted roots) to
                                          verify the signatures without the server.

Times: every timestamp is ISO 8601 in UTC with its offset "+00:00"
(e.g. 2026-12-01T07:29:00+00:00 is 14:29 in Vietnam).

How to verify:
  1. The package is complete and unchanged:   python -m bagit --validate <bag folder>
  2. The minutes' signatures, offline, with this package alone:
       pyhanko sign validate --pretty-print --trust data/trust/ca-chain.pem data/minutes/bien-ban-v1.pdf
     (package pyhanko-cli), or import data/trust/ca-chain.pem into Adobe Acrobat's or NSS's (pdfsig) trust store.
     Compare the roots' SHA-256 fingerprints with the validation report and with the organization's published copy.
  3. The audit log: each line's hash is the SHA-256 of the UTF-8 JSON (sorted keys, no spaces) of prev
     (= prev_hash), at (UTC without the offset, to the microsecond), actor (= actor_id), action, object_type,
     object_id, meeting (= meeting_id), details; prev_hash is the hash of the entry just before it in the
     organization's whole log (other meetings' entries are not in this package).
"""


def readme_text(*, title: str, body: str, meeting_id: int) -> str:
    """The bag's README for one meeting."""
    return README.format(title=title, body=body, meeting_id=meeting_id)
