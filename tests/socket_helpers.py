"""Real servers and real Socket.IO clients for the live-room tests.

    server = start_socket_server(tmp_path, database_url)      # gunicorn, gevent worker
    world = make_world(database_url)                          # fresh users + meeting, tokens
    with connect(server.url, world.tokens["chair"]) as chair:
        ack = chair.call("meeting.join", {"meeting_id": world.meeting_id})

The server runs through tests/live_server.py (gunicorn with gunicorn.conf.py in
its own process group, killed on ``stop()``); the database is the test's own
(``database_url``), already migrated by conftest, so the test and the server
see the same rows. Every world gets unique usernames, so one server per test
module can serve many tests, each with a fresh meeting.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import socketio
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.accounts.service import issue_token
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant
from meetings.core.db import make_engine, utcnow
from tests.live_server import ServerHandle, start_server

WAIT_SECONDS = 15  # a deadline for things that must happen, not a measurement
_counter = itertools.count()
_barrier_pages = itertools.count(90_000)  # pages no test turns to otherwise
_NO_MEETING = 2**31 - 1  # a meeting id that never exists
_STOP = object()  # ends a client's message thread


def start_socket_server(tmp_path: Path, database_url: str, env: dict[str, str] | None = None,
                        port: int | None = None) -> ServerHandle:
    """gunicorn -k gevent -w 1 wsgi:app on a free port, over the test's database."""
    # A short graceful timeout: tests stop the server with clients possibly still attached.
    env = {"DATABASE_URL": database_url, "GUNICORN_GRACEFUL_TIMEOUT": "3", **(env or {})}
    return start_server(tmp_path, env=env, port=port, migrate=False)


@dataclass
class LiveWorld:
    meeting_id: int
    body_id: int
    user_ids: dict[str, int]
    tokens: dict[str, str]
    item_ids: list[int] = field(default_factory=list)
    url: str = ""


# name → (global role, meeting role); "outsider" takes part in nothing.
ROLES = {
    "admin": ("admin", None),
    "secretary": (None, "secretary"),
    "chair": (None, "chair"),
    "delegate": (None, "delegate"),
    "delegate2": (None, "delegate"),
    "observer": (None, "observer"),
    "outsider": (None, None),
}


def make_world(database_url: str, *, status: str = "in_progress", extra_delegates: int = 0) -> LiveWorld:
    """A body, a meeting with three items, one user per role (unique names) and their tokens.

    Users are inserted with a placeholder password hash: these tests log in with
    tokens only, and argon2 for every user would only slow them down.
    """
    engine = make_engine(database_url)
    tag = f"{next(_counter)}{uuid.uuid4().hex[:6]}"
    try:
        with Session(engine, expire_on_commit=False) as s:
            names = list(ROLES) + [f"member{i}" for i in range(extra_delegates)]
            users = {n: User(username=f"{n}-{tag}", full_name=f"Đại biểu {n} Nguyễn Thị Hằng",
                             password_hash="!", global_role=ROLES.get(n, (None, None))[0]) for n in names}
            s.add_all(users.values())
            body = Body(name=f"Hội đồng nhân dân xã Thử {tag}", place_name="Thử Nghiệm", quorum_numerator=2,
                        quorum_denominator=3)
            s.add(body)
            s.flush()
            meeting = Meeting(body_id=body.id, title="Kỳ họp thứ Mười: phiên toàn thể", place="Hội trường",
                              starts_at=utcnow() + timedelta(hours=1), status=status, last_seq=0)
            s.add(meeting)
            s.flush()
            for n in names:
                role = ROLES.get(n, (None, "delegate"))[1]
                if role:
                    s.add(BodyMember(body_id=body.id, user_id=users[n].id))
                    s.add(Participant(meeting_id=meeting.id, user_id=users[n].id, role=role,
                                      can_vote=role != "observer"))
            items = [AgendaItem(meeting_id=meeting.id, position=i, title=f"Nội dung {i + 1}: Báo cáo tình hình",
                                presenter_id=users["delegate"].id if i == 1 else None) for i in range(3)]
            s.add_all(items)
            s.flush()
            tokens = {n: issue_token(s, u, 2)[0] for n, u in users.items()}
            s.commit()
            return LiveWorld(meeting.id, body.id, {n: u.id for n, u in users.items()}, tokens, [i.id for i in items])
    finally:
        engine.dispose()


