"""Disarming an uploaded PDF: remove everything that can act on the reader's device.

A PDF can carry programs and triggers besides its pages: document JavaScript
(the ``/Names /JavaScript`` tree), actions run on opening (``/OpenAction``) or
on events (``/AA`` of the document, pages, annotations and form fields:
keystroke, format, validate, calculate, page open/close…), actions that start
programs (``/Launch``), send or load form data (``/SubmitForm``,
``/ImportData``), open other files (``/GoToR``, ``/GoToE``), play media
(``/Rendition``, ``/Movie``, ``/Sound``, ``/RichMediaExecute``), files inside the
PDF (``/EmbeddedFiles``, ``/EF`` of any file specification, ``/AF``,
``/FileAttachment`` annotations, portfolios), Flash and 3D (``/RichMedia``,
``/3D``, ``/Screen``) and XFA forms. :func:`strip` removes all of it from a
pikepdf ``Pdf`` in place and says what it removed (kind → count).

What stays is an allow-list of actions that only move inside the document or
show and hide its own content (``/GoTo``, ``/Named``, ``/SetOCGState``,
``/Trans``, ``/Hide``, ``/ResetForm``) and web links (``/URI`` with an
``http``, ``https`` or ``mailto`` address: the tablet's viewer asks before it
opens one; any other scheme, ``javascript:`` or ``file:``, is removed). Pages,
their content, fonts, images, links and form appearances are untouched.

This module runs in the intake child (``intake.py`` loads it by path: standard
library and pikepdf only, no application import).
"""
from __future__ import annotations

from collections import Counter

SAFE_ACTIONS = frozenset({"/GoTo", "/Named", "/SetOCGState", "/Trans", "/Hide", "/ResetForm", "/URI"})
SAFE_URI_SCHEMES = ("http://", "https://", "mailto:")

# Kinds of what is removed, as recorded on the document (a fixed vocabulary: a
# hostile file cannot invent keys of the stored report).
ACTION_KINDS = {
    "/JavaScript": "javascript", "/Launch": "launch", "/SubmitForm": "submit_form",
    "/ImportData": "import_data", "/GoToR": "remote_goto", "/GoToE": "embedded_goto",
    "/URI": "uri", "/Rendition": "media", "/Movie": "media", "/Sound": "media",
    "/RichMediaExecute": "rich_media", "/GoTo3DView": "3d", "/Thread": "thread",
}
ANNOTATION_KINDS = {
    "/FileAttachment": "file_attachment", "/RichMedia": "rich_media", "/Movie": "media",
    "/Sound": "media", "/Screen": "media", "/3D": "3d",
}
MAX_CHAIN = 1000  # /Next chains longer than this are cut (each link is counted)


def _pikepdf():
    import pikepdf

    return pikepdf


def _key(obj) -> tuple | None:
    # Indirect objects by their number: they may be reached many times, or in a loop.
    # Direct ones have no stable identity (pikepdf wraps them afresh on each access)
    # and need none: each sits inside its one parent, so they cannot loop.
    return obj.objgen if obj.is_indirect else None


def _seen_before(obj, seen: set) -> bool:
    """Whether the indirect ``obj`` was visited already; marks it visited."""
    key = _key(obj)
    if key is None:
        return False
    if key in seen:
        return True
    seen.add(key)
    return False


def _action_kind(action) -> str:
    return ACTION_KINDS.get(str(action.get("/S", "")), "other_action")


def _safe_action(action) -> bool:
    kind = str(action.get("/S", ""))
    if kind not in SAFE_ACTIONS:
        return False
    if kind == "/URI":
        uri = str(action.get("/URI", "")).strip().lower()
        return uri.startswith(SAFE_URI_SCHEMES)
    return True


def _next_of(action) -> list:
    pikepdf = _pikepdf()
    nxt = action.get("/Next")
    if nxt is None:
        return []
    return list(nxt) if isinstance(nxt, pikepdf.Array) else [nxt]


