"""Written opinions (phiếu lấy ý kiến): a form sent to a body's members, answered before a deadline.

The secretariat drafts a form (an explanation, documents, questions, a deadline); members
answer on the tablet or a phone until the deadline; the result is tallied by the voting
rules and composed into the "Báo cáo tổng hợp ý kiến", signed and published.
"""
