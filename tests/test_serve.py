"""The REAL server: gunicorn with gunicorn.conf.py (gevent worker) over a migrated,
demo-loaded SQLite instance, used like a new user would: browser login, the
meeting and its agenda, a PDF, a bearer token, a websocket. Plus the /vendor/
route that serves the browser libraries.
"""
from __future__ import annotations

import json
import re
import socket
from html import unescape

import pytest
import requests
import socketio

from meetings.core.config import PROJECT_ROOT
from meetings.demo import AGENDA, MEETING_TITLE, PASSWORD
from tests.live_server import start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"LOGIN_RATE_LIMIT": "60 per minute", "LOG_LEVEL": "INFO"}
    handle = start_server(tmp_path_factory.mktemp("serve"), env=env, demo=True)
    yield handle
    handle.stop()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def _shows(html: str, text: str) -> bool:
    # Server-rendered, or inside a JSON boot block (which may \u-escape non-ASCII).
    return text in unescape(html) or json.dumps(text)[1:-1] in html


def _token(server, username: str = "delegate1") -> str:
    r = requests.post(f"{server.url}/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_server_runs_the_gevent_worker_and_is_healthy(server):
    r = requests.get(f"{server.url}/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert "Using worker: gevent" in server.log()


def test_new_user_logs_in_sees_the_meeting_agenda_and_reads_a_pdf(server):
    browser = requests.Session()
    login_page = browser.get(f"{server.url}/login")
    assert login_page.status_code == 200
    r = browser.post(f"{server.url}/login", data={"username": "delegate1", "password": PASSWORD,
                                                   "csrf_token": _csrf(login_page.text)})
    assert r.status_code == 200 and r.url.rstrip("/") == server.url, r.url  # redirected home
    home = r.text
    assert _shows(home, MEETING_TITLE)

    links = sorted(set(re.findall(r'href="(/meetings/\d+[^"]*)"', home)))
    assert links, "the home page links to the meeting"
    page = browser.get(server.url + unescape(links[0]))
    assert page.status_code == 200
    for top in AGENDA:
        for item in (top, *top.children):
            assert _shows(page.text, item.title), item.title

    doc_ids = re.findall(r'"documents":\s*\[\s*\{\s*"id":\s*(\d+)', page.text) or re.findall(
        r"/api/v1/documents/(\d+)/file", page.text)
    assert doc_ids, "the meeting page tells the browser which documents to fetch"
    pdf = browser.get(f"{server.url}/api/v1/documents/{doc_ids[0]}/file")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF-")


def test_browser_login_is_refused_without_csrf_or_with_a_wrong_password(server):
    browser = requests.Session()
    r = browser.post(f"{server.url}/login", data={"username": "delegate1", "password": PASSWORD},
                     allow_redirects=False)
    assert r.status_code == 400
    token = _csrf(browser.get(f"{server.url}/login").text)
    r = browser.post(f"{server.url}/login", data={"username": "delegate1", "password": "wrong", "csrf_token": token},
                     allow_redirects=False)
    assert r.status_code == 401
    r = browser.get(f"{server.url}/", allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_bearer_token_lists_meetings(server):
    token = _token(server)
    r = requests.get(f"{server.url}/api/v1/meetings", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert MEETING_TITLE in json.dumps(r.json(), ensure_ascii=False)
    r = requests.get(f"{server.url}/api/v1/meetings")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = requests.get(f"{server.url}/api/v1/meetings", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401
    r = requests.post(f"{server.url}/api/v1/auth/token", json={"username": "delegate1", "password": "demo "})
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"


def test_websocket_only_socketio_client_connects_with_a_token(server):
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], auth={"token": _token(server)}, wait_timeout=10)
    try:
        assert client.connected and client.transport() == "websocket"
    finally:
        client.disconnect()


@pytest.mark.parametrize("auth", [{"token": "forged-token"}, None, {"token": 12345}, "just a string"])
def test_socket_with_a_bad_or_missing_token_is_refused(server, auth):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["websocket"], auth=auth, wait_timeout=10)
    assert not client.connected
    client.disconnect()


def test_stop_ends_the_whole_process_group(tmp_path):
    handle = start_server(tmp_path)
    port = int(handle.url.rsplit(":", 1)[1])
    handle.stop()
    assert handle.process.poll() is not None
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens after stop()"
    handle.stop()  # a second stop is harmless


def test_vendor_serves_the_browser_libraries_on_the_real_server(server):
    r = requests.get(f"{server.url}/vendor/socket.io-client/dist/socket.io.esm.min.js")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert "max-age" in r.headers["Cache-Control"] and r.headers.get("ETag")
    again = requests.get(r.url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


# --- /vendor/ through the test client: what is served and what never is ----------------------

VENDORED = [
    ("pdfjs-dist", "build/pdf.mjs", "text/javascript"),
    ("pdfjs-dist", "build/pdf.worker.mjs", "text/javascript"),
    ("socket.io-client", "dist/socket.io.esm.min.js", "text/javascript"),
    ("dejavu-fonts-ttf", "ttf/DejaVuSerif.ttf", "font/ttf"),
    ("@noble/curves", "ed25519.js", "text/javascript"),
    ("@noble/hashes", "sha2.js", "text/javascript"),
]


@pytest.mark.parametrize("package,path,mimetype", VENDORED)
def test_vendor_files_have_types_and_cache_headers(client, package, path, mimetype):
    from meetings.web import vendor_version

    r = client.get(f"/vendor/{package}/{path}")
    assert r.status_code == 200 and r.mimetype == mimetype
    assert r.cache_control.public and r.cache_control.max_age == 3600 and r.headers.get("ETag")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    pinned = client.get(f"/vendor/{package}/{path}?v={vendor_version(package)}")
    assert pinned.cache_control.max_age == 365 * 24 * 3600 and pinned.cache_control.immutable
    stale = client.get(f"/vendor/{package}/{path}?v=0.0.0")
    assert stale.cache_control.max_age == 3600 and not stale.cache_control.immutable
    assert client.get(f"/vendor/{package}/{path}", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("url", [
    "/vendor/ws/package.json",  # installed, but not one of the served packages
    "/vendor/engine.io-client/package.json",
    "/vendor/pdfjs-dist/../ws/package.json",
    "/vendor/pdfjs-dist/%2e%2e/ws/package.json",
    "/vendor/pdfjs-dist/..%2f..%2fpackage-lock.json",
    "/vendor/pdfjs-dist/build",  # a directory
    "/vendor/pdfjs-dist/build/",
    "/vendor/pdfjs-dist/does-not-exist.js",
    "/vendor/pdfjs-dist//etc/passwd",
    "/vendor/..%2fmeetings/config.py",
    "/vendor/dejavu-fonts-ttf/%00",
    "/vendor/@noble/ciphers/index.js",  # a scope served, not this package
    "/vendor/@noble/curves",
    "/vendor/@noble/curves/",
    "/vendor/@noble/..%2f..%2fpackage-lock.json",
    "/vendor/@napi-rs/package.json",
])
def test_vendor_refuses_everything_else(client, url):
    r = client.get(url, follow_redirects=True)  # Werkzeug redirects "//" to "/" first
    assert r.status_code in (404, 400), (url, r.status_code)
    assert b"root:" not in r.data and b"PROJECT_ROOT" not in r.data


def test_vendor_url_helper_pins_the_installed_version(app):
    from meetings.web import vendor_url, vendor_version

    with app.test_request_context():
        url = vendor_url("pdfjs-dist", "build/pdf.mjs")
    assert url == f"/vendor/pdfjs-dist/build/pdf.mjs?v={vendor_version('pdfjs-dist')}"
    installed = json.loads((PROJECT_ROOT / "node_modules/pdfjs-dist/package.json").read_text())["version"]
    assert vendor_version("pdfjs-dist") == installed


def test_every_setting_is_documented():
    from meetings.core.config import load_settings

    doc = (PROJECT_ROOT / "docs" / "configuration.md").read_text("utf-8")
    missing = [name for name in load_settings() if f"`{name}`" not in doc]
    assert missing == [], f"document these in docs/configuration.md: {missing}"
    conf = (PROJECT_ROOT / "gunicorn.conf.py").read_text("utf-8")
    for name in re.findall(r'os\.environ\.get\("([A-Z_]+)"', conf):
        assert f"`{name}`" in doc, name
