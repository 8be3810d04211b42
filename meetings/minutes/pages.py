"""The /verify page: upload any PDF, see each signature's signer, role, time and state.

Plain HTML form (works without JavaScript), CSRF-protected; the PDF is
checked in a child process like every other untrusted file.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from meetings.core.errors import DomainError
from meetings.minutes import verification

bp = Blueprint("minutes_pages", __name__)


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_page():
    """The form, and on POST the report of the uploaded PDF (or why it could not be checked)."""
    report, error = None, None
    if request.method == "POST":
        try:
            report = verification.verify_upload(verification.read_upload(request), current_app.config)
        except DomainError as err:
            error = err.message
    return render_template("minutes/verify.html", report=report, error=error), 422 if error else 200
