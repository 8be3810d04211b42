"""Argon2id for passwords and recovery codes, run off the event loop.

One argon2 hash or verification costs tens to hundreds of milliseconds of CPU
(on purpose). Under gunicorn's gevent worker, running it on the loop stops every
greenlet of the process for that long: sockets, page turns, ``/healthz``. So it
runs in a small pool of real OS threads (gevent's ``ThreadPool``, which waits
for the thread without blocking the hub); argon2-cffi calls libargon2 through
CFFI, which releases the GIL, so the loop keeps running meanwhile. The pool is
bounded (``PASSWORD_HASH_THREADS``): a login storm queues its hashes there instead
of spending memory (``PASSWORD_HASH_MEMORY_KIB`` each) on all of them at once.
Without gevent (the dev server, the CLI, tests) the call runs in the caller's
thread, which is already a real thread.

The costs are settings, refused below OWASP's argon2id minimum (any of its
equivalent memory/time pairs, parallelism 1). Verification always reads the
costs from the stored hash, so changing them affects new hashes only (a password
is re-hashed with the new costs when it is next set).
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet (argon2id): equally strong (memory KiB, iterations) pairs, p = 1.
OWASP_MINIMUM = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))
# OWASP's second pair, the one most deployments take: 19 MiB, t = 2, p = 1. argon2-cffi's own
# default (RFC 9106's "second recommended option": 64 MiB, t = 3, p = 4) costs about five times the
# CPU per login: 1,000 tablets logging in the morning of a sitting took minutes on two cores
# (bench/README.md, login storm). Raise the settings where logins are few and the threat is offline.
DEFAULT_MEMORY_KIB, DEFAULT_TIME_COST, DEFAULT_PARALLELISM = 19456, 2, 1
RFC9106_MEMORY_KIB, RFC9106_TIME_COST, RFC9106_PARALLELISM = 65536, 3, 4
DEFAULT_THREADS = 2
# The hashing threads run at a lower CPU priority than the event loop's thread, so on a busy
# machine the kernel gives the loop (sockets, page turns) its share first and logins the rest.
HASH_THREAD_NICE = 10

_lock = threading.Lock()
_state: dict[str, Any] = {"hasher": PasswordHasher(), "threads": DEFAULT_THREADS, "pool": None, "pid": None,
                          "dummy": {}, "pinned": None}


def strong_enough(memory_kib: int, time_cost: int, parallelism: int) -> bool:
    """Whether these argon2id costs are at least one of OWASP's minimum pairs."""
    return parallelism >= 1 and any(memory_kib >= m and time_cost >= t for m, t in OWASP_MINIMUM)


def configure(config: Mapping[str, Any]) -> None:
    """Take the costs and the pool size from the app's settings; ValueError below the minimum."""
    memory = int(config.get("PASSWORD_HASH_MEMORY_KIB") or DEFAULT_MEMORY_KIB)
    time_cost = int(config.get("PASSWORD_HASH_TIME_COST") or DEFAULT_TIME_COST)
    parallelism = int(config.get("PASSWORD_HASH_PARALLELISM") or DEFAULT_PARALLELISM)
    if not strong_enough(memory, time_cost, parallelism):
        raise ValueError(f"argon2id costs m={memory} KiB, t={time_cost}, p={parallelism} are below OWASP's "
                         f"minimum (m=19456 KiB t=2, or m=47104 KiB t=1, ...; p>=1)")
    threads = max(1, int(config.get("PASSWORD_HASH_THREADS") or DEFAULT_THREADS))
    hasher = _state["hasher"]
    with _lock:
        if _state["pinned"] is not None:
            _state["hasher"] = _state["pinned"]
        elif (hasher.memory_cost, hasher.time_cost, hasher.parallelism) != (memory, time_cost, parallelism):
            _state["hasher"] = PasswordHasher(time_cost=time_cost, memory_cost=memory, parallelism=parallelism)
        if threads != _state["threads"]:
            _state["threads"], _state["pool"] = threads, None


def pin(hasher: PasswordHasher | None) -> PasswordHasher | None:
    """Hash with ``hasher`` whatever the settings say, below the minimum too (the test suite's
    cheapest costs: its worlds hash many passwords); None goes back to the settings' costs at the
    next ``configure``. Returns the previous pin."""
    with _lock:
        previous, _state["pinned"] = _state["pinned"], hasher
        _state["hasher"] = hasher or PasswordHasher()
    return previous


def _under_gevent() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def _pool():
    """The process's hashing pool under gevent (made after the fork, in the worker), else None."""
    if not _under_gevent():
        return None
    with _lock:
        if _state["pool"] is None or _state["pid"] != os.getpid():
            from gevent.threadpool import ThreadPool

            _state["pool"], _state["pid"] = ThreadPool(_state["threads"]), os.getpid()
        return _state["pool"]


def _niced(fn: Callable[..., T], *args: Any) -> T:
    """In a pool thread: lower this thread's priority (Linux: PRIO_PROCESS 0 is the calling
    thread; argon2's own lane threads inherit it), then run ``fn``."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < HASH_THREAD_NICE:
            os.setpriority(os.PRIO_PROCESS, 0, HASH_THREAD_NICE)
    except OSError:  # not permitted here: run at the normal priority
        pass
    return fn(*args)


def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the hashing pool under gevent (this greenlet waits, the loop runs on),
    else right here."""
    pool = _pool()
    return fn(*args) if pool is None else pool.apply(_niced, (fn, *args))


def hash_secret(secret: str) -> str:
    """An argon2id hash of ``secret`` with the configured costs."""
    return off_loop(_state["hasher"].hash, secret)


def _verify(hasher: PasswordHasher, stored: str, secret: str) -> bool:
    try:
        return hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def verify_secret(stored: str, secret: str) -> bool:
    """Whether ``secret`` matches the argon2 hash ``stored`` (False for anything that is not one)."""
    return off_loop(_verify, _state["hasher"], stored, secret)


def verify_nothing(secret: str) -> bool:
    """The work of a verification for an account that does not exist (always False), so a
    login for an unknown name takes as long as one for a real name."""
    hasher = _state["hasher"]
    key = (hasher.memory_cost, hasher.time_cost, hasher.parallelism)
    dummy = _state["dummy"].get(key)
    if dummy is None:
        dummy = _state["dummy"][key] = off_loop(hasher.hash, "not a password")
    off_loop(_verify, hasher, dummy, secret)
    return False
