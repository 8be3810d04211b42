"""Pure rules of annotations: limits, geometry checks, who may see what.

Geometry is PDF user space of one page (points, the page's own origin and
rotation), so the same numbers hold at every zoom and on every screen.
Functions here touch no database; each returns a normalised copy or raises
:class:`meetings.core.errors.Invalid` with a message a client can show.
"""
from __future__ import annotations

import math
import re
from typing import Any

from meetings.core.errors import Invalid

# Caps: generous for real pen work, small enough that one client cannot bloat a document.
MAX_POINTS_PER_STROKE = 4000
MAX_STROKES = 200
MAX_RECTS = 200
MAX_TEXT_CHARS = 5000
MAX_QUOTE_CHARS = 2000
MAX_CONTEXT_CHARS = 200
MAX_PER_USER_PER_DOCUMENT = 2000
MAX_SHARED_WITH = 500
# PDF's largest page is 14,400 pt (ISO 32000 annex C); anything beyond is a bug or an attack.
MAX_COORD = 14400.0
MIN_WIDTH, MAX_WIDTH = 0.1, 72.0
# A stroke in flight (annotation.stroke_progress): the points drawn since the last message,
# a tablet sending every ~80 ms at most (a pen samples at up to ~240 Hz: ~20 points).
MAX_PROGRESS_POINTS = 200
# Per author, over all their devices: a client sends ~12 a second; beyond this, dropped.
PROGRESS_RATE, PROGRESS_BURST = 20.0, 40

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise Invalid("The colour must look like #rrggbb.", code="invalid_color")
    return value.lower()


def check_text(value: Any, *, required: bool = False) -> str | None:
    """Untrusted text: kept exactly as given (escaping is the renderer's job), length-capped."""
    if value is None:
        if required:
            raise Invalid("A note needs text.", code="text_required")
        return None
    if not isinstance(value, str):
        raise Invalid("The text must be a string.", code="invalid_text")
    if len(value) > MAX_TEXT_CHARS:
        raise Invalid(f"The text is longer than {MAX_TEXT_CHARS} characters.", code="text_too_long",
                      details={"max": MAX_TEXT_CHARS, "got": len(value)})
    if "\x00" in value:
        raise Invalid("The text contains a NUL character.", code="invalid_text")
    if required and not value.strip():
        raise Invalid("A note needs text.", code="text_required")
    return value


def check_page(page: Any, page_count: int) -> int:
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= page_count:
        raise Invalid(f"The page must be between 1 and {page_count}.", code="invalid_page")
    return page


def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{what} must be a number.", code="invalid_geometry")
    f = float(value)
    if not math.isfinite(f) or abs(f) > MAX_COORD:
        raise Invalid(f"{what} is outside the page space (±{MAX_COORD:g} pt).", code="invalid_geometry")
    return f


def _rect(value: Any, what: str) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise Invalid(f"{what} must be [x1, y1, x2, y2].", code="invalid_geometry")
    x1, y1, x2, y2 = (_num(v, what) for v in value)
    # Normalised so x1 <= x2 and y1 <= y2, as PDF /Rect wants.
    return [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]


def _width(value: Any) -> float:
    w = _num(value, "The width")
    if not MIN_WIDTH <= w <= MAX_WIDTH:
        raise Invalid(f"The width must be between {MIN_WIDTH} and {MAX_WIDTH} pt.", code="invalid_geometry")
    return w


def _stroke(points: Any, limit: int = MAX_POINTS_PER_STROKE) -> list[list[float]]:
    if not isinstance(points, list) or not points:
        raise Invalid("A stroke is a non-empty list of [x, y, pressure] points.", code="invalid_geometry")
    if len(points) > limit:
        raise Invalid(f"A stroke has more than {limit} points.", code="too_many_points",
                      details={"max": limit, "got": len(points)})
    out = []
    for p in points:
        if not isinstance(p, list | tuple) or len(p) not in (2, 3):
            raise Invalid("A point is [x, y] or [x, y, pressure].", code="invalid_geometry")
        x, y = _num(p[0], "x"), _num(p[1], "y")
        pressure = _num(p[2], "pressure") if len(p) == 3 else 0.5
        if not 0.0 <= pressure <= 1.0:
            raise Invalid("Pressure must be between 0 and 1.", code="invalid_geometry")
        out.append([x, y, pressure])
    return out


