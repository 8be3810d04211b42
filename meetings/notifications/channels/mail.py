"""E-mail through an SMTP server: multipart text + HTML, calendar invitations as iCalendar parts.

Settings (docs/configuration.md): SMTP_HOST (unset: e-mails wait in the outbox), SMTP_PORT,
SMTP_TLS (starttls | ssl | none), SMTP_USER / SMTP_PASSWORD, SMTP_SENDER, SMTP_TIMEOUT.
"""
from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any

from meetings.core.db import utcnow
from meetings.notifications.channels.errors import PermanentError, TransientError


def configured(config: Mapping[str, Any]) -> bool:
    """E-mail can go out once an SMTP host is set."""
    return bool(config.get("SMTP_HOST"))


def message_id_host(config: Mapping[str, Any]) -> str:
    """The right-hand side of Message-IDs: the sender's domain (else "meetings.invalid")."""
    addresses = getaddresses([config.get("SMTP_SENDER") or ""])
    address = addresses[0][1] if addresses else ""
    return address.rpartition("@")[2] or "meetings.invalid"


def build(message: Any, config: Mapping[str, Any]) -> EmailMessage:
    """The MIME message of an outbox row.

    multipart/alternative (text, HTML, and the calendar part, which calendar programs
    read in place: ``text/calendar; method=REQUEST``); the .ics also as an attachment,
    and any other attachment after, in multipart/mixed.
    """
    mail = EmailMessage()
    mail["From"] = config.get("SMTP_SENDER") or f"Meetings <no-reply@{message_id_host(config)}>"
    mail["To"] = str(Address(addr_spec=message.address))
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<outbox-{message.id}@{message_id_host(config)}>"
    # No vacation replies or bounces to an automatic message from out-of-office robots.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    files = []
    for part in message.attachments or []:
        data = base64.b64decode(part["base64"])
        maintype, _, rest = part["mimetype"].partition("/")
        subtype, _, params_text = rest.partition(";")
        params = dict(_param(p) for p in params_text.split(";") if "=" in p)
        if (maintype, subtype.strip()) == ("text", "calendar"):
            mail.add_alternative(data.decode("utf-8"), subtype="calendar", params=params)
            files.append((data, "application", "ics", part["name"]))
        else:
            files.append((data, maintype, subtype.strip(), part["name"]))
    for data, maintype, subtype, name in files:
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def _param(text: str) -> tuple[str, str]:
    key, _, value = text.strip().partition("=")
    return key.strip().lower(), value.strip().strip('"')


def send(message: Any, config: Mapping[str, Any], accepted: Callable[[], None] = lambda: None) -> None:
    """Hand the message to the SMTP server; returns once the server has accepted it.

    ``accepted`` is called as soon as the server said 250 to the message, before QUIT, so the
    delivery's "sent" record follows the acceptance as closely as it can.
    """
    mail = build(message, config)
    security = (config.get("SMTP_TLS") or "starttls").lower()
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or (465 if security == "ssl" else 587))
    timeout = float(config.get("SMTP_TIMEOUT") or 30)
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientError(f"SMTP {host}:{port} unreachable: {exc}") from exc
    try:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(mail, to_addrs=[message.address])
        accepted()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentError(f"recipient refused: {exc.recipients}") from exc
        raise TransientError(f"recipient deferred: {exc.recipients}") from exc
    except smtplib.SMTPDataError as exc:
        error = PermanentError if exc.smtp_code >= 500 else TransientError
        raise error(f"message refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        # Authentication, a refused sender, a dropped connection: the server's or our settings', not the message's.
        raise TransientError(f"SMTP error: {exc}") from exc
    finally:
        _close(smtp)


def _close(smtp: smtplib.SMTP) -> None:
    # The message was accepted (or refused) already; a failing QUIT changes nothing.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
