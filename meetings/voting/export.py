"""Results export: JSON and CSV. A named poll lists each voter's choice; a secret one only totals."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.core.spreadsheet import text_cell
from meetings.voting.models import BallotCast, Poll
from meetings.voting.results import named_votes, present_poll, public_result


def ballots(session: Session, poll: Poll) -> list[dict[str, Any]] | None:
    """Each voter's choice on a named poll with when it was cast (ISO 8601, UTC); None for a secret poll.

    What every export lists per voter (this poll's CSV and JSON, the archival bag)."""
    votes = named_votes(session, poll)
    if votes is None:
        return None
    cast = dict(session.execute(select(BallotCast.voter_id, BallotCast.cast_at)
                                .where(BallotCast.poll_id == poll.id)).tuples().all())
    return [{**v, "cast_at": cast[v["voter_id"]].isoformat() if cast.get(v["voter_id"]) else None} for v in votes]


def results_json(session: Session, poll: Poll) -> dict[str, Any]:
    """The poll, its stored result and (named polls) each voter's choice."""
    return {"poll": present_poll(poll), "result": public_result(poll), "named_votes": ballots(session, poll)}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None  # stored times read back aware, in UTC


def results_csv(session: Session, poll: Poll) -> str:
    """One CSV: the poll and its figures, the option counts, then (named polls) every voter's choice.

    Starts with a UTF-8 byte order mark so spreadsheet programs read Vietnamese correctly.
    """
    result = public_result(poll) or {}
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["poll_id", "title", "kind", "secret", "status", "outcome", "base", "base_count", "threshold",
                "required", "cast", "abstained", "present", "entitled", "quorum_met", "tie_break_used",
                "opened_at", "closed_at"])
    quorum = result.get("quorum") or {}
    w.writerow([poll.id, text_cell(poll.title), poll.kind, poll.secret, poll.status,
                "annulled" if poll.status == "annulled" else result.get("outcome"), result.get("base"),
                result.get("base_count"), result.get("threshold"), result.get("required"), result.get("cast"),
                result.get("abstained"), result.get("present"), result.get("entitled"), quorum.get("met"),
                result.get("tie_break_used"), _iso(poll.opened_at), _iso(poll.closed_at)])
    w.writerow([])
    w.writerow(["option_id", "label", "count", "passed"])
    for o in result.get("options", []):
        w.writerow([o["id"], text_cell(o["label"]), o["count"], o.get("passed")])
    votes = ballots(session, poll)
    if votes is not None:
        w.writerow([])
        w.writerow(["voter_id", "voter", "cast_by", "choices", "weight", "by_proxy_for", "cast_at"])
        for v in votes:
            w.writerow([v["voter_id"], text_cell(v["voter_name"]), text_cell(v["cast_by_name"]),
                        text_cell("; ".join(v["choice_labels"])),
                        v["weight"], text_cell(v["by_proxy_for"] or ""), v["cast_at"]])
    return out.getvalue()
