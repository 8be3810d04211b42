"""What the fault drills share: killing a server for real, reconnecting clients, a private Redis.

Every drill runs the real server (gunicorn + gevent, tests/live_server.py) and
real python-socketio clients, then breaks something the way production breaks
(SIGKILL, a dead Redis, a dropped database connection, a full disk) and checks
what survived. docs/operations.md says what each drill shows and how an
operator recovers.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio

from tests.live_server import ServerHandle, free_port
from tests.socket_helpers import WAIT_SECONDS, LiveWorld, wait_until
from tests.tools import require_tool


def kill_server(handle: ServerHandle) -> None:
    """kill -9 the gunicorn arbiter and its worker (one process group): no shutdown code runs."""
    handle._stopped = True  # stop() has nothing left to do
    try:
        os.killpg(handle.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    handle.process.wait(timeout=10)


def rest(url: str, token: str, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    """One REST call with a bearer token."""
    return requests.request(method, url + "/api/v1" + path, json=body, timeout=WAIT_SECONDS,
                            headers={"Authorization": f"Bearer {token}"}, **kwargs)


class ReconnectingClient:
    """A python-socketio client that reconnects by itself, like the tablet app.

    ``hold()`` keeps it from reconnecting (its reconnect loop waits on a gate,
    as a tablet whose Wi-Fi is still down would) until ``release()``. The test
    plays the app's part after each reconnect: ``rejoin()`` sends
    ``meeting.join`` with the last seq seen (docs/realtime.md §4).
    """

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1,
                                   randomization_factor=0)
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.events: list[dict] = []  # seq'd meeting events, in arrival order
        self.connects = 0
        self._gate = threading.Event()
        self._gate.set()
        self.sio.on("*", self._on_any)
        self.sio.on("connect", self._on_connect)

    def _on_any(self, event: str, data: Any = None) -> None:
        if event == "event":
            self.events.append(data)
        self.received.put((event, data))

    def _on_connect(self) -> None:
        self.connects += 1

    def _url(self) -> str:
        self._gate.wait()  # the reconnect loop asks for the URL before each attempt
        return self.url

    def connect(self) -> ReconnectingClient:
        self.sio.connect(self._url, auth={"token": self.token}, transports=["websocket"],
                         wait_timeout=WAIT_SECONDS)
        return self

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def call(self, event: str, payload: Any = None, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        return self.sio.call(event, payload, timeout=timeout)

    def last_seq(self) -> int:
        return max((e["seq"] for e in self.events), default=0)

    def wait_reconnected(self, connects: int) -> None:
        wait_until(lambda: self.connects >= connects and self.sio.connected, "the client to reconnect")

    def join(self, world: LiveWorld, last_seq: int | None = None) -> dict[str, Any]:
        payload = {"meeting_id": world.meeting_id}
        if last_seq is not None:
            payload["last_seq"] = last_seq
        ack = self.call("meeting.join", payload)
        assert ack["ok"], ack
        self.events.extend(ack.get("events", []))
        return ack

    def next_event(self, name: str, predicate: Callable[[Any], bool] | None = None) -> Any:
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                event, data = self.received.get(timeout=left)
            except queue.Empty:
                break
            if event == name and (predicate is None or predicate(data)):
                return data
        raise AssertionError(f"no {name!r} event arrived")

    def close(self) -> None:
        self.release()
        self.sio.shutdown()


@pytest.fixture
def reconnecting() -> Iterator[Callable[[str, str], ReconnectingClient]]:
    """``reconnecting(url, token)`` → a connected ReconnectingClient, closed after the test."""
    opened: list[ReconnectingClient] = []

    def make(url: str, token: str) -> ReconnectingClient:
        client = ReconnectingClient(url, token).connect()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


class RedisProcess:
    """A redis-server of our own on a fixed port: the machine's shared Redis is never touched."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = require_tool("redis-server", install="redis-server")
        log = open(self.workdir / f"redis-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(self._answers, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """kill -9: the clients' connections drop at once, queued messages are gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def subscribers(self, channel: str) -> int:
        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
        finally:
            client.close()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.kill()
