"""The socket transport's defences, below the gateway: who may open a socket, and what a frame may be.

- **Origin allow-list** (:func:`origin_check`). A browser sends the session
  cookie with a WebSocket handshake from any site, and CORS does not apply to
  WebSockets, so the server itself must refuse handshakes whose ``Origin`` is
  not its own (cross-site WebSocket hijacking). Engine.IO calls the check for
  every request that carries an ``Origin`` and answers 400 when it says no;
  requests without one (native shells, scripts, with a bearer token) pass.
- **Frames the app can answer** (:func:`guarded_packet`). Engine.IO accepts
  frames up to ``SOCKET_MAX_FRAME_BYTES``, well above the app's own limit, so an
  oversized event still reaches the server and is answered ``too_large``
  instead of the connection being dropped; a payload the JSON parser cannot
  take (broken, nested beyond its recursion limit) is answered ``invalid``.
  Both reach the gateway's wrapper as a :class:`Refused` payload, so the
  answer goes through the same rate limit and acknowledgement as any other.
- **Malformed packets are counted, not logged one by one**
  (:class:`MalformedPacketLog`). python-engineio and python-socketio log a
  traceback for every packet they cannot decode (gunicorn does, for the ones
  that kill the connection); any peer, before authenticating, can send them.
  The filter drops those records and lets one summary line through per
  ``SOCKET_MALFORMED_LOG_SECONDS``.
"""
from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socketio import packet as sio_packet

DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024
DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_DEPTH = 20
DEFAULT_MALFORMED_LOG_SECONDS = 60
# The frame around a payload: packet type, ack id, the event's name.
FRAME_SLACK = 1024
# The loggers that write a traceback per undecodable packet (and the libraries' own chatter).
LIBRARY_LOGGERS = ("engineio.server", "socketio.server", "gunicorn.error")

_EVENT_NAME = re.compile(r'\[\s*"([A-Za-z0-9_.:-]{1,100})"')


# ------------------------------------------------------------------ origins

def origin_check(config: Any) -> Callable[[str | None, dict], bool]:
    """Engine.IO's ``cors_allowed_origins`` callable for this app's settings.

    ``SOCKET_ALLOWED_ORIGINS`` (comma-separated ``scheme://host[:port]``) lists
    the origins allowed; empty means the server's own origin, taken from the
    request's ``Host`` and scheme, and from ``X-Forwarded-Host`` /
    ``X-Forwarded-Proto`` only when ``PROXY_COUNT`` says a proxy sets them
    (otherwise anybody could send them). ``null`` and missing origins are never
    allowed here (Engine.IO lets requests without ``Origin`` through itself).
    """
    listed = {_normal(o) for o in str(config.get("SOCKET_ALLOWED_ORIGINS") or "").split(",") if o.strip()}
    proxies = int(config.get("PROXY_COUNT") or 0)

    def allowed(origin: str | None, environ: dict) -> bool:
        if not origin or origin == "null":
            return False
        return _normal(origin) in (listed or _own_origins(environ, proxies))

    return allowed


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _own_origins(environ: dict, proxies: int) -> set[str]:
    own = set()
    host, scheme = environ.get("HTTP_HOST"), environ.get("wsgi.url_scheme", "http")
    if host:
        own.add(_normal(f"{scheme}://{host}"))
    if proxies:
        # Like werkzeug's ProxyFix: the value the n-th proxy from us added.
        fwd_host = _forwarded(environ.get("HTTP_X_FORWARDED_HOST"), proxies) or host
        fwd_scheme = _forwarded(environ.get("HTTP_X_FORWARDED_PROTO"), proxies) or scheme
        if fwd_host:
            own.add(_normal(f"{fwd_scheme}://{fwd_host}"))
    return own


def _forwarded(value: str | None, proxies: int) -> str | None:
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    return parts[-proxies] if len(parts) >= proxies else None


# ------------------------------------------------------------------ frames

@dataclass(frozen=True)
class Refused:
    """The payload of an event the transport could not accept; the gateway answers it."""

    code: str  # "invalid" or "too_large"

    def ack(self) -> dict[str, Any]:
        """The error acknowledgement for this refusal."""
        message = ("The payload is too large." if self.code == "too_large"
                   else "The payload is not valid JSON or is nested too deeply.")
        return {"ok": False, "error": {"code": self.code, "message": message}}


class MalformedPacket(ValueError):
    """A Socket.IO packet that cannot be decoded at all (no event to answer)."""


def guarded_packet(max_payload_bytes: int) -> type[sio_packet.Packet]:
    """python-socketio's packet class (its ``serializer``) with the app's limits.

    A text frame longer than ``max_payload_bytes`` (+ :data:`FRAME_SLACK`) is
    not parsed; a frame whose JSON fails is not retried. Either way, an event
    whose name can be read arrives as ``[name, Refused(code)]`` with its ack id,
    so the client gets an answer; anything else raises :class:`MalformedPacket`
    (dropped and counted). A class per app: its limits are class attributes.
    """
    return type("GuardedPacket", (_GuardedPacket,), {"max_chars": max_payload_bytes + FRAME_SLACK})


