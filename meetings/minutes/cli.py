"""`flask --app wsgi ca …` (organization CA and signers' keys) and `flask --app wsgi minutes …`.

Passphrases and PINs are asked for with hidden input; none is taken from the
command line, where it would land in shell history and process listings.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.core.errors import DomainError
from meetings.core.extensions import db

ca_group = AppGroup("ca", help="The organization CA and the signers' keys.")
minutes_group = AppGroup("minutes", help="Minutes: verify signed PDFs.")


def _user(username: str) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


def _run(fn):
    try:
        result = fn()
        db.session.commit()
        return result
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err


@ca_group.command("init")
@click.option("--organization", required=True, help="Name in the CA certificate, e.g. the People's Committee.")
def ca_init(organization: str):
    """Create the organization's root CA under INSTANCE_PATH/ca (its key encrypted)."""
    from meetings.minutes import keys

    secret = click.prompt("CA passphrase", hide_input=True, confirmation_prompt=True)
    cert = _run(lambda: keys.init_ca(current_app.instance_path, organization, secret))
    click.echo(f"organization CA created: {cert.subject.rfc4514_string()}")
    click.echo(f"sha256 fingerprint: {keys.fingerprint(cert)}")


@ca_group.command("issue")
@click.argument("username")
@click.option("--organization", default=None, help="O= of the signer's certificate.")
def ca_issue(username: str, organization: str | None):
    """Issue a signing key for USERNAME as a PKCS#12 protected by the signer's passphrase."""
    from meetings.minutes.signers import issue_key

    user = _user(username)
    ca_secret = click.prompt("CA passphrase", hide_input=True)
    secret = click.prompt(f"Signing passphrase for {user.full_name}", hide_input=True, confirmation_prompt=True)
    row = _run(lambda: issue_key(db.session, current_app.config, user, ca_passphrase=ca_secret,
                                 passphrase=secret, organization=organization))
    click.echo(f"issued key {row.id} for {username}: {row.subject}")


@ca_group.command("import")
@click.argument("username")
@click.argument("pkcs12_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ca_import(username: str, pkcs12_file: Path):
    """Register an external PKCS#12 for USERNAME (its passphrase is checked, not stored)."""
    from meetings.minutes.signers import import_key

    user = _user(username)
    secret = click.prompt("PKCS#12 passphrase", hide_input=True)
    row = _run(lambda: import_key(db.session, current_app.config, user, pkcs12_file.read_bytes(),
                                  passphrase=secret))
    click.echo(f"imported key {row.id} for {username}: {row.subject}")


@ca_group.command("token")
@click.argument("username")
@click.option("--module", required=True, help="PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so")
@click.option("--token-label", required=True)
@click.option("--key-label", required=True, help="Label of the private key and its certificate.")
def ca_token(username: str, module: str, token_label: str, key_label: str):
    """Register a key on a PKCS#11 token for USERNAME (the PIN is asked at each signature)."""
    from meetings.minutes.signers import register_token

    user = _user(username)
    row = _run(lambda: register_token(db.session, user, module=module, token_label=token_label,
                                      key_label=key_label))
    click.echo(f"registered token key {row.id} for {username}: {row.subject}")


@ca_group.command("list")
def ca_list():
    """The CA and every registered signing key."""
    from meetings.minutes import keys
    from meetings.minutes.models import SignerKey

    cert = keys.load_ca_cert(current_app.instance_path)
    click.echo(f"CA: {cert.subject.rfc4514_string() if cert else '(none: run `ca init`)'}")
    for row in db.session.execute(select(SignerKey).order_by(SignerKey.id)).scalars():
        state = "revoked" if row.revoked_at else "active"
        click.echo(f"{row.id}\tuser {row.user_id}\t{row.kind}/{row.source}\t{state}\t{row.subject}")


@minutes_group.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def minutes_verify(pdf: Path, as_json: bool):
    """Verify every signature of PDF; exit 1 unless all are intact, valid and allowed."""
    from meetings.minutes.verification import verify_file

    report = _run(lambda: verify_file(pdf, current_app.config))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))
    if report["tampered"] or not report["valid"]:
        sys.exit(1)


def format_report(report: dict) -> str:
    """A plain-text verification report, one block per signature."""
    if report.get("error"):
        return f"cannot verify: {report['error']}"
    if not report["signatures"]:
        return "no signatures"
    yes = {True: "yes", False: "NO"}
    lines = []
    for n, s in enumerate(report["signatures"], start=1):
        if s.get("error"):
            lines.append(f"signature {n} ({s.get('field')}): BROKEN: {s['error']}")
            continue
        lines += [
            f"signature {n}: {s['signer']} ({s.get('role') or s['field']}), signed {s['signed_at']}",
            f"  intact: {yes[s['intact']]}  valid: {yes[s['valid']]}  trusted: {yes[s['trusted']]}",
            f"  covers revision {s['covers_revision']} of {s['revisions']} ({s['coverage']})"
            + ("; certifies: " + s["docmdp"] if s["certifying"] else ""),
            "  changed after: " + (f"{s['modification_level']} ({'allowed' if s['changes_allowed'] else 'NOT ALLOWED'})"
                                   if s["modified_after"] else "nothing"),
        ]
    lines.append("TAMPERED" if report["tampered"] else "all signatures valid" + (
        " and trusted" if report["trusted"] else " (not all trusted)"))
    return "\n".join(lines)
