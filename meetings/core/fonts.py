"""The Unicode serif font (DejaVu Serif, full Vietnamese coverage) for every PDF we make.

Installed by the set-up from npm (``dejavu-fonts-ttf``) into node_modules;
``FONT_DIR`` points elsewhere if an operator prefers another copy.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from meetings.core.config import load_settings

SERIF = "DejaVuSerif"
SERIF_BOLD = "DejaVuSerif-Bold"
SERIF_ITALIC = "DejaVuSerif-Italic"
SERIF_BOLD_ITALIC = "DejaVuSerif-BoldItalic"
FONT_FILES = {
    SERIF: "DejaVuSerif.ttf",
    SERIF_BOLD: "DejaVuSerif-Bold.ttf",
    SERIF_ITALIC: "DejaVuSerif-Italic.ttf",
    SERIF_BOLD_ITALIC: "DejaVuSerif-BoldItalic.ttf",
}


def font_dir() -> Path:
    return Path(os.environ.get("FONT_DIR") or load_settings()["FONT_DIR"])


def font_path(name: str = SERIF) -> Path:
    path = font_dir() / FONT_FILES[name]
    if not path.exists():
        raise FileNotFoundError(
            f"font {path} is missing: run `make run` or `npm ci` (or set FONT_DIR)"
        )
    return path


@lru_cache(maxsize=1)
def register_fonts() -> str:
    """Register the serif family with ReportLab once per process; returns its name."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name in FONT_FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(SERIF, 0, 0, SERIF)
    addMapping(SERIF, 1, 0, SERIF_BOLD)
    addMapping(SERIF, 0, 1, SERIF_ITALIC)
    addMapping(SERIF, 1, 1, SERIF_BOLD_ITALIC)
    return SERIF
