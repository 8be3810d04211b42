"""Serving tweaks for gunicorn's gevent worker (installed from gunicorn.conf.py).

gevent's socket falls back to reading a file in 8 KiB blocks through Python
for ``socket.sendfile``, because ``os.sendfile`` on a blocking socket would
stall the event loop. The worker's sockets are non-blocking underneath, so
``os.sendfile`` returns EAGAIN instead of blocking: waiting for the socket to
become writable between calls keeps it cooperative while the kernel copies
the agenda PDFs (measured in bench/delivery.py against nginx).
"""
from __future__ import annotations

import os

# Large slices keep the number of wake-ups low; the socket buffer bounds each call anyway.
_SLICE = 4 * 1024 * 1024


def _cooperative_sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
    self._check_sendfile_params(file, offset, count)
    if self.gettimeout() == 0:
        raise ValueError("non-blocking sockets are not supported")
    try:
        in_fd = file.fileno()
        size = os.fstat(in_fd).st_size
    except (AttributeError, OSError, ValueError):
        return self._sendfile_use_send(file, offset, count)
    remaining = (size - offset) if count is None else min(count, size - offset)
    out_fd = self.fileno()
    total = 0
    try:
        while remaining > 0:
            try:
                sent = os.sendfile(out_fd, in_fd, offset + total, min(remaining, _SLICE))
            except BlockingIOError:
                self._wait(self._write_event)  # honours the socket's timeout
                continue
            if sent == 0:
                break  # the file shrank under us
            total += sent
            remaining -= sent
        return total
    finally:
        if total > 0 and hasattr(file, "seek"):
            file.seek(offset + total)


def use_kernel_sendfile() -> None:
    """Make gevent sockets send files with os.sendfile (call once per worker)."""
    from gevent import _socket3

    _socket3.socket.sendfile = _cooperative_sendfile