def check_progress(points: Any, width: Any) -> tuple[list[list[float]], float]:
    """The new points of a stroke in flight (at most MAX_PROGRESS_POINTS) and its width."""
    return _stroke(points, MAX_PROGRESS_POINTS), _width(width)


def check_geometry(kind: str, geometry: Any) -> dict[str, Any]:
    """Validate and normalise the geometry of one kind of annotation."""
    if not isinstance(geometry, dict):
        raise Invalid("The geometry must be an object.", code="invalid_geometry")
    if kind == "ink":
        strokes = geometry.get("strokes")
        if not isinstance(strokes, list) or not strokes:
            raise Invalid("Ink needs strokes: a list of point lists.", code="invalid_geometry")
        if len(strokes) > MAX_STROKES:
            raise Invalid(f"Ink has more than {MAX_STROKES} strokes.", code="too_many_strokes")
        return {"strokes": [_stroke(s) for s in strokes], "width": _width(geometry.get("width", 2.0))}
    if kind == "highlight":
        rects = geometry.get("rects")
        if not isinstance(rects, list) or not rects:
            raise Invalid("A highlight needs rects: the page rectangles it covers.", code="invalid_geometry")
        if len(rects) > MAX_RECTS:
            raise Invalid(f"A highlight has more than {MAX_RECTS} rectangles.", code="too_many_rects")
        return {"rects": [_rect(r, "A rectangle") for r in rects]}
    if kind == "note":
        point = geometry.get("point")
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise Invalid("A note needs point: [x, y].", code="invalid_geometry")
        return {"point": [_num(point[0], "x"), _num(point[1], "y")]}
    if kind == "rect":
        return {"rect": _rect(geometry.get("rect"), "rect"), "width": _width(geometry.get("width", 2.0))}
    if kind == "arrow":
        line = geometry.get("line")
        if not isinstance(line, list | tuple) or len(line) != 4:
            raise Invalid("An arrow needs line: [x1, y1, x2, y2] (tail to head).", code="invalid_geometry")
        return {"line": [_num(v, "line") for v in line], "width": _width(geometry.get("width", 2.0))}
    raise Invalid("Unknown kind of annotation.", code="invalid_kind")


def check_anchor(anchor: Any) -> dict[str, Any]:
    """A highlight's text anchor: W3C TextQuoteSelector (exact, prefix, suffix) and
    TextPositionSelector (start, end) on the page's extracted text."""
    if not isinstance(anchor, dict):
        raise Invalid("A highlight needs an anchor {exact, prefix, suffix, start, end}.", code="invalid_anchor")
    exact = anchor.get("exact")
    if not isinstance(exact, str) or not exact.strip():
        raise Invalid("The anchor needs the exact quoted text.", code="invalid_anchor")
    if len(exact) > MAX_QUOTE_CHARS:
        raise Invalid(f"The quote is longer than {MAX_QUOTE_CHARS} characters.", code="quote_too_long")
    out: dict[str, Any] = {"exact": exact}
    for key in ("prefix", "suffix"):
        v = anchor.get(key, "")
        if not isinstance(v, str) or len(v) > MAX_CONTEXT_CHARS:
            raise Invalid(f"The anchor's {key} must be text of at most {MAX_CONTEXT_CHARS} characters.",
                          code="invalid_anchor")
        out[key] = v
    start, end = anchor.get("start"), anchor.get("end")
    if start is not None or end is not None:
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (start, end)) or end < start:
            raise Invalid("The anchor's start and end must be offsets with 0 <= start <= end.", code="invalid_anchor")
        out["start"], out["end"] = start, end
    return out


def audience(visibility: str, author_id: int, shared_with: list[int]) -> str | set[int]:
    """Who sees an annotation: "meeting" (everyone who may view the document) or a set of user ids."""
    if visibility in ("meeting", "presenter"):
        return "meeting"
    if visibility == "participants":
        return {author_id, *shared_with}
    return {author_id}


def may_see(visibility: str, author_id: int, shared_with: list[int], user_id: int) -> bool:
    """Whether ``user_id`` (already allowed to view the document) sees this annotation."""
    who = audience(visibility, author_id, shared_with)
    return who == "meeting" or user_id in who
