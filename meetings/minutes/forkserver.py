"""A warm fork server for minutes jobs: each job runs in its own forked child.

Starting a fresh Python for every job costs seconds (Flask, ReportLab and
pyHanko imports) on a busy machine; forking a server that imported them once
costs milliseconds and keeps the isolation: every job is a separate process
with an address-space cap and an alarm, so a runaway or hostile job dies
alone. Jobs arrive as one JSON document over a Unix socket in a private
(0700) folder, so a passphrase never shows in a process listing.

The server exits when the process that started it is gone.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from meetings.core.errors import Unavailable

_lock = threading.Lock()
_server: dict[str, Any] = {}


def _env() -> dict[str, str]:
    # The whole environment: a PKCS#11 module may need its own variables (SOFTHSM2_CONF, vendor paths).
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def _start() -> str:
    folder = tempfile.mkdtemp(prefix="minutes-worker-")  # created 0700
    path = str(Path(folder) / "sock")
    proc = subprocess.Popen([sys.executable, "-m", "meetings.minutes.forkserver", path], env=_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise Unavailable("The minutes worker did not start.", code="worker_unavailable")
        time.sleep(0.05)
    _server.update(pid=os.getpid(), proc=proc, path=path)
    atexit.register(_stop, proc)
    return path


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()


def _socket_path() -> str:
    with _lock:
        proc = _server.get("proc")
        # A forked web worker must not share its parent's server: it starts its own.
        if proc is None or proc.poll() is not None or _server.get("pid") != os.getpid():
            return _start()
        return _server["path"]


def submit(job: dict[str, Any], *, seconds: int, memory_mb: int) -> str:
    """Send ``job`` to a forked child; return the child's answer (one JSON line), or raise Unavailable."""
    payload = json.dumps({"job": job, "seconds": seconds, "memory_mb": memory_mb}).encode("utf-8")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(seconds + 10)
    try:
        conn.connect(_socket_path())
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except TimeoutError as err:
        raise Unavailable(f"The {job.get('op')} job took longer than {seconds} s.", code="job_timeout") from err
    except OSError as err:
        raise Unavailable("The minutes worker is unavailable.", code="worker_unavailable") from err
    finally:
        conn.close()
    return b"".join(chunks).decode("utf-8")


def _child(conn: socket.socket) -> None:
    import resource

    from meetings.minutes.worker import handle

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the job may run pdftotext and wait for it
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    request = json.loads(data)
    cap = int(request["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.alarm(int(request["seconds"]))  # SIGALRM's default action ends a job that runs too long
    answer = handle(request["job"])
    conn.sendall((json.dumps(answer) + "\n").encode("utf-8"))


def serve(path: str) -> None:
    """Preload the heavy modules, then fork one child per connection."""
    import logging

    from meetings.minutes import compose, signing, verify, worker  # noqa: F401  (preloaded for the children)

    logging.basicConfig(level=logging.ERROR)
    compose._register()
    import pyhanko.pdf_utils.font.opentype  # noqa: F401
    import pyhanko.sign.validation  # noqa: F401

    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".tmp")
    os.chmod(path + ".tmp", 0o600)
    srv.listen(64)
    os.rename(path + ".tmp", path)  # the client waits for this name: it appears only when listening
    srv.settimeout(2)
    while os.getppid() == parent:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        if os.fork() == 0:
            srv.close()
            try:
                conn.settimeout(None)
                _child(conn)
            finally:
                os._exit(0)
        conn.close()
    os.unlink(path)


if __name__ == "__main__":
    serve(sys.argv[1])
