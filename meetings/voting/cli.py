"""`flask --app wsgi poll …`: check a secret poll's bulletin board.

``poll verify POLL_ID`` builds the board from the database (as the bundle carries
it) and runs the stand-alone verifier on it; ``poll verify --file board.json``
checks a board file someone handed over. Exit 0 and "OK …" when every proof
and the count hold; exit 1 naming every failure; exit 2 for a poll or file
that is not there (click's usage error). Reads only: no unit of work.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from meetings.core.extensions import db

poll_group = AppGroup("poll", help="Polls: verify a secret poll's bulletin board.")


@poll_group.command("verify")
@click.argument("poll_id", type=int, required=False)
@click.option("--file", "board_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A bulletin board file (JSON) instead of a poll of this database.")
def poll_verify(poll_id: int | None, board_file: Path | None):
    """Recompute the tally of a secret poll's bulletin board and check every proof; exit 1 if anything fails."""
    from meetings.voting import board, verify_board
    from meetings.voting.models import Poll

    if (poll_id is None) == (board_file is None):
        raise click.UsageError("give a POLL_ID or --file board.json (one of them)")
    if board_file is not None:
        try:
            data = json.loads(board_file.read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise click.UsageError(f"{board_file}: not a JSON file ({err})") from err
    else:
        poll = db.session.get(Poll, poll_id)
        if poll is None or not poll.secret or poll.board_id is None:
            raise click.UsageError(f"poll {poll_id}: no secret poll with a bulletin board")
        data = board.bulletin_board(db.session, poll)
        db.session.rollback()  # read only
    report = verify_board.verify(data) if isinstance(data, dict) else verify_board.Report(
        ["board: not a JSON object"], "FAILED")
    click.echo(report.summary)
    for failure in report.failures:
        click.echo(f"  - {failure}", err=True)
    if not report.ok:
        raise SystemExit(1)
