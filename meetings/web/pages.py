"""The tablet web app's pages: delegate room, secretariat console, projector
screen, archive, and the service worker.

Pages are thin: they check who may see the meeting and render a template
with a small JSON "boot" block (ids, the user's role, URLs); the scripts'
translated strings come from templates/room/_strings.html. Everything live
comes over the socket and the REST API, so a page never holds state the
server does not also send to other clients.
"""
from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import select

from meetings.bodies import permissions
from meetings.bodies.models import Meeting
from meetings.core.config import PROJECT_ROOT
from meetings.core.extensions import db
from meetings.documents.models import Document
from meetings.platform.http.caller import require_user

bp = Blueprint("web_pages", __name__)

# The page's import map: modules import the ballot cryptography by bare specifiers
# (``@noble/curves/ed25519.js``), which node resolves from node_modules/ (the JS tests) and the
# browser through this map to /vendor/; noble-curves itself imports ``@noble/hashes/…`` that way.
IMPORT_MAP = {"imports": {"@noble/curves/": "/vendor/@noble/curves/",
                          "@noble/hashes/": "/vendor/@noble/hashes/"}}


@cache
def import_map_json() -> str:
    """The import map's exact text: the CSP allows the inline script by the hash of these bytes."""
    return json.dumps(IMPORT_MAP, separators=(",", ":"), sort_keys=True)


def import_map_csp_source() -> str:
    """The CSP ``script-src`` source that allows the import map and no other inline script."""
    digest = hashlib.sha256(import_map_json().encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def import_map_tag() -> Markup:
    """``<script type="importmap">``, for base.html's head before any module script."""
    return Markup(f'<script type="importmap">{import_map_json()}</script>')  # constant text, no user data


def _meeting_for(meeting_id: int, check) -> tuple[Meeting, Any]:
    """The meeting and the caller, or 404 (unknown or invisible) / 403 (visible but not allowed)."""
    user = require_user()
    meeting = permissions.visible_meeting(db.session, meeting_id, user)  # 404 for the unknown and invisible
    if not check(meeting, user):
        abort(403)
    return meeting, user


def _documents(meeting: Meeting, user) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Document).where(Document.meeting_id == meeting.id, Document.is_current.is_(True))
        .order_by(Document.agenda_item_id, Document.id)
    ).scalars().all()
    return [
        {"id": d.id, "title": d.title, "item_id": d.agenda_item_id, "pages": d.page_count,
         "published": d.published, "version": d.version, "confidentiality": d.confidentiality}
        for d in rows if permissions.can_view_document(meeting, user, d.published)
    ]


def _boot(meeting: Meeting, user, **extra: Any) -> dict[str, Any]:
    """What every meeting page's scripts start from; live state arrives on join."""
    participant = permissions.participant_of(meeting, user)
    return {
        "meeting": {"id": meeting.id, "title": meeting.title, "place": meeting.place,
                    "status": meeting.status, "starts_at": meeting.starts_at.isoformat(),
                    "last_seq": meeting.last_seq},
        "items": [{"id": i.id, "title": i.title, "status": i.status, "position": i.position,
                   "parent_id": i.parent_id, "presenter_id": i.presenter_id}
                  for i in meeting.items],
        "documents": _documents(meeting, user),
        "me": {"id": user.id, "name": user.full_name,
               "role": participant.role if participant else None,
               "can_vote": bool(participant and participant.can_vote),
               "can_run": permissions.can_run(meeting, user),
               "can_prepare": permissions.can_prepare(meeting, user)},
        "locale": str(get_locale() or "vi"),
        "urls": {
            "api": "/api/v1",
            "document_file": "/api/v1/documents/{id}/file",
            "pdf": "/vendor/pdfjs-dist/build/pdf.mjs",
            "pdf_worker": "/vendor/pdfjs-dist/build/pdf.worker.mjs",
            "sw": url_for("web_pages.service_worker"),
            "room": url_for("web_pages.room", meeting_id=meeting.id),
            "console": url_for("web_pages.console", meeting_id=meeting.id),
            "screen": url_for("web_pages.screen", meeting_id=meeting.id),
        },
        **extra,
    }


@bp.route("/meetings/<int:meeting_id>/room")
@login_required
def room(meeting_id: int):
    """The delegate's room: agenda, document viewer, pen, votes, speaking."""
    meeting, user = _meeting_for(meeting_id, permissions.can_view)
    return render_template("room/room.html", meeting=meeting, boot=_boot(meeting, user))


@bp.route("/meetings/<int:meeting_id>/console")
@login_required
def console(meeting_id: int):
    """The secretariat's live control: roll call, current item and page, speakers, polls, minutes."""
    meeting, user = _meeting_for(meeting_id, permissions.can_run)
    return render_template("console/live.html", meeting=meeting, boot=_boot(meeting, user))


@bp.route("/meetings/<int:meeting_id>/prepare")
@login_required
def prepare(meeting_id: int):
    """The secretariat's preparation: details, agenda, documents, participants, publish."""
    meeting, user = _meeting_for(meeting_id, permissions.can_prepare)
    return render_template("console/prepare.html", meeting=meeting, boot=_boot(meeting, user))


@bp.route("/meetings/new")
@login_required
def new_meeting():
    """Create a meeting (the API decides who may)."""
    user = require_user()
    boot = {"me": {"id": user.id, "name": user.full_name}, "locale": str(get_locale() or "vi"),
            "urls": {"api": "/api/v1"}}
    return render_template("console/new.html", boot=boot)


@bp.route("/meetings/<int:meeting_id>/screen")
@login_required
def screen(meeting_id: int):
    """The hall's projector: current item, speaker and time, vote results, quorum. Read-only."""
    meeting, user = _meeting_for(meeting_id, permissions.can_view)
    return render_template("screen/screen.html", meeting=meeting, boot=_boot(meeting, user))


@bp.route("/archive")
@login_required
def archive():
    """Search closed meetings, download minutes and bundles, verify a signed PDF."""
    user = require_user()
    boot = {"me": {"id": user.id, "name": user.full_name}, "locale": str(get_locale() or "vi"),
            "urls": {"api": "/api/v1"}}
    return render_template("archive/archive.html", boot=boot)


@bp.route("/sw.js")
def service_worker():
    """The offline service worker, served from the root so its scope covers every page."""
    resp = send_from_directory(current_app.static_folder or str(PROJECT_ROOT / "static"), "sw.js",
                               mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
