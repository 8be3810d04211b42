"""Results export: JSON and CSV. A named poll lists each voter's choice; a secret one only totals."""
from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from meetings.voting.models import Poll
from meetings.voting.results import named_votes, present_poll, public_result


def results_json(session: Session, poll: Poll) -> dict[str, Any]:
    """The poll, its stored result and (named polls) each voter's choice."""
    return {"poll": present_poll(poll), "result": public_result(poll), "named_votes": named_votes(session, poll)}


def _cell(value: Any) -> Any:
    # Untrusted text starting like a formula would run in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def results_csv(session: Session, poll: Poll) -> str:
    """One CSV: the poll and its figures, the option counts, then (named polls) every voter's choice.

    Starts with a UTF-8 byte order mark so spreadsheet programs read Vietnamese correctly.
    """
    result = public_result(poll) or {}
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["poll_id", "title", "kind", "secret", "status", "outcome", "base", "base_count", "threshold",
                "required", "cast", "abstained", "present", "entitled", "quorum_met", "tie_break_used"])
    quorum = result.get("quorum") or {}
    w.writerow([poll.id, _cell(poll.title), poll.kind, poll.secret, poll.status,
                "annulled" if poll.status == "annulled" else result.get("outcome"), result.get("base"),
                result.get("base_count"), result.get("threshold"), result.get("required"), result.get("cast"),
                result.get("abstained"), result.get("present"), result.get("entitled"), quorum.get("met"),
                result.get("tie_break_used")])
    w.writerow([])
    w.writerow(["option_id", "label", "count", "passed"])
    for o in result.get("options", []):
        w.writerow([o["id"], _cell(o["label"]), o["count"], o.get("passed")])
    votes = named_votes(session, poll)
    if votes is not None:
        w.writerow([])
        w.writerow(["voter_id", "voter", "cast_by", "choices", "weight"])
        for v in votes:
            w.writerow([v["voter_id"], _cell(v["voter_name"]), _cell(v["cast_by_name"]),
                        _cell("; ".join(v["choice_labels"])),
                        v["weight"]])
    return out.getvalue()