class _GuardedPacket(sio_packet.Packet):
    max_chars = DEFAULT_MAX_PAYLOAD_BYTES + FRAME_SLACK
    # The app sends and takes JSON only (decode() refuses binary frames): without this,
    # python-socketio walks every outgoing payload looking for bytes, ~ms for a stroke's points.
    uses_binary_events = False

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any):
        # An empty frame would skip decode() and pass as an EVENT without data.
        if encoded_packet is not None and not encoded_packet:
            raise MalformedPacket("empty packet")
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)

    def decode(self, encoded_packet: Any) -> int:
        if not isinstance(encoded_packet, str) or not encoded_packet:
            raise MalformedPacket("not a text packet")
        if len(encoded_packet) > self.max_chars:
            return self._refuse(encoded_packet, "too_large")
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, RecursionError) as err:  # json's errors are ValueErrors; depth is RecursionError
            if encoded_packet[:1] == str(sio_packet.EVENT):
                return self._refuse(encoded_packet, "invalid")
            raise MalformedPacket(f"undecodable packet ({type(err).__name__})") from None
        if self.packet_type in (sio_packet.EVENT, sio_packet.BINARY_EVENT) and not (
                isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
            raise MalformedPacket("an event must be [name, ...]")
        return attachments

    def _refuse(self, encoded_packet: str, code: str) -> int:
        start = encoded_packet.find("[")
        name = _EVENT_NAME.match(encoded_packet, start) if start > 0 else None
        if name is None or encoded_packet[:1] != str(sio_packet.EVENT):
            raise MalformedPacket(f"{code} packet without an event to answer")
        super().decode(encoded_packet[:start])  # type, namespace and ack id: no JSON to parse
        self.packet_type, self.data = sio_packet.EVENT, [name.group(1), Refused(code)]
        return 0


def too_deep(payload: Any, limit: int) -> bool:
    """Whether lists and objects in ``payload`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        if depth + 1 > limit:
            return True
        stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


# ------------------------------------------------------------------ the log

class MalformedPacketLog(logging.Filter):
    """Drops the libraries' per-packet tracebacks for undecodable packets; one summary line per interval.

    The first such record after a quiet interval becomes the summary line
    (without its traceback); the others are counted and reported in the next
    summary, which the first record after the interval brings. One instance is
    shared by the loggers in :data:`LIBRARY_LOGGERS`, so the count is the process's.
    """

    def __init__(self, interval: float = DEFAULT_MALFORMED_LOG_SECONDS, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval, self.clock = float(interval), clock
        self.counts: Counter[str] = Counter()
        self.last_line: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        kind = malformed_kind(record)
        if kind is None:
            return True
        self.counts[kind] += 1
        now = self.clock()
        if self.last_line is not None and now - self.last_line < self.interval:
            return False
        since = "since start-up" if self.last_line is None else f"in the last {now - self.last_line:.0f} s"
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.counts.items()))
        record.msg = ("socket transport: dropped %d malformed socket packets %s (%s); "
                      "more are counted, one line per %.0f s")
        record.args = (sum(self.counts.values()), since, kinds, self.interval)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = record.stack_info = None
        self.counts.clear()
        self.last_line = now
        return True


_DECODERS = {"engineio.packet": "engine.io", "engineio.payload": "engine.io", "socketio.packet": "socket.io"}


def malformed_kind(record: logging.LogRecord) -> str | None:
    """``"engine.io"`` / ``"socket.io"`` when ``record`` is a traceback for an undecodable packet, else None."""
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    if exc is None:
        return None
    if isinstance(exc, MalformedPacket):
        return "socket.io"
    tb, last = exc.__traceback__, None
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__")
        if module in _DECODERS:
            return _DECODERS[module]
        last, tb = (module, tb.tb_frame.f_code.co_name), tb.tb_next
    if last == ("socketio.server", "_handle_eio_message") and isinstance(exc, ValueError):
        return "socket.io"  # an unknown packet type, an unexpected binary packet
    return None


_filter: MalformedPacketLog | None = None


def quiet_library_logs(interval: float) -> None:
    """Attach the one :class:`MalformedPacketLog` to the libraries' loggers (again: only its interval changes)."""
    global _filter
    if _filter is None:
        _filter = MalformedPacketLog(interval)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(_filter)
    _filter.interval = float(interval)


# ------------------------------------------------------------------ what socketio.init_app gets

def server_options(config: Any) -> dict[str, Any]:
    """The transport's arguments for ``socketio.init_app`` from the app's settings."""
    payload = int(config.get("SOCKET_MAX_PAYLOAD_BYTES") or DEFAULT_MAX_PAYLOAD_BYTES)
    frame = int(config.get("SOCKET_MAX_FRAME_BYTES") or DEFAULT_MAX_FRAME_BYTES)
    if frame <= payload + FRAME_SLACK:
        raise ValueError("SOCKET_MAX_FRAME_BYTES must be above SOCKET_MAX_PAYLOAD_BYTES (+1 KiB), "
                         "or oversized events are dropped instead of answered too_large")
    quiet_library_logs(float(config.get("SOCKET_MALFORMED_LOG_SECONDS") or DEFAULT_MALFORMED_LOG_SECONDS))
    # Loggers given as objects: the libraries then add no handler of their own (which printed every
    # line twice, once more through the root logger); errors only, as the libraries' default.
    for name in ("engineio.server", "socketio.server"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return {
        "cors_allowed_origins": origin_check(config),
        "max_http_buffer_size": frame,
        "serializer": guarded_packet(payload),
        "logger": logging.getLogger("socketio.server"),
        "engineio_logger": logging.getLogger("engineio.server"),
    }
