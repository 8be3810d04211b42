"""Ending a session or token ends its sockets: told ``session.revoked``, disconnected by the server,
on whichever process holds them (two real gunicorn servers sharing the test database and the real
Redis message queue), and an ended credential's open socket cannot act."""
from __future__ import annotations

import functools
import time
import uuid
from datetime import timedelta

import pytest
import redis
import requests
import socketio
from sqlalchemy import update

from meetings.accounts.models import ApiToken, User
from meetings.accounts.service import hash_password
from meetings.core.db import utcnow
from tests.socket_helpers import SocketClient, db_session, make_world, start_socket_server, wait_until

REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "phien-hop-thu-nghiem-7"
CACHE_SECONDS = 1


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, database_url):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis is needed at {REDIS_URL}: {err}")
    # One secret key, as processes behind one address share it: a cookie from one is good at the other.
    # TOKEN_CACHE_SECONDS: how long a process trusts a credential it found live; a change written
    # behind its back (another installation, an expiry) is seen at most that long later.
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": f"test-sessions-{uuid.uuid4().hex}",
           "SECRET_KEY": uuid.uuid4().hex, "TOKEN_CACHE_SECONDS": str(CACHE_SECONDS)}
    a = start_socket_server(tmp_path_factory.mktemp("sessions-a"), database_url, env=env)
    try:
        b = start_socket_server(tmp_path_factory.mktemp("sessions-b"), database_url, env=env)
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(url: str, username: str) -> str:
    r = requests.post(f"{url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def with_password(database_url: str, world, *names: str) -> None:
    with db_session(database_url) as s:
        for name in names:
            s.execute(update(User).where(User.id == world.user_ids[name]).values(password_hash=hash_password(PASSWORD)))
        s.commit()


def revoked(client: SocketClient) -> dict:
    """The ``session.revoked`` notice, then the server's disconnect."""
    notice = client.next_event("session.revoked")
    wait_until(lambda: not client.sio.connected, "the server to disconnect the socket")
    return notice


def joined(client: SocketClient, meeting_id: int) -> SocketClient:
    assert client.call("meeting.join", {"meeting_id": meeting_id})["ok"]
    return client


def test_a_revoked_tokens_socket_is_disconnected_by_another_process(two_servers, database_url):
    a, b = two_servers
    w = make_world(database_url)
    delegate = joined(SocketClient(a.url, w.tokens["delegate"]).connect(), w.meeting_id)
    chair = joined(SocketClient(a.url, w.tokens["chair"]).connect(), w.meeting_id)
    try:
        r = requests.delete(f"{b.url}/api/v1/auth/token", headers=bearer(w.tokens["delegate"]), timeout=30)
        assert r.status_code == 204
        assert revoked(delegate) == {"reason": "logout"}
        with pytest.raises(socketio.exceptions.ConnectionError):
            SocketClient(a.url, w.tokens["delegate"]).connect()
        # The chair's socket on the same process is untouched.
        assert chair.call("presenter.set", {"meeting_id": w.meeting_id, "page": 3})["ok"]
        assert chair.next_event()["type"] == "presenter.changed"
    finally:
        delegate.disconnect()
        chair.disconnect()


def test_an_ended_tokens_open_socket_cannot_act(two_servers, database_url):
    """Ended behind the server's back (expired, or revoked by another installation's process): the
    socket is still open, but its next event once the server's memory of the credential has aged
    out (TOKEN_CACHE_SECONDS) is refused."""
    a, _ = two_servers
    w = make_world(database_url)
    delegate = joined(SocketClient(a.url, w.tokens["delegate"]).connect(), w.meeting_id)
    delegate2 = joined(SocketClient(a.url, w.tokens["delegate2"]).connect(), w.meeting_id)
    try:
        with db_session(database_url) as s:
            s.execute(update(ApiToken).where(ApiToken.user_id == w.user_ids["delegate"]).values(revoked_at=utcnow()))
            s.execute(update(ApiToken).where(ApiToken.user_id == w.user_ids["delegate2"])
                      .values(last_seen_at=utcnow() - timedelta(days=2)))  # idle past SESSION_IDLE_MINUTES
            s.commit()
        time.sleep(CACHE_SECONDS + 0.2)  # the remembered credential's age, not a measurement
        for client in (delegate, delegate2):
            ack = client.call("speaker.request", {"meeting_id": w.meeting_id, "kind": "question"})
            assert ack["ok"] is False and ack["error"]["code"] == "unauthorized", ack
    finally:
        delegate.disconnect()
        delegate2.disconnect()


def test_sign_out_everywhere_disconnects_every_socket_of_the_account(two_servers, database_url):
    a, b = two_servers
    w = make_world(database_url)
    with_password(database_url, w, "delegate")
    with db_session(database_url) as s:
        name = s.get(User, w.user_ids["delegate"]).username
    second = new_token(b.url, name)
    on_a = joined(SocketClient(a.url, w.tokens["delegate"]).connect(), w.meeting_id)
    on_b = joined(SocketClient(b.url, second).connect(), w.meeting_id)
    chair = joined(SocketClient(b.url, w.tokens["chair"]).connect(), w.meeting_id)
    try:
        r = requests.post(f"{a.url}/api/v1/users/{w.user_ids['delegate']}/sessions/revoke",
                          headers=bearer(w.tokens["admin"]), timeout=30)
        assert r.status_code == 200 and r.json()["ended"] == 2
        assert revoked(on_a) == {"reason": "revoked"} and revoked(on_b) == {"reason": "revoked"}
        assert chair.sio.connected and chair.call("meeting.join", {"meeting_id": w.meeting_id})["ok"]
    finally:
        for c in (on_a, on_b, chair):
            c.disconnect()


def test_a_password_change_disconnects_the_other_devices_only(two_servers, database_url):
    a, b = two_servers
    w = make_world(database_url)
    with_password(database_url, w, "delegate")
    with db_session(database_url) as s:
        name = s.get(User, w.user_ids["delegate"]).username
    other = new_token(a.url, name)
    mine = joined(SocketClient(a.url, w.tokens["delegate"]).connect(), w.meeting_id)
    theirs = joined(SocketClient(a.url, other).connect(), w.meeting_id)
    try:
        r = requests.post(f"{b.url}/api/v1/users/me/password", json={"current": PASSWORD, "new": "hoa-sen-mua-ha-7"},
                          headers=bearer(w.tokens["delegate"]), timeout=30)
        assert r.status_code == 204, r.text
        assert revoked(theirs) == {"reason": "password"}
        # The device that changed it keeps its socket and may act.
        assert mine.sio.connected
        assert mine.call("speaker.request", {"meeting_id": w.meeting_id, "kind": "question"})["ok"]
    finally:
        mine.disconnect()
        theirs.disconnect()


def _browser_login(url: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = http.post(f"{url}/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf},
                  allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    http.csrf = csrf
    return http


def _cookie_socket(url: str, http: requests.Session, on_refusal=None) -> SocketClient:
    """A socket that authenticates as a browser does: with the session cookie, no token."""
    client = SocketClient(url, None)
    if on_refusal is not None:
        client.sio.on("connect_error", on_refusal)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    client.sio.connect = functools.partial(client.sio.connect, headers={"Cookie": cookie})
    return client.connect()


def test_a_browsers_socket_ends_with_its_logout_and_the_cookie_is_dead(two_servers, database_url):
    a, b = two_servers
    w = make_world(database_url)
    with_password(database_url, w, "delegate")
    with db_session(database_url) as s:
        name = s.get(User, w.user_ids["delegate"]).username
    tablet = _browser_login(b.url, name)
    copied = dict(tablet.cookies.items())
    sock = joined(_cookie_socket(a.url, tablet), w.meeting_id)
    try:
        r = tablet.post(f"{b.url}/logout", data={"csrf_token": tablet.csrf}, allow_redirects=False, timeout=30)
        assert r.status_code == 302
        assert revoked(sock) == {"reason": "logout"}
        replay = requests.Session()
        replay.cookies.update(copied)
        r = replay.get(f"{a.url}/api/v1/users/me", timeout=30)
        assert r.status_code == 401 and r.headers["Clear-Site-Data"] == '"cache", "storage"'
        # The socket with the copied cookie is refused with the code the tablet app wipes its data on.
        again = requests.Session()
        again.cookies.update(copied)
        refusals: list = []
        with pytest.raises(socketio.exceptions.ConnectionError):
            _cookie_socket(a.url, again, on_refusal=refusals.append)
        assert refusals and refusals[0]["message"] == "session_ended", refusals
    finally:
        sock.disconnect()


def test_socket_events_keep_the_credential_alive(two_servers, database_url):
    """A tablet that only talks over its socket is in use: its events write the last-seen time."""
    a, _ = two_servers
    w = make_world(database_url)
    delegate = joined(SocketClient(a.url, w.tokens["delegate"]).connect(), w.meeting_id)
    try:
        earlier = utcnow() - timedelta(minutes=5)
        with db_session(database_url) as s:
            s.execute(update(ApiToken).where(ApiToken.user_id == w.user_ids["delegate"]).values(last_seen_at=earlier))
            s.commit()
        time.sleep(CACHE_SECONDS + 0.2)  # the join's check is remembered that long: the next one reads the row
        assert delegate.call("speaker.request", {"meeting_id": w.meeting_id, "kind": "question"})["ok"]
        with db_session(database_url) as s:
            seen = s.query(ApiToken.last_seen_at).filter(ApiToken.user_id == w.user_ids["delegate"]).scalar()
        assert seen > earlier + timedelta(minutes=4)
    finally:
        delegate.disconnect()


def test_a_storm_of_connects_does_not_drain_the_database_pool(two_servers, database_url):
    """Each connect reads the token, then records the socket with a connection of its own. Holding the
    first while waiting for the second drained PostgreSQL's pool (10 + 20) when a hall connected at once:
    connects failed after the pool's 30 s timeout (found by bench/vote_storm.py)."""
    import threading

    server, _ = two_servers
    world = make_world(database_url, extra_delegates=60)
    names = [f"member{i}" for i in range(60)]
    connected: list[socketio.Client] = []
    failed: list[str] = []
    start = threading.Barrier(len(names))

    def connect(name: str) -> None:
        client = socketio.Client(reconnection=False)
        start.wait()
        try:
            client.connect(server.url, auth={"token": world.tokens[name]}, transports=["websocket"],
                           wait_timeout=20)
            connected.append(client)
        except socketio.exceptions.ConnectionError as err:
            failed.append(f"{name}: {err}")

    threads = [threading.Thread(target=connect, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not failed and len(connected) == len(names), failed[:3]
    finally:
        for c in connected:
            c.disconnect()