def _count_chain(action, found: Counter, seen: set) -> None:
    """Count ``action`` and every action after it (``/Next``) as removed."""
    pikepdf = _pikepdf()
    todo = [action]
    steps = 0
    while todo and steps < MAX_CHAIN:
        act = todo.pop()
        steps += 1
        if not isinstance(act, pikepdf.Dictionary) or _seen_before(act, seen):
            continue
        found[_action_kind(act)] += 1
        todo.extend(_next_of(act))


def _prune_action(action, found: Counter, seen: set, depth: int = 0) -> bool:
    """Keep ``action`` (True) if it is safe, pruning the unsafe actions it chains to."""
    pikepdf = _pikepdf()
    if not isinstance(action, pikepdf.Dictionary):
        return False  # not an action at all: a broken entry, dropped
    if not _safe_action(action):
        _count_chain(action, found, seen)
        return False
    if _seen_before(action, seen) or depth > MAX_CHAIN:
        return False  # a loop of /Next (kept at its first visit), or an absurd chain
    following = _next_of(action)
    if following:
        kept = [a for a in following if _prune_action(a, found, seen, depth + 1)]
        if not kept:
            del action["/Next"]
        elif len(kept) != len(following):
            action["/Next"] = pikepdf.Array(kept)
    return True


def _strip_dict(obj, found: Counter, files: set) -> list:
    """Remove the triggers, actions and embedded files of one dictionary; return what to walk next."""
    pikepdf = _pikepdf()
    if "/AA" in obj:
        triggers = obj["/AA"]
        if isinstance(triggers, pikepdf.Dictionary):
            for name in list(triggers.keys()):
                found["additional_actions"] += 1
                _count_chain(triggers[name], found, set())
        del obj["/AA"]
    for slot in ("/A", "/OpenAction"):
        action = obj.get(slot)
        # An /OpenAction may also be a destination (an array): that only shows a page.
        if action is None or isinstance(action, pikepdf.Array):
            continue
        if not _prune_action(action, found, set()):
            del obj[slot]
            if slot == "/OpenAction":
                found["open_action"] += 1
    ef = obj.get("/EF")
    if ef is not None:
        if isinstance(ef, pikepdf.Dictionary):
            for name in ef.keys():
                key = _key(ef[name])
                if key is None:  # a direct stream cannot be (streams are indirect): count it anyway
                    found["embedded_file"] += 1
                else:
                    files.add(key)
        del obj["/EF"]
    if "/RF" in obj:  # related files (the pieces of an embedded file)
        del obj["/RF"]
    nexts = []
    for name in list(obj.keys()):
        value = obj.get(name)
        if isinstance(value, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream):
            nexts.append(value)
    if "/AF" in obj:  # associated files (PDF 2.0): walked above for their /EF, then dropped
        del obj["/AF"]
    return nexts


def _walk(pdf, found: Counter, files: set) -> None:
    """Visit every object reachable from the trailer once, stripping each dictionary."""
    pikepdf = _pikepdf()
    seen: set = set()
    todo = [pdf.Root]
    while todo:
        obj = todo.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            todo.extend(v for v in obj if isinstance(v, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream))
        else:  # a dictionary, or a stream's dictionary (its data is never decoded here)
            todo.extend(_strip_dict(obj, found, files))


def _name_tree_size(node, seen: set | None = None) -> int:
    pikepdf = _pikepdf()
    seen = set() if seen is None else seen
    if not isinstance(node, pikepdf.Dictionary) or len(seen) > 100_000 or _seen_before(node, seen):
        return 0
    count = len(node.get("/Names", [])) // 2
    for kid in node.get("/Kids", []):
        count += _name_tree_size(kid, seen)
    return count


