"""pyHanko's sync calls work even when the calling thread runs an asyncio loop."""
from __future__ import annotations

import asyncio

from meetings.minutes.loopsafe import outside_running_loop


def _needs_asyncio_run() -> str:
    async def inner() -> str:
        return "done"

    return asyncio.run(inner())  # what pyHanko's sign_pdf and validate_pdf_signature do


def test_plain_call_without_a_loop():
    assert outside_running_loop(_needs_asyncio_run)() == "done"


def test_call_from_inside_a_running_loop():
    async def caller() -> str:
        return outside_running_loop(_needs_asyncio_run)()

    assert asyncio.run(caller()) == "done"


def test_without_the_guard_a_running_loop_refuses():
    async def caller() -> None:
        _needs_asyncio_run()

    try:
        asyncio.run(caller())
    except RuntimeError as err:
        assert "running event loop" in str(err)
    else:
        raise AssertionError("asyncio.run inside a running loop should have been refused")
