"""The /verify page: upload any PDF, see each signature's signer, role, time and state.

Plain HTML form (works without JavaScript), CSRF-protected; the PDF is
checked in a child process like every other untrusted file.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from meetings.core.errors import DomainError

bp = Blueprint("minutes_pages", __name__)


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_page():
    from flask import request

    from meetings.minutes.views import read_upload, verify_upload

    report, error = None, None
    if request.method == "POST":
        try:
            report = verify_upload(read_upload())
        except DomainError as err:
            error = err.message
    return render_template("minutes/verify.html", report=report, error=error), 422 if error else 200
