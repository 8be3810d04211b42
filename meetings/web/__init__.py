"""Server-rendered pages (login, meetings) and the browser libraries under /vendor/.

The tablet app loads pdf.js, the Socket.IO client, the DejaVu fonts and the
ballot cryptography (@noble/curves, @noble/hashes) from this server, never from
a CDN: halls often have no Internet, and a CDN would see who reads what. They
are the npm packages installed into node_modules/ by `make run` (`npm ci` from
the committed package-lock.json).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Flask, abort, request, send_from_directory, url_for
from werkzeug.security import safe_join

from meetings.core.config import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "node_modules"
# Only these packages are served; everything else in node_modules stays private.
VENDOR_PACKAGES = ("pdfjs-dist", "socket.io-client", "dejavu-fonts-ttf", "@noble/curves", "@noble/hashes")
# ``X-Content-Type-Options: nosniff`` is on, so module scripts and wasm need exact types.
_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".bcmap": "application/octet-stream",
    ".pfb": "application/octet-stream",
    ".ttf": "font/ttf",
    ".icc": "application/vnd.iccprofile",
}
LONG_CACHE = 365 * 24 * 3600  # URL carries the version: it never changes meaning
SHORT_CACHE = 3600  # unversioned URL: revalidate (ETag) after an hour


@cache
def vendor_version(package: str) -> str | None:
    """The installed version of a served package, from its package.json."""
    try:
        return json.loads((NODE_MODULES / package / "package.json").read_text("utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None


def vendor_url(package: str, path: str) -> str:
    """URL of a vendored file with ``?v=<version>``, so browsers may cache it for a year."""
    return url_for("vendor", package=package, filename=path, v=vendor_version(package))


def init_pages(app: Flask) -> None:
    from meetings.accounts.pages import bp as accounts_pages
    from meetings.web.meeting_pages import bp as meeting_pages

    app.register_blueprint(accounts_pages)
    from meetings.accounts.factor_pages import bp as factor_pages  # /login/second-factor

    app.register_blueprint(factor_pages)
    from meetings.accounts.device_pages import bp as device_pages  # /devices

    app.register_blueprint(device_pages)
    app.register_blueprint(meeting_pages)
    from meetings.web.pages import bp as web_pages  # the tablet app: room, console, screen, archive

    app.register_blueprint(web_pages)
    from meetings.minutes.pages import bp as minutes_pages  # /verify: check any signed PDF

    app.register_blueprint(minutes_pages)
    from meetings.voting.pages import bp as voting_pages  # /polls/<id>/board: a secret poll's bulletin board

    app.register_blueprint(voting_pages)
    from meetings.notifications.pages import bp as invitation_pages  # /invitations/<token>, /calendar/<token>.ics

    app.register_blueprint(invitation_pages)
    from meetings.opinions.pages import bp as opinion_pages  # /opinions, /opinions/<id>: answer a written opinion form

    app.register_blueprint(opinion_pages)
    from meetings.accounts.enrolment_pages import bp as enrolment_pages  # /enrol/<secret>: a tablet's QR code
    from meetings.bodies.enrolment_views import pages as enrolment_sheet_pages  # /meetings/<id>/tablets, the sheet

    app.register_blueprint(enrolment_pages)
    app.register_blueprint(enrolment_sheet_pages)
    from meetings.tasks.pages import bp as task_pages  # /tasks, /tasks/<id>, /bodies/<id>/tasks (dashboard)

    app.register_blueprint(task_pages)
    from meetings.bodies.unit_pages import bp as unit_pages  # /bodies/<id>/units: the office staffs its units

    app.register_blueprint(unit_pages)
    from meetings.conclusions.pages import bp as conclusion_pages  # /meetings/<id>/conclusions: the notice

    app.register_blueprint(conclusion_pages)
    from meetings.core.extensions import csrf
    from meetings.minutes.pki_views import bp as pki_views  # /pki/: the CA's CRL and OCSP, public

    app.register_blueprint(pki_views)
    csrf.exempt(pki_views)  # OCSP clients POST DER, with no session to forge
    _init_vendor(app)


def _init_vendor(app: Flask) -> None:
    from meetings.web.pages import import_map_csp_source, import_map_tag

    app.add_template_global(vendor_url)
    app.add_template_global(import_map_tag)  # base.html: bare "@noble/…" imports resolve to /vendor/
    # The import map is an inline script: the CSP (meetings/core/security.py) allows it by its hash.
    app.config["CSP_SCRIPT_SOURCES"] = (import_map_csp_source(),)

    @app.get("/vendor/<package>/<path:filename>")
    def vendor(package: str, filename: str):
        """A file of one of the VENDOR_PACKAGES; 404 for anything else."""
        if package.startswith("@"):  # a scoped package, /vendor/@scope/name/…: its name has two segments
            name, _, filename = filename.partition("/")
            package = f"{package}/{name}"
        if package not in VENDOR_PACKAGES:
            abort(404)
        root = (NODE_MODULES / package).resolve()
        # safe_join refuses "..", absolute paths and NUL bytes; the resolve check
        # also refuses a symlink pointing out of the package.
        joined = safe_join(str(root), filename) if "\x00" not in filename else None
        target = Path(joined).resolve() if joined else None
        if target is None or not target.is_relative_to(root) or not target.is_file():
            abort(404)
        version = vendor_version(package)
        pinned = version is not None and request.args.get("v") == version
        resp = send_from_directory(root, filename, mimetype=_TYPES.get(Path(filename).suffix.lower()),
                                   max_age=LONG_CACHE if pinned else SHORT_CACHE, conditional=True, etag=True)
        resp.cache_control.public = True
        if pinned:
            resp.cache_control.immutable = True
        return resp
