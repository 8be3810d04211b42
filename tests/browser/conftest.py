"""A real gunicorn server, Debian's Chromium through Playwright, and logged-in tablets.

The server is tests/live_server.py's (gunicorn + gevent worker, own process
group); the database is conftest's ``database_url`` (SQLite file or
PostgreSQL). Chromium is /usr/bin/chromium; Playwright never downloads one.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.seed import seed
from tests.factories import PASSWORD
from tests.live_server import start_server
from tests.tools import require_tool

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
WAIT_MS = 15_000  # deadline for things that must happen, never a measurement


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def seeded(database_url, server_dir):
    return seed(database_url, server_dir / "storage")


def compile_catalogues() -> None:
    """The .mo files are built at set-up (`pybabel compile`), not committed; build them here too."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d",
                    str(root / "meetings" / "translations")], check=True, capture_output=True)


@pytest.fixture(scope="module")
def server(database_url, server_dir, seeded):
    compile_catalogues()
    env = {"DATABASE_URL": database_url, "STORAGE_PATH": str(server_dir / "storage"),
           "LOGIN_RATE_LIMIT": "1000 per minute", "ACCESS_LOG": "/dev/null"}
    handle = start_server(server_dir, env=env, migrate=False)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    require_tool("chromium", present=Path(CHROMIUM).exists(), why=f"no {CHROMIUM}", install="chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    path = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def tablet(browser, server):
    """``tablet(username, viewport=LANDSCAPE, locale="vi-VN")`` → a logged-in Playwright page."""
    contexts = []

    def make(username: str, viewport: dict | None = None, locale: str = "vi-VN"):
        ctx = browser.new_context(viewport=viewport or LANDSCAPE, has_touch=True, locale=locale,
                                  base_url=server.url, service_workers="allow")
        ctx.set_default_timeout(WAIT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.errors = []
        page.error_stacks = []  # the same errors with their JavaScript stack, for a failure's message

        def record(err):
            page.errors.append(str(err))
            page.error_stacks.append(err.stack or str(err))

        page.on("pageerror", record)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        return page

    yield make
    for ctx in contexts:
        ctx.close()
