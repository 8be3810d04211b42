"""Run pyHanko's synchronous entry points from anywhere.

pyHanko's sync API (sign_pdf, validate_pdf_signature) calls ``asyncio.run``,
which refuses to start inside a thread whose asyncio loop is running (an
async caller, or a library such as Playwright's sync API in the same
process). Jobs normally run in child processes where no loop runs; when one
does, the call moves to a short-lived thread of its own.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def outside_running_loop(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that must not run on a thread with a running asyncio loop."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return fn(*args, **kwargs)  # the usual case: no loop here
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(fn, *args, **kwargs).result()

    return wrapper
