"""`flask --app wsgi ca …` (organization CA and signers' keys) and `flask --app wsgi minutes …`.

Passphrases and PINs are asked for with hidden input; none is taken from the
command line, where it would land in shell history and process listings.
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
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
    from meetings.minutes.revocation import pki_base_url

    cert = _run(lambda: keys.init_ca(current_app.instance_path, organization, secret,
                                     pki_base_url=pki_base_url(current_app.config)))
    click.echo(f"organization CA created: {cert.subject.rfc4514_string()}")
    click.echo(f"sha256 fingerprint: {keys.fingerprint(cert)}")
    click.echo("OCSP responder and timestamp unit certificates and keys written beside it; "
               "`flask ca crl` publishes the CRL")


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


@ca_group.command("csc")
@click.argument("username")
@click.option("--url", required=True, help="Base URL of the CSC service (before /csc/v1/), e.g. https://rs.example.vn")
@click.option("--credential-id", required=True, help="The signer's credential at the service.")
def ca_csc(username: str, url: str, credential_id: str):
    """Register a key held at a CSC remote signing service for USERNAME (PIN/OTP asked at each signature)."""
    from meetings.minutes.signers import register_csc

    user = _user(username)
    row = _run(lambda: register_csc(db.session, current_app.config, user, url=url, credential_id=credential_id))
    click.echo(f"registered remote key {row.id} for {username}: {row.subject}")
    click.echo("verification trusts its chain only if its root is the organization CA or in MINUTES_TRUST_ROOTS")


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


@ca_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--der", is_flag=True, help="One DER PKCS#7 bundle (.p7c) instead of PEM.")
def ca_export(file: Path | None, der: bool):
    """Write the trust anchors (organization CA, MINUTES_TRUST_ROOTS) to FILE, or print them (PEM)."""
    from meetings.minutes import trust

    data = _run(lambda: trust.chain_der(current_app.config) if der else trust.chain_pem(current_app.config))
    if file is None:
        click.get_binary_stream("stdout").write(data)
        return
    file.write_bytes(data)
    click.echo(f"{len(trust.trust_anchors(current_app.config))} certificate(s) written to {file}", err=True)


@minutes_group.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--at", "at", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
              default=None, help="Also validate as of this moment (ISO 8601; UTC if no offset), from embedded data.")
def minutes_verify(pdf: Path, as_json: bool, at: datetime | None):
    """Verify every signature of PDF; exit 1 unless all are intact, valid and allowed (and valid --at)."""
    from meetings.minutes.verification import verify_file

    when = at.replace(tzinfo=at.tzinfo or UTC) if at else None
    report = _run(lambda: verify_file(pdf, current_app.config, validation_time=when))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))
    if report["tampered"] or not report["valid"] or (when is not None and not report.get("valid_at")):
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
            f"  level: PAdES {s.get('level')}" + (" (revocation data embedded, no timestamp)"
                                                  if s.get("level") == "B-B" and s.get("revocation_embedded") else ""),
        ]
        if s.get("at"):
            lines.append(f"  as of {report['validation_time']}: "
                         + ("valid" if s["at"]["passed"] else f"NOT VALID ({s['at']['subindication']})"))
    for t in report.get("document_timestamps") or []:
        lines.append(f"document timestamp {t.get('time')} by {t.get('tsa')} (TSA certificate until "
                     f"{t.get('tsa_not_after')}): " + ("intact" if t.get("intact") else "BROKEN"))
    if report.get("level"):
        lines.append(f"document level: PAdES {report['level']}")
    lines.append("TAMPERED" if report["tampered"] else "all signatures valid" + (
        " and trusted" if report["trusted"] else " (not all trusted)"))
    return "\n".join(lines)


@ca_group.command("responder")
def ca_responder():
    """Issue a (new) OCSP responder and timestamp unit, certificates and keys, for the existing CA (asks the
    CA passphrase). Run it before either certificate expires."""
    from meetings.minutes import keys
    from meetings.minutes.revocation import pki_base_url

    ca_secret = click.prompt("CA passphrase", hide_input=True)
    responder, unit = _run(lambda: keys.issue_responder(current_app.instance_path, ca_secret,
                                                        pki_base_url=pki_base_url(current_app.config)))
    click.echo(f"OCSP responder: {responder.subject.rfc4514_string()}, "
               f"until {responder.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"timestamp unit: {unit.subject.rfc4514_string()}, until {unit.not_valid_after_utc:%Y-%m-%d}")


@ca_group.command("crl")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650),
              help="How long the CRL stays current (its next update).")
def ca_crl(days: int):
    """Sign and publish a new CRL (INSTANCE_PATH/ca/ca.crl, served at /pki/ca.crl); asks the CA passphrase."""
    from meetings.minutes.revocation import write_crl

    ca_secret = click.prompt("CA passphrase", hide_input=True)
    path = _run(lambda: write_crl(db.session, current_app.config, ca_secret, days=days))
    click.echo(f"CRL written to {path}, current for {days} days")


@ca_group.command("revoke")
@click.argument("key_id", type=int)
@click.option("--reason", default="unspecified", show_default=True,
              type=click.Choice(["unspecified", "key_compromise", "affiliation_changed", "superseded",
                                 "cessation_of_operation", "privilege_withdrawn"]))
def ca_revoke(key_id: int, reason: str):
    """Revoke signing key KEY_ID: refused for new signatures; signatures made before stay valid."""
    from meetings.minutes.revocation import revoke_key

    row = _run(lambda: revoke_key(db.session, key_id, reason=reason))
    click.echo(f"revoked key {row.id} ({row.subject}) at {row.revoked_at:%Y-%m-%d %H:%M:%S %Z}: {reason}")
    click.echo("OCSP answers 'revoked' from now on; run `flask ca crl` to publish it in the CRL too")


@minutes_group.command("renew-timestamps")
@click.option("--before", "before_days", default=90, show_default=True, type=click.IntRange(0, 36500),
              help="Renew files whose last TSA certificate expires within this many days.")
@click.option("--force", is_flag=True, help="Add a document timestamp to every published file.")
def minutes_renew_timestamps(before_days: int, force: bool):
    """Add a new document timestamp (TSA_URL) to archived minutes before their last timestamp expires."""
    from meetings.minutes.archival import renew_timestamps

    results = _run(lambda: renew_timestamps(db.session, current_app.config, before_days=before_days, force=force))
    for r in results:
        state = "renewed" if r["renewed"] else "kept"
        click.echo(f"minutes {r['minutes_id']} v{r['version']}: {state} (last TSA certificate until "
                   f"{r['tsa_not_after'] or 'none'}) sha256 {r['sha256']}")
    click.echo(f"{sum(r['renewed'] for r in results)} of {len(results)} published file(s) renewed")


@minutes_group.command("validation-reports")
@click.option("--all", "every", is_flag=True, help="Remake every published minutes' report, not only missing ones.")
def minutes_validation_reports(every: bool):
    """Make the validation report of published minutes that have none (or of all, e.g. after a root change)."""
    from meetings.minutes.report import refresh_reports

    done = _run(lambda: refresh_reports(db.session, current_app.config, every=every))
    for m in done:
        click.echo(f"minutes {m.id} v{m.version}: report {m.validation_sha256}")
    click.echo(f"{len(done)} report(s) made")
