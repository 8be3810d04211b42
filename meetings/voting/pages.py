"""The bulletin board page of a secret poll: ``/polls/<id>/board``.

Server-rendered from the same JSON as ``GET /api/v1/polls/<id>/board`` (``reading.read_board``,
so the same people see the same things): the tracking codes of every ballot, the
counts once decrypted, which committee members sent their partial decryption, and
how anyone checks it all with the stand-alone verifier. ``?code=XXXX-XXXX-XXXX``
marks a voter's own ballot in the list.
"""
from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from flask_login import login_required

from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.platform.http.caller import require_user
from meetings.voting import reading

bp = Blueprint("voting_pages", __name__)

_CODE = re.compile(r"[A-Z2-7]{4}-?[A-Z2-7]{4}-?[A-Z2-7]{4}")


def _wanted_code(raw: str | None) -> str | None:
    """The code a voter typed, as the board writes it (upper case, grouped by four), or None."""
    text = (raw or "").strip().upper().replace(" ", "")
    if not _CODE.fullmatch(text):
        return None
    bare = text.replace("-", "")
    return f"{bare[:4]}-{bare[4:8]}-{bare[8:]}"


@bp.route("/polls/<int:poll_id>/board")
@login_required
def board_page(poll_id: int):
    """The poll's bulletin board for whoever may see the poll (404 otherwise, 409 for a named poll)."""
    user = require_user()
    board = reading.read_board(db.session, poll_id, user)  # checks who may see the poll
    poll = reading.visible_poll(db.session, poll_id, user)
    meeting = db.session.get(Meeting, poll.meeting_id)
    committee = board.get("committee") or {}
    names = {m["index"]: m["name"] for m in committee.get("members") or []}
    asked = request.args.get("code")
    code = _wanted_code(asked)
    counts = (board.get("result") or {}).get("counts")
    return render_template(
        "voting/board.html", poll=poll, meeting=meeting, board=board, committee=committee,
        options=list(poll.options), counts=counts,
        partial_members=[(p["member_index"], names.get(p["member_index"], "")) for p in board["partial_decryptions"]],
        code=code, code_asked=bool(asked), code_found=bool(code) and any(
            b["tracking_code"] == code for b in board["ballots"]),
        json_url=f"/api/v1/polls/{poll.id}/board",
    )
