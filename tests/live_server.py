"""Start the REAL server (gunicorn + gunicorn.conf.py, gevent worker) in a child process.

    handle = start_server(tmp_path, env={"DATABASE_URL": ..., "SOCKETIO_MESSAGE_QUEUE": ...}, demo=True)
    try:
        requests.get(handle.url + "/healthz")
    finally:
        handle.stop()

Each server gets its own instance folder under ``tmp_path`` (secret key,
storage, and the SQLite database unless ``env`` names another). Several
servers may share one ``DATABASE_URL`` and one Redis queue to test scaling
out; pass ``migrate=False`` to the second one (the first migrated it).
The server runs in its own process group, so ``stop()`` ends gunicorn's
arbiter and its worker together.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60  # a deadline for start-up, not a measurement


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerHandle:
    url: str
    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path
    instance_path: Path
    _stopped: bool = field(default=False, repr=False)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        _kill_group(self.process)


def _kill_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def server_env(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server under ``tmp_path``: a private instance folder unless overridden."""
    instance = tmp_path / "instance"
    merged = {k: v for k, v in os.environ.items() if k not in ("BIND", "PORT", "DATABASE_URL",
                                                                  "SOCKETIO_MESSAGE_QUEUE", "TEST_DB")}
    merged.update({
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "live-server-test-secret",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    merged.update(env or {})
    return merged


def flask_command(args: list[str], env: dict[str, str], timeout: int = 300) -> str:
    """Run ``flask --app wsgi <args>`` in a child process; its output, or an error with it."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_server(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    *,
    migrate: bool = True,
    demo: bool = False,
) -> ServerHandle:
    """Migrate (and optionally load the demo), start gunicorn, wait for /healthz."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    full_env = server_env(tmp_path, env)
    if migrate:
        flask_command(["db", "upgrade"], full_env)
    if demo:
        flask_command(["demo", "load"], full_env)
    port = port or free_port()
    full_env["BIND"] = f"127.0.0.1:{port}"
    log_path = tmp_path / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() reaches the worker too
        )
    handle = ServerHandle(f"http://127.0.0.1:{port}", process, full_env, log_path, Path(full_env["INSTANCE_PATH"]))
    try:
        _wait_healthy(handle)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_healthy(handle: ServerHandle) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {handle.process.returncode}:\n{handle.log()}")
        try:
            if requests.get(handle.url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{handle.log()}")