class SocketClient:
    """A real python-socketio client that records every server event it receives.

    ``received`` is consumed by :meth:`next_event`; ``history`` keeps every event
    ever received, in order, for :func:`assert_not_received`. Messages are handled
    in the order they arrived: python-engineio hands each one to a new thread,
    so without this an acknowledgement or a barrier event could be handled
    before an event the server sent earlier.
    """

    def __init__(self, url: str, token: str | None):
        self.sio = socketio.Client(reconnection=False)
        self.url, self.token = url, token
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.history: list[tuple[str, Any]] = []
        self.sio.on("*", self._record)
        # Engine.IO messages through one thread, first in first out (see above).
        self._handle_message = self.sio.eio.handlers["message"]
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.sio.eio.on("message", self._inbox.put)
        self._worker: threading.Thread | None = None

    def _record(self, event: str, data: Any = None) -> None:
        self.history.append((event, data))
        self.received.put((event, data))

    def _work(self) -> None:
        while (message := self._inbox.get()) is not _STOP:
            try:
                self._handle_message(message)
            except Exception:  # as python-engineio would: log it and go on with the next message
                logging.getLogger(__name__).exception("socket message handler failed")

    def connect(self) -> SocketClient:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, daemon=True, name="socket-inbox")
            self._worker.start()
        auth = {"token": self.token} if self.token is not None else None
        try:
            self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=WAIT_SECONDS)
        except BaseException:
            self.disconnect()  # ends the message thread too
            raise
        return self

    def call(self, event: str, payload: Any = None) -> dict[str, Any]:
        return self.sio.call(event, payload, timeout=WAIT_SECONDS)

    def next_event(self, name: str = "event", predicate: Callable[[Any], bool] | None = None) -> Any:
        """The next received ``name`` event matching ``predicate``; raises after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event arrived")
            try:
                event, data = self.received.get(timeout=left)
            except queue.Empty:
                continue
            if event == name and (predicate is None or predicate(data)):
                return data

    def drain(self) -> list[tuple[str, Any]]:
        """Take what has arrived so far. Not for "never received" checks: use :func:`assert_not_received`."""
        out = []
        while True:
            try:
                out.append(self.received.get_nowait())
            except queue.Empty:
                return out

    def wait_for(self, matches: Callable[[str, Any], bool], what: str) -> tuple[str, Any]:
        """The first event in :attr:`history` for which ``matches(name, data)``, waiting up to
        WAIT_SECONDS (nothing is consumed: next_event still sees it)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = next(((n, d) for n, d in list(self.history) if matches(n, d)), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} arrived")
            time.sleep(0.02)

    def round_trip(self) -> None:
        """A barrier of this client's own: an event the server answers (read-only, any user).

        Its acknowledgement comes after everything this server process sent to this socket
        before it handled the event. Valid only for an emit that already happened (e.g. its
        sender's call returned) in the same server process without a message queue; with a
        queue (Redis) use a broadcast barrier such as :func:`page_turn_barrier`.
        """
        ack = self.call("meeting.join", {"meeting_id": _NO_MEETING})
        assert ack.get("ok") is False and ack["error"]["code"] == "not_found", ack

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._inbox.put(_STOP)
            self._worker.join(timeout=WAIT_SECONDS)
            self._worker = None


@contextmanager
def connect(url: str, token: str | None) -> Iterator[SocketClient]:
    client = SocketClient(url, token).connect()
    try:
        yield client
    finally:
        client.disconnect()


def assert_not_received(clients: SocketClient | Iterable[SocketClient], unwanted: Callable[[str, Any], bool],
                        barrier: Callable[[], Any] | None = None, what: str = "an unwanted event") -> None:
    """Fail if any of ``clients`` ever received an event for which ``unwanted(name, data)`` holds.

    ``barrier()`` first makes something reach every client that the server sends after
    anything unwanted would have been sent, and waits for it (default: each client's
    :meth:`SocketClient.round_trip`); only then are the clients' whole histories checked.
    Without a barrier the check would read whatever happened to arrive so far, and a late
    delivery would pass.
    """
    group = [clients] if isinstance(clients, SocketClient) else list(clients)
    if barrier is None:
        for c in group:
            c.round_trip()
    else:
        barrier()
    seen = [(n, d) for c in group for n, d in list(c.history) if unwanted(n, d)]
    assert not seen, f"{what} arrived: {seen!r}"


def page_turn_barrier(by: SocketClient, meeting_id: int, *watchers: SocketClient) -> Callable[[], None]:
    """A broadcast barrier for clients in a meeting's room: ``by`` (chair or secretariat) turns
    to a page nobody uses, and every watcher waits until that event arrived. It travels the way
    room events do (through the message queue, if any), so it works across processes too."""
    def barrier() -> None:
        page = next(_barrier_pages)
        ack = by.call("presenter.set", {"meeting_id": meeting_id, "page": page})
        assert ack.get("ok") and ack["changed"] == {"page": page}, ack
        for w in watchers:
            w.wait_for(lambda n, d: n == "event" and d.get("meeting_id") == meeting_id
                       and d.get("type") == "presenter.changed" and d["data"].get("page") == page,
                       f"barrier page turn to {page}")
    return barrier


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Poll ``predicate`` until true; fail after WAIT_SECONDS (a deadline, not a timing assert)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def db_session(database_url: str) -> Iterator[Session]:
    """A short-lived session on the test database, to check what the server stored."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()
