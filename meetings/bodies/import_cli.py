"""`flask --app wsgi import-participants FILE --meeting ID [--dry-run]` (or `--body ID`).

The operator's way to bring a list (CSV or XLSX) into a meeting or a body: the same
service as the console and REST (``meetings.bodies.imports``), acting as ``--as``
(an administrator's username; the first active administrator by default). Prints the
preview table and every bad row; with ``--dry-run`` nothing is written. The apply is
its own unit of work: all rows or none. Exit 1 when rows are in error (nothing written).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from meetings.core.errors import DomainError

_ACTIONS = {"new": "mới", "update": "cập nhật", "same": "—", "add": "thêm", None: ""}


def _actor(session, username: str | None):
    from meetings.accounts.models import User

    stmt = select(User).where(User.active.is_(True))
    stmt = stmt.where(User.username == username) if username else \
        stmt.where(User.global_role == "admin").order_by(User.id).limit(1)
    actor = session.execute(stmt).scalar_one_or_none()
    if actor is None:
        raise click.UsageError(f"no active user {username!r}" if username else "no active administrator: use --as")
    return actor


def _table(report: dict[str, Any]) -> None:
    click.echo(f"{'dòng':>5}  {'họ và tên':<30} {'tên đăng nhập':<22} {'tài khoản':<10} "
               f"{'tham dự':<10} {'vai trò':<10} {'đơn vị':<20}")
    for row in report["rows"]:
        if row["errors"]:
            continue
        action = row.get("participant", row.get("member"))
        click.echo(f"{row['row']:>5}  {(row['full_name'] or '')[:30]:<30} {(row['username'] or '')[:22]:<22} "
                   f"{_ACTIONS.get(row.get('user'), ''):<10} {_ACTIONS.get(action, ''):<10} "
                   f"{(row.get('role') or '')[:10]:<10} {(row.get('unit') or '')[:20]:<20}")
    for error in report["errors"]:
        click.echo(f"ERROR row {error['row']} [{error['column'] or '-'}] {error['code']}: {error['message']}", err=True)
    for warning in report["warnings"]:
        click.echo(f"warning row {warning['row']} [{warning['column'] or '-'}] {warning['message']}", err=True)
    counts = ", ".join(f"{k}={v}" for k, v in report["counts"].items() if v)
    click.echo(("applied: " if report["applied"] else "dry run (nothing written): ") + counts)


@click.command("import-participants")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--meeting", "meeting_id", type=int, help="Import participants (and their accounts) into this meeting.")
@click.option("--body", "body_id", type=int, help="Import members (and their accounts) into this body instead.")
@click.option("--dry-run", is_flag=True, help="Only show what would be done, and the bad rows.")
@click.option("--as", "username", help="Act as this user (default: the first active administrator).")
def import_participants(file: Path, meeting_id: int | None, body_id: int | None, dry_run: bool,
                        username: str | None) -> None:
    """Import a CSV or XLSX list of people into a meeting (--meeting) or a body (--body)."""
    from meetings.bodies import imports
    from meetings.bodies.models import Body, Meeting
    from meetings.platform.jobs import unit_of_work

    if (meeting_id is None) == (body_id is None):
        raise click.UsageError("give --meeting ID or --body ID (one of them)")
    data = file.read_bytes()
    try:
        with unit_of_work() as session:
            actor = _actor(session, username)
            target = session.get(Meeting, meeting_id) if meeting_id else session.get(Body, body_id)
            if target is None:
                raise click.UsageError(f"no {'meeting' if meeting_id else 'body'} {meeting_id or body_id}")
            if dry_run:
                preview = imports.preview_meeting if meeting_id else imports.preview_body
                report = preview(session, target, actor, data, file.name)
                session.rollback()  # a dry run writes nothing
            else:
                apply = imports.import_meeting if meeting_id else imports.import_body
                report = apply(session, target, actor, data, file.name)
    except DomainError as err:
        rows = (err.details or {}).get("errors") if isinstance(err.details, dict) else None
        if rows:  # rows in error: show them all, nothing was written
            click.echo("nothing imported:", err=True)
            for e in rows:
                click.echo(f"ERROR row {e['row']} [{e['column'] or '-'}] {e['code']}: {e['message']}", err=True)
        else:
            click.echo(f"error: {err.message}", err=True)
        raise SystemExit(1) from None
    _table(report)
    if report["errors"]:
        raise SystemExit(1)
