"""Operator commands: `flask --app wsgi …`."""
from __future__ import annotations

import click
from flask import Flask, current_app

from meetings.core.extensions import db


def init_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema."""

    @db_group.command("upgrade")
    @click.option("--revision", default="heads", show_default=True)
    def db_upgrade(revision: str):
        """Apply every migration (all domain branches) to DATABASE_URL."""
        from meetings.core.migrate import upgrade

        upgrade(current_app.config["DATABASE_URL"], revision)
        click.echo("database is up to date")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--full-name", required=True, help="Name as printed in minutes.")
    @click.option("--email", default=None)
    @click.option("--role", "global_role", type=click.Choice(["admin", "archivist"]), default=None,
                  help="Global role; meeting roles are given per meeting.")
    @click.password_option(help="Asked for when not given.")
    def create_user(username, full_name, email, global_role, password):
        """Create a user account."""
        from meetings.accounts.service import create_user as create
        from meetings.core.errors import DomainError

        try:
            user = create(db.session, username, password, full_name, email=email, global_role=global_role)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            raise click.ClickException(err.message) from err
        click.echo(f"created user {user.username} (id {user.id})")

    app.cli.add_command(__import__("meetings.minutes.cli", fromlist=["ca_group"]).ca_group)
    app.cli.add_command(__import__("meetings.minutes.cli", fromlist=["minutes_group"]).minutes_group)
    app.cli.add_command(__import__("meetings.voting.cli", fromlist=["poll_group"]).poll_group)
    app.cli.add_command(__import__("meetings.platform.jobs.cli", fromlist=["jobs_group"]).jobs_group)
    app.cli.add_command(__import__("meetings.notifications.cli", fromlist=["outbox_group"]).outbox_group)
    app.cli.add_command(__import__("meetings.notifications.cli", fromlist=["push_group"]).push_group)
    app.cli.add_command(__import__("meetings.bodies.import_cli", fromlist=["x"]).import_participants)

    @app.cli.group("audit")
    def audit_group():
        """The hash-chained audit log."""

    @audit_group.command("verify")
    def audit_verify():
        """Check the audit chain; exit 1 if an entry was changed, inserted or deleted."""
        from meetings.platform.audit.service import verify_chain

        problems = verify_chain(db.session)
        if not problems:
            click.echo("audit log intact")
            return
        for p in problems:
            click.echo(f"entry {p.entry_id}: {p.problem}", err=True)
        raise SystemExit(1)

    _init_demo_cli(app)


def _init_demo_cli(app: Flask) -> None:
    @app.cli.group("demo")
    def demo_group():
        """Demo data for trying the system out (never on a real installation)."""

    @demo_group.command("load")
    def demo_load():
        """Load the demo body, meeting, documents and users (password "demo"); safe to run twice."""
        import os

        from meetings.demo import BODY_NAME, DEMO_SIGNING_PASSPHRASE, PASSWORD, load_demo, load_demo_signers

        try:
            result = load_demo(db.session, current_app.config["STORAGE_PATH"])
            load_demo_signers(db.session, current_app.config)
            from meetings.demo.conclusions import load_demo_notice  # last month's sitting and its signed notice

            load_demo_notice(db.session, current_app.config, BODY_NAME, DEMO_SIGNING_PASSPHRASE)
            from meetings.demo.tasks import load_demo_tasks_of  # units, and tasks from that notice's conclusions

            load_demo_tasks_of(db.session, BODY_NAME)
            from meetings.demo import MEETING_TITLE
            from meetings.demo.templates import load_demo_template  # next month's sitting in two clicks

            load_demo_template(db.session, BODY_NAME, MEETING_TITLE)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        click.echo("demo loaded" if result.created else "demo already loaded")
        # Same default as gunicorn.conf.py, so the printed URL is the one served.
        bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '5000')}"
        click.echo(f"\n  URL:      http://{bind}/")
        click.echo(f"  Logins:   {', '.join(result.users[:4])}, delegate1 … delegate12")
        click.echo(f"  Password: {PASSWORD}")
        click.echo(f"  Signing passphrase of secretary and chair (minutes): {DEMO_SIGNING_PASSPHRASE}\n")
