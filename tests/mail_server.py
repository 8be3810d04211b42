"""A real SMTP server in the test process (aiosmtpd), for every test that sends e-mail.

``mail_server`` (a fixture, import it in a test module or conftest) listens on a free port of
127.0.0.1 and keeps every message it accepted, parsed with ``email`` (``.messages``) and raw
(``.raw``), with its envelope (``.envelopes``: (mail_from, rcpt_tos)). ``stop()`` closes the
port (a mail server that is down: connections are refused) and ``start()`` opens the same
port again. ``smtp_settings`` are the app settings that point at it (no TLS, no login).

    from tests.mail_server import mail_server  # noqa: F401  (the fixture)

    def test_x(mail_server):
        app = create_app({..., **mail_server.smtp_settings})
        ...
        assert mail_server.wait_for(3)
"""
from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

SENDER = "Văn phòng <office@meetings.test>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Collect:
    """aiosmtpd handler: keep each accepted message; ``refuse`` makes DATA answer a code instead."""

    def __init__(self, box: MailServer) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        if self.box.refuse:
            return self.box.refuse
        if self.box.before_accept is not None and self.box.before_accept(envelope) is False:
            return "451 4.3.0 not now"  # the hook stopped the client (tests/test_jobs_consumer.py)
        self.box.accept(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 OK"


class MailServer:
    """The running server and what it received."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: str | None = None  # e.g. "451 try later" or "550 no such user"
        # Called on the server's loop before a message is accepted; False: not accepted.
        self.before_accept = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def smtp_settings(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TLS": "none",
                "SMTP_SENDER": SENDER, "SMTP_TIMEOUT": 5}

    def accept(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> None:
        with self._lock:
            self.raw.append(content)
            self.envelopes.append((mail_from, rcpt_tos))

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self.raw)
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]

    def message_ids(self) -> Counter:
        """How often each Message-ID arrived (exactly-once checks)."""
        return Counter(m["Message-ID"] for m in self.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` messages arrived; True if they did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.raw) >= count:
                return True
            time.sleep(0.02)
        return len(self.raw) >= count

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._lock:
            self.raw.clear()
            self.envelopes.clear()


@pytest.fixture
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()
