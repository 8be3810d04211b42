"""The socket transport under attack, over a real gunicorn and raw Engine.IO / WebSocket frames.

Raw frames (websocket-client) are needed because python-socketio's own client
cannot send what these tests send: a foreign ``Origin``, a 10,000-deep JSON
payload (its encoder would recurse), broken packets. The Engine.IO v4 /
Socket.IO v5 text framing used here: ``0{…}`` open, ``40{auth}`` connect,
``40{"sid"}`` connected, ``44{…}`` refused, ``42<id>["event", payload]`` an
event asking for an acknowledgement, ``43<id>[ack]`` the acknowledgement.
"""
from __future__ import annotations

import json
import re
import time

import pytest
import requests
import websocket

from meetings.accounts.models import User
from meetings.accounts.service import hash_password
from meetings.platform.realtime import transport
from tests.socket_helpers import WAIT_SECONDS, connect, db_session, make_world, start_socket_server

USER_BURST = 30
MALFORMED_LOG_SECONDS = 1
PASSWORD = "correct horse battery staple 13"


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("socket-transport"), database_url, env={
        # One line per connection in the access log is the operator's choice; the tests measure the error log.
        "ACCESS_LOG": "/dev/null",
        "LOG_LEVEL": "INFO",
        "SOCKET_USER_EVENT_BURST": str(USER_BURST),
        "SOCKET_USER_EVENT_RATE": "0.01",  # no refill worth counting during a test
        "SOCKET_MALFORMED_LOG_SECONDS": str(MALFORMED_LOG_SECONDS),
    })
    yield handle
    handle.stop()


@pytest.fixture
def world(server, database_url):
    w = make_world(database_url)
    w.url = server.url
    return w


class RawSocket:
    """One Engine.IO v4 connection over WebSocket, frames sent and read as text."""

    def __init__(self, base_url: str, **options):
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=WAIT_SECONDS, **options)
        opened = self.ws.recv()
        assert opened.startswith("0{"), opened
        self.next_id = 1

    def send(self, frame: str) -> None:
        self.ws.send(frame)

    def recv(self, prefix: str) -> str:
        """The next frame starting with ``prefix``, answering the server's pings on the way."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
            elif frame.startswith(prefix):
                return frame
        raise AssertionError(f"no frame starting with {prefix!r}")

    def connect(self, auth: dict | None = None) -> str:
        """Socket.IO CONNECT; the server's answer (``40…`` connected or ``44…`` refused)."""
        self.send("40" + (json.dumps(auth) if auth is not None else ""))
        return self.recv("4")

    def call_raw(self, event: str, payload_json: str) -> dict:
        """Send ``event`` with an already-encoded JSON payload; wait for its acknowledgement."""
        ack_id, self.next_id = self.next_id, self.next_id + 1
        self.send(f"42{ack_id}[{json.dumps(event)},{payload_json}]")
        frame = self.recv(f"43{ack_id}[")
        return json.loads(frame[len(f"43{ack_id}"):])[0]

    def close(self) -> None:
        self.ws.close()


def _with_password(database_url: str, user_id: int) -> None:
    with db_session(database_url) as s:
        s.get(User, user_id).password_hash = hash_password(PASSWORD)
        s.commit()


