"""REST: the archival package of a written opinion form (``GET /api/v1/opinion-forms/<id>/bundle``)."""
from __future__ import annotations

import tempfile

from flask import current_app, send_file
from flask_smorest import Blueprint

from meetings.archive import opinion_files
from meetings.core.extensions import db
from meetings.opinions import service
from meetings.platform.http.caller import require_user
from meetings.platform.http.schemas import error_responses

blp = Blueprint("opinion_bundles", __name__, description="Archive: opinion forms' packages")


@blp.route("/opinion-forms/<int:form_id>/bundle")
@blp.response(200, description="A zipped BagIt bag (application/zip)")
@error_responses(blp, 403, 404)
def opinion_bundle(form_id: int):
    """The form's package: the form, answers (JSON, CSV, signed papers), the signed report, attachments, audit log."""
    user = require_user()
    form = service.find_form(db.session, form_id, user)
    out = tempfile.TemporaryFile()
    try:
        opinion_files.write_bundle(db.session, form, user, current_app.config, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return send_file(out, mimetype="application/zip", as_attachment=True,
                     download_name=f"opinion-form-{form_id}-bag.zip", max_age=0)
