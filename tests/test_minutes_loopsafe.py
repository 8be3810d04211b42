"""pyHanko's sync calls work even when the calling thread runs an asyncio loop."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from meetings.minutes.loopsafe import outside_running_loop


def _needs_asyncio_run() -> str:
    async def inner() -> str:
        return "done"

    return asyncio.run(inner())  # what pyHanko's sign_pdf and validate_pdf_signature do


def _on_a_fresh_thread(fn):
    # The test worker's own thread may already carry a running loop (Playwright's sync
    # API in the same process): each scenario starts from a thread with none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def test_plain_call_without_a_loop():
    assert _on_a_fresh_thread(outside_running_loop(_needs_asyncio_run)) == "done"


def test_call_from_inside_a_running_loop():
    async def caller() -> str:
        return outside_running_loop(_needs_asyncio_run)()

    assert _on_a_fresh_thread(lambda: asyncio.run(caller())) == "done"


def test_without_the_guard_a_running_loop_refuses():
    async def caller() -> None:
        _needs_asyncio_run()

    with pytest.raises(RuntimeError, match="running event loop"):
        _on_a_fresh_thread(lambda: asyncio.run(caller()))
