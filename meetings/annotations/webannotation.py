"""W3C Web Annotation (JSON-LD) export of annotations.

Follows the Web Annotation Data Model (https://www.w3.org/TR/annotation-model/):
the target is the document's file with a page fragment (RFC 8118,
``#page=N``); a highlight adds TextQuoteSelector and TextPositionSelector,
shapes and ink add an SVG selector in PDF page space. Text is carried as
given: consumers must escape it when they render it.
"""
from __future__ import annotations

from typing import Any

CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def _svg(kind: str, g: dict) -> str | None:
    """The shape as SVG in PDF user space (y grows upwards, as in the PDF)."""
    if kind == "ink":
        paths = " ".join("M" + " L".join(f"{p[0]:g},{p[1]:g}" for p in s) for s in g["strokes"])
        return f"<svg xmlns='http://www.w3.org/2000/svg'><path d='{paths}' stroke-width='{g['width']:g}'/></svg>"
    if kind == "rect":
        x1, y1, x2, y2 = g["rect"]
        return (f"<svg xmlns='http://www.w3.org/2000/svg'><rect x='{x1:g}' y='{y1:g}' width='{x2 - x1:g}' "
                f"height='{y2 - y1:g}'/></svg>")
    if kind == "arrow":
        x1, y1, x2, y2 = g["line"]
        return f"<svg xmlns='http://www.w3.org/2000/svg'><line x1='{x1:g}' y1='{y1:g}' x2='{x2:g}' y2='{y2:g}'/></svg>"
    if kind == "highlight":
        rects = "".join(f"<rect x='{r[0]:g}' y='{r[1]:g}' width='{r[2] - r[0]:g}' height='{r[3] - r[1]:g}'/>"
                        for r in g["rects"])
        return f"<svg xmlns='http://www.w3.org/2000/svg'>{rects}</svg>"
    return None


def to_web_annotation(a: dict[str, Any], source: str, base_url: str) -> dict[str, Any]:
    """One serialized annotation (with ``author``) as a W3C Web Annotation."""
    selectors: list[dict[str, Any]] = [{"type": "FragmentSelector", "conformsTo": "http://tools.ietf.org/rfc/rfc8118",
                                        "value": f"page={a['page']}"}]
    anchor = a.get("anchor") or {}
    if anchor:
        selectors.append({"type": "TextQuoteSelector", "exact": anchor["exact"],
                          "prefix": anchor.get("prefix", ""), "suffix": anchor.get("suffix", "")})
        if "start" in anchor:
            selectors.append({"type": "TextPositionSelector", "start": anchor["start"], "end": anchor["end"]})
    svg = _svg(a["kind"], a["geometry"])
    if svg:
        selectors.append({"type": "SvgSelector", "value": svg})
    if a["kind"] == "note":
        x, y = a["geometry"]["point"]
        selectors.append({"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                          "value": f"xywh={x:g},{y:g},0,0"})
    body: list[dict[str, Any]] = []
    if a.get("text"):
        body.append({"type": "TextualBody", "value": a["text"], "format": "text/plain",
                     "purpose": "commenting"})
    body.append({"type": "TextualBody", "value": a["color"], "purpose": "tagging"})
    motivation = {"highlight": "highlighting", "note": "commenting"}.get(a["kind"], "annotating")
    out = {
        "@context": CONTEXT,
        "id": f"urn:uuid:{a['id']}",
        "type": "Annotation",
        "motivation": motivation,
        "created": a.get("created_at"),
        "modified": a.get("updated_at"),
        "creator": {"id": f"{base_url}/users/{a['author_id']}", "type": "Person", "name": a.get("author", "")},
        "body": body,
        "target": {"source": source, "selector": selectors if len(selectors) > 1 else selectors[0]},
        "meetings:kind": a["kind"],
        "meetings:visibility": a["visibility"],
    }
    if a.get("orphaned"):
        # Its text is gone from the current version: kept, flagged, shown apart by clients.
        out["meetings:orphaned"] = True
    if a.get("target_id"):
        out["target"] = [out["target"], f"urn:uuid:{a['target_id']}"]
    return out


def collection(document: Any, annotations: list[dict[str, Any]], *, base_url: str) -> dict[str, Any]:
    """An AnnotationCollection with every annotation on one page of items."""
    source = f"{base_url}/documents/{document.id}/file"
    items = [to_web_annotation(a, source, base_url) for a in annotations]
    return {
        "@context": [CONTEXT, {"meetings": "urn:meetings:annotations#"}],
        "id": f"{base_url}/documents/{document.id}/annotations.jsonld",
        "type": "AnnotationCollection",
        "label": document.title,
        "total": len(items),
        "first": {"type": "AnnotationPage", "startIndex": 0, "items": items},
    }