def _session_cookie(base_url: str, username: str) -> str:
    """Log in through the /login form like a browser; the Cookie header it then sends."""
    browser = requests.Session()
    page = browser.get(base_url + "/login", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = browser.post(base_url + "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf},
                     allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), r.text[:300]
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


# ------------------------------------------------------------------ malformed packets, unauthenticated

MALFORMED = [
    "x123456",  # not an Engine.IO packet type: the server drops the connection
    "4abcdef",  # not a Socket.IO packet type
    "42[bad,",  # an event whose JSON is broken
    "49abcde",  # an unknown Socket.IO packet type
    '42{"a":',  # broken JSON that is not even an array
    "b%%%%%%",  # a base64 binary message that decodes to nothing
]


def _closed_by_server(raw: RawSocket) -> None:
    """Wait until the server has closed the connection (it has logged, if it logs, before that)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            frame = raw.ws.recv()
        except (websocket.WebSocketException, OSError):
            return
        if not frame:
            return
    raise AssertionError("the server kept a connection that sent garbage")


def _send_malformed(url: str, count: int) -> None:
    """``count`` malformed 7-byte packets from peers that never authenticated."""
    kept_open = RawSocket(url)
    sent = 0
    while sent < count:
        for frame in MALFORMED:
            if sent == count:
                break
            assert len(frame) == 7
            if frame.startswith("x"):
                dropped = RawSocket(url)
                dropped.send(frame)
                _closed_by_server(dropped)
            else:
                kept_open.send(frame)
            sent += 1
    # Long-polling: the same packets in POST bodies, each answered once handled (the one that
    # breaks Engine.IO itself last).
    handshake = requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=30).text
    polling_sid = json.loads(handshake[1:])["sid"]
    for frame in MALFORMED[1:] + MALFORMED[:1]:
        requests.post(f"{url}/socket.io/?EIO=4&transport=polling&sid={polling_sid}", data=frame, timeout=30)
    # Barrier: frames on one connection are handled in order, so this answer comes after all of them.
    assert kept_open.connect().startswith("44")  # no credentials: refused, as before
    kept_open.close()


def test_malformed_packets_are_counted_not_logged_one_by_one(server):
    """First in this module: before any authenticated socket whose goings-on could write to the log."""
    before = server.log_path.stat().st_size
    _send_malformed(server.url, 200)
    grown = server.log_path.stat().st_size - before
    # On a slow machine the 200 take longer than one interval and a summary comes out in the
    # middle; a full interval after the last of them, the next packet brings the rest.
    time.sleep(MALFORMED_LOG_SECONDS + 0.2)
    _send_malformed(server.url, 5)
    log = server.log_path.read_bytes()[before:].decode("utf-8", "replace")
    assert grown < 2048, log[:3000]
    assert "Traceback" not in log, log[:3000]
    counts = [int(n) for n in re.findall(r"dropped (\d+) malformed socket packets", log)]
    assert counts and sum(counts) >= 200, log
    # The server still serves.
    assert requests.get(server.url + "/healthz", timeout=30).status_code == 200


# ------------------------------------------------------------------ origin allow-list

def test_a_foreign_origin_cannot_use_the_session_cookie(world, database_url):
    """Cross-site WebSocket hijacking: a page elsewhere opens a socket with the user's cookie."""
    _with_password(database_url, world.user_ids["chair"])
    with db_session(database_url) as s:
        username = s.get(User, world.user_ids["chair"]).username
    cookie = _session_cookie(world.url, username)

    # The own origin with the cookie works: it is the cookie that would be abused.
    own = RawSocket(world.url, origin=world.url, cookie=cookie)
    try:
        assert own.connect().startswith("40{")
        assert own.call_raw("meeting.join", json.dumps({"meeting_id": world.meeting_id}))["ok"] is True
    finally:
        own.close()

    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        RawSocket(world.url, origin="https://evil.example", cookie=cookie)
    assert refused.value.status_code == 400
    # Long-polling's handshake is refused the same way.
    r = requests.get(world.url + "/socket.io/?EIO=4&transport=polling", timeout=30,
                     headers={"Origin": "https://evil.example", "Cookie": cookie})
    assert r.status_code == 400
    # Another port of the same host is another origin.
    with pytest.raises(websocket.WebSocketBadStatusException):
        RawSocket(world.url, origin="http://127.0.0.1:1", cookie=cookie)


def test_clients_without_an_origin_still_connect_with_a_token(world):
    """Tablets' native shells and scripts send no Origin: the bearer token is their credential."""
    raw = RawSocket(world.url, suppress_origin=True)
    try:
        assert raw.connect({"token": world.tokens["delegate"]}).startswith("40{")
        assert raw.call_raw("meeting.join", json.dumps({"meeting_id": world.meeting_id}))["ok"] is True
    finally:
        raw.close()
    with connect(world.url, world.tokens["delegate"]) as client:  # python-socketio sends the own origin
        assert client.call("meeting.join", {"meeting_id": world.meeting_id})["ok"] is True


def _environ(host: str, scheme: str = "http", **headers: str) -> dict:
    return {"HTTP_HOST": host, "wsgi.url_scheme": scheme, **{"HTTP_" + k.upper(): v for k, v in headers.items()}}


def test_the_origin_rule():
    """The rule itself: own origin by default, a configured list instead, proxies' headers only if trusted."""
    own = transport.origin_check({"SOCKET_ALLOWED_ORIGINS": "", "PROXY_COUNT": 0})
    assert own("http://hall.example:5000", _environ("hall.example:5000")) is True
    assert own("https://hall.example:5000", _environ("hall.example:5000")) is False
    assert own("http://evil.example", _environ("hall.example:5000")) is False
    assert own("null", _environ("hall.example:5000")) is False
    assert own(None, _environ("hall.example:5000")) is False  # CORS headers: none without an Origin
    # Without a trusted proxy, X-Forwarded-* is anybody's to send.
    assert own("https://evil.example", _environ("hall.example", x_forwarded_host="evil.example",
                                                x_forwarded_proto="https")) is False
    behind = transport.origin_check({"SOCKET_ALLOWED_ORIGINS": "", "PROXY_COUNT": 1})
    assert behind("https://hall.example", _environ("127.0.0.1:5000", x_forwarded_host="hall.example",
                                                   x_forwarded_proto="https")) is True
    listed = transport.origin_check({"SOCKET_ALLOWED_ORIGINS": "https://hall.example, https://kiosk.example/",
                                     "PROXY_COUNT": 0})
    assert listed("https://kiosk.example", _environ("127.0.0.1:5000")) is True
    assert listed("http://127.0.0.1:5000", _environ("127.0.0.1:5000")) is False  # the list replaces the default


# ------------------------------------------------------------------ hostile payloads

def _packet_errors(log: str) -> list[str]:
    """What the libraries log when a packet breaks them (other goings-on of the server may log too)."""
    return re.findall(r"RecursionError|handler error|Error handling request|packet is too large|"
                      r"(?:engineio|socketio)/(?:packet|payload)\.py", log)


def test_a_deeply_nested_payload_is_answered_invalid(world, server):
    raw = RawSocket(world.url)
    try:
        assert raw.connect({"token": world.tokens["delegate"]}).startswith("40{")
        before = len(server.log())
        deep = "[" * 10_000 + "]" * 10_000
        ack = raw.call_raw("meeting.join", deep)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
        # Shallow enough for the JSON parser, in a field the schema takes as any object: the
        # gateway's own depth limit (SOCKET_MAX_DEPTH) refuses it before marshmallow sees it.
        nest: dict = {}
        for _ in range(100):
            nest = {"a": nest}
        ack = raw.call_raw("annotation.create", json.dumps({"document_id": 999_999, "kind": "highlight", "page": 1,
                                                            "geometry": nest}))
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
        assert "nested too deeply" in ack["error"]["message"]
        assert raw.call_raw("meeting.join", json.dumps({"meeting_id": world.meeting_id}))["ok"] is True
        assert not _packet_errors(server.log()[before:])
    finally:
        raw.close()


def test_a_one_megabyte_frame_is_answered_too_large_and_the_connection_stays(world, server):
    raw = RawSocket(world.url)
    try:
        assert raw.connect({"token": world.tokens["delegate"]}).startswith("40{")
        before = len(server.log())
        big = json.dumps({"meeting_id": world.meeting_id, "x": "y" * (1024 * 1024)})
        ack = raw.call_raw("meeting.join", big)
        assert ack["ok"] is False and ack["error"]["code"] == "too_large", ack
        assert raw.call_raw("meeting.join", json.dumps({"meeting_id": world.meeting_id}))["ok"] is True
        assert not _packet_errors(server.log()[before:])
    finally:
        raw.close()


# ------------------------------------------------------------------ per-user rate limit

def test_the_event_rate_limit_is_per_user_across_sockets(world):
    """Two sockets of one user share the user's bucket; another user is not slowed."""
    with connect(world.url, world.tokens["delegate"]) as first, \
            connect(world.url, world.tokens["delegate"]) as second, \
            connect(world.url, world.tokens["delegate2"]) as other:
        codes = []
        for _ in range(USER_BURST):  # 2 × USER_BURST events: each socket stays far below its own burst (100)
            for client in (first, second):
                codes.append(client.call("meeting.join", "not an object")["error"]["code"])
        assert codes.count("invalid") == USER_BURST, codes
        assert codes.count("rate_limited") == USER_BURST, codes
        refused = second.call("meeting.join", {"meeting_id": world.meeting_id})
        assert refused["error"]["code"] == "rate_limited" and "account" in refused["error"]["message"]
        assert other.call("meeting.join", {"meeting_id": world.meeting_id})["ok"] is True
