"""Running minutes jobs off the web process: the parent side of the fork server.

Composing and signing run in a child process with a time and a memory limit:
the gevent loop keeps serving sockets while ReportLab or pyHanko work, and a
runaway job is killed rather than taking the server down. Jobs go to a warm
fork server (``python -m meetings.minutes.forkserver``, started here on first
use) as JSON, never on a command line, so a passphrase shows in no process
listing or log; files travel by path.
"""
from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meetings.core.errors import DomainError, Invalid, Unavailable

DEFAULT_SECONDS = 120
DEFAULT_MEMORY_MB = 2048
SERVER_MODULE = "meetings.minutes.forkserver"

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
    proc = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, path], env=_env(),
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


def job_seconds(config: Mapping[str, Any]) -> int:
    """How long a minutes job may run in its child process (``MINUTES_JOB_SECONDS``)."""
    return config.get("MINUTES_JOB_SECONDS", DEFAULT_SECONDS)


def run_job(job: dict[str, Any], *, seconds: int = DEFAULT_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB) -> dict:
    """Run ``job`` in a forked child (``meetings.minutes.jobs``); a DomainError raised there is raised here again."""
    lines = [ln for ln in submit(job, seconds=seconds, memory_mb=memory_mb).splitlines() if ln.startswith("{")]
    if not lines:
        # The child died without answering: the alarm or the memory cap ended it.
        raise Unavailable(f"The {job.get('op')} job was stopped (time or memory limit).", code="job_failed")
    result = json.loads(lines[-1])
    if "error" in result:
        err = result["error"]
        cls = {"invalid": Invalid, "unavailable": Unavailable}.get(err.get("kind"), DomainError)
        raise cls(err["message"], code=err.get("code"))
    return result
