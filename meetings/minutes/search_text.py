"""What the minutes store for searching: their text casefolded, and once more without diacritics.

Stored when minutes are finalized (``Minutes.search_text``, ``search_title``),
so "ke hoach" finds "Kế hoạch" and "KẾ HOẠCH" alike, on SQLite and
PostgreSQL the same way (plain LIKE, no database-specific text search). The
archive searches these columns.
"""
from __future__ import annotations

import unicodedata


def strip_marks(text: str) -> str:
    """Vietnamese without diacritics: "Đề án Kế hoạch" → "De an Ke hoach"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def search_key(*parts: str | None) -> str:
    """What the search matches against: the casefolded text and its diacritic-free twin."""
    text = unicodedata.normalize("NFC", " ".join(p for p in parts if p)).casefold()
    return text + "\n" + strip_marks(text)
