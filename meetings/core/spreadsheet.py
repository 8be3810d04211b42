"""CSV cells that people open in a spreadsheet program.

A cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is run by
Excel and LibreOffice when the file is opened: a name typed as ``=HYPERLINK(…)`` or a conclusion line
"- Giao Sở …" in an export would be a formula on the office's computer (CSV injection). Every text
cell of an export or an archive's CSV goes through :func:`text_cell`; the archive's JSON beside its
CSV keeps the exact text.
"""
from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: Any) -> Any:
    """``value`` for a CSV cell: a string that starts like a formula gets a leading apostrophe, which
    spreadsheet programs read as "this is text"; anything else (numbers, dates, None) is unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value
