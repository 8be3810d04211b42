"""A warm fork server for minutes jobs: each job runs in its own forked child.

Starting a fresh Python for every job costs seconds (ReportLab and pyHanko
imports) on a busy machine; forking a server that imported them once costs
milliseconds and keeps the isolation: every job is a separate process with an
address-space cap and an alarm, so a runaway or hostile job dies alone. Jobs
arrive as one JSON document over a Unix socket in a private (0700) folder, so
a passphrase never shows in a process listing.

Run as ``python -m meetings.minutes.forkserver <socket path>`` by
``meetings.minutes.runner``; it imports only the jobs (``meetings.minutes.jobs``),
never the web application. The server exits when the process that started it
is gone.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import signal
import socket
import sys

import pyhanko.pdf_utils.font.opentype  # noqa: F401  (preloaded for the children: the signature stamp)
import pyhanko.sign.validation  # noqa: F401  (preloaded for the children: verification)

from meetings.minutes.compose import register_minutes_fonts
from meetings.minutes.jobs import handle


def _child(conn: socket.socket) -> None:
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
    """Listen on ``path`` and fork one child per connection, until the parent process is gone."""
    logging.basicConfig(level=logging.ERROR)
    register_minutes_fonts()  # once here, inherited by every child
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
