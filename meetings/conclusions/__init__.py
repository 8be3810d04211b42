"""Conclusion notices (thông báo kết luận): what a sitting concluded, issued in the Decree 30 form.

Composed from the sitting's conclusions per item, edited in the console, signed by the chair
(or "TL. Chủ tịch / Chánh Văn phòng"), published and sent to its recipients.
"""
