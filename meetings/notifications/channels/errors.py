"""What a channel's send raises, telling the delivery task what to do next."""
from __future__ import annotations


class TransientError(Exception):
    """The far side is down, slow or busy (SMTP unreachable, gateway 5xx, timeout): try again later."""


class PermanentError(Exception):
    """The far side refused this message for good (a bad address): do not try again."""


class Gone(PermanentError):
    """The push subscription no longer exists (404/410 from the push service): forget it."""