def _strip_annotations(pdf, found: Counter) -> None:
    pikepdf = _pikepdf()
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        drop = []
        removed = set()  # numbers of the removed indirect annotations, for their pop-ups
        for annot in annots:
            kind = ANNOTATION_KINDS.get(str(annot.get("/Subtype", ""))) if isinstance(
                annot, pikepdf.Dictionary) else None
            drop.append(kind is not None)
            if kind:
                found[kind] += 1
                if annot.is_indirect:
                    removed.add(annot.objgen)
        if not any(drop):
            continue
        kept = []
        for annot, dropped in zip(annots, drop, strict=True):
            parent = annot.get("/Parent") if isinstance(annot, pikepdf.Dictionary) else None
            # A removed annotation's pop-up note goes with it.
            if dropped or (parent is not None and parent.is_indirect and parent.objgen in removed):
                continue
            kept.append(annot)
        page.obj["/Annots"] = pikepdf.Array(kept)


def strip(pdf) -> dict[str, int]:
    """Remove JavaScript, actions other than the allowed ones, triggers and embedded files
    from ``pdf`` (a pikepdf ``Pdf``) in place; return kind → count of what was removed."""
    found: Counter = Counter()
    files: set = set()
    root = pdf.Root
    _walk(pdf, found, files)  # /AA, /A, /OpenAction, /EF, /AF wherever they are
    names = root.get("/Names")
    if names is not None:
        if "/JavaScript" in names:
            found["javascript"] += max(1, _name_tree_size(names["/JavaScript"]))
            del names["/JavaScript"]
        if "/EmbeddedFiles" in names:
            if not files:  # file specifications without their /EF still name outside files
                found["embedded_file"] += _name_tree_size(names["/EmbeddedFiles"])
            del names["/EmbeddedFiles"]
    _strip_annotations(pdf, found)
    acroform = root.get("/AcroForm")
    if acroform is not None and "/XFA" in acroform:
        found["xfa"] += 1
        del acroform["/XFA"]
    for key, kind in (("/Collection", "portfolio"), ("/NeedsRendering", "xfa")):
        if key in root:
            found[kind] += 1
            del root[key]
    if files:
        found["embedded_file"] += len(files)
    return {kind: n for kind, n in sorted(found.items()) if n}


def is_signed(pdf) -> bool:
    """Whether the PDF carries a digital signature (signed signature fields, or SigFlags says so)."""
    pikepdf = _pikepdf()
    acroform = pdf.Root.get("/AcroForm")
    if not isinstance(acroform, pikepdf.Dictionary):
        return False
    try:
        if int(acroform.get("/SigFlags", 0)) & 1:
            return True
    except (TypeError, ValueError):
        pass
    seen: set = set()
    todo = list(acroform.get("/Fields", []))
    steps = 0
    while todo and steps < 100_000:
        field = todo.pop()
        steps += 1
        if not isinstance(field, pikepdf.Dictionary) or _seen_before(field, seen):
            continue
        if field.get("/FT") == "/Sig" and field.get("/V") is not None:
            return True
        todo.extend(field.get("/Kids", []))
    return False


class DisarmFailed(Exception):
    """The rewritten copy did not come out clean and whole (never expected: a safety net)."""


def disarm_file(src: str, dst: str) -> dict:
    """Disarm the PDF at ``src``. Writes the cleaned copy to ``dst`` only if something was
    removed or qpdf had to repair the file (so the copy delivered is the one checked, not
    a second reader's guess at a broken file); a clean file is left as it is.

    Returns ``{"disarmed": {kind: count}, "signed": bool, "rewritten": bool}``.
    """
    pikepdf = _pikepdf()
    with pikepdf.open(src) as pdf:
        signed = is_signed(pdf)
        pages = len(pdf.pages)
        removed = strip(pdf)
        repaired = bool(pdf.get_warnings())  # read after the walk: qpdf parses objects lazily
        if not removed and not repaired:
            return {"disarmed": {}, "signed": signed, "rewritten": False}
        # deterministic_id: the same upload gives the same copy (stored once, same sha256).
        pdf.save(dst, deterministic_id=True)
    with pikepdf.open(dst) as copy:
        left = strip(copy)
        if len(copy.pages) != pages or left:
            raise DisarmFailed(f"copy has {len(copy.pages)}/{pages} pages, still carries {left}")
    return {"disarmed": removed, "signed": signed, "rewritten": True}
