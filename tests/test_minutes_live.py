"""On a real gunicorn + gevent server: compose and sign run in forked children, progress arrives
over Socket.IO to the requesting user only, and the signed file verifies."""
from __future__ import annotations

import shutil

import pytest
import requests
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.minutes.signers import issue_key
from tests.minutes_support import CA_PASS, CHAIR_PASS, SECRETARY_PASS, pki  # noqa: F401
from tests.socket_helpers import assert_not_received, connect, db_session, make_world, start_socket_server

TIMEOUT = 120  # a deadline for a request to come back, not a measurement


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    handle = start_socket_server(tmp_path_factory.mktemp("minutes-live"), database_url)
    yield handle
    handle.stop()


def _api(server, token, method, path, **kw):
    return requests.request(method, server.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"},
                            timeout=TIMEOUT, **kw)


def test_progress_and_signing_on_a_real_server(server, database_url, pki):  # noqa: F811
    if not (server.instance_path / "ca").exists():
        shutil.copytree(pki["instance"] / "ca", server.instance_path / "ca")
    world = make_world(database_url, status="scheduled")
    for status in ("in_progress", "adjourned", "closed"):  # held and ended through the API, as a secretariat does
        r = _api(server, world.tokens["secretary"], "POST", f"/meetings/{world.meeting_id}/status",
                 json={"status": status})
        assert r.status_code == 200, r.text
    config = {"INSTANCE_PATH": str(server.instance_path)}
    with db_session(database_url) as s:
        for name, secret in (("secretary", SECRETARY_PASS), ("chair", CHAIR_PASS)):
            issue_key(s, config, s.execute(select(User).where(User.id == world.user_ids[name])).scalar_one(),
                      ca_passphrase=CA_PASS, passphrase=secret)
        s.commit()
    sec, chair = world.tokens["secretary"], world.tokens["chair"]
    m = _api(server, sec, "POST", f"/meetings/{world.meeting_id}/minutes", json={}).json()
    with connect(server.url, sec) as mine, connect(server.url, chair) as other:
        assert other.call("meeting.join", {"meeting_id": world.meeting_id})["ok"]
        r = _api(server, sec, "POST", f"/minutes/{m['id']}/finalize")
        assert r.status_code == 200, r.text
        done = mine.next_event("minutes.progress", lambda d: d["stage"] == "done")
        assert done == {"minutes_id": m["id"], "stage": "done", "percent": 100}
        r = _api(server, sec, "POST", f"/minutes/{m['id']}/signatures", json={"secret": SECRETARY_PASS})
        assert r.status_code == 201, r.text
        signing = mine.next_event("minutes.progress", lambda d: d["stage"] == "signing")
        assert signing["minutes_id"] == m["id"]
        # The meeting room hears the status change (sent after the signing's progress: the barrier);
        # only the requester hears the progress.
        def signed(name, e):
            return name == "event" and e["type"] == "minutes.status" and e["data"]["status"] == "secretary_signed"

        assert_not_received(other, lambda name, _data: name == "minutes.progress",
                            barrier=lambda: other.wait_for(signed, "the status change"),
                            what="a progress notice to another user")
        assert other.wait_for(signed, "the status change")[1]["data"]["minutes_id"] == m["id"]
    r = _api(server, sec, "POST", f"/minutes/{m['id']}/signatures", json={"secret": "wrong-passphrase"})
    assert r.status_code == 409  # the secretary has signed; it is the chair's turn
    r = _api(server, chair, "POST", f"/minutes/{m['id']}/signatures", json={"secret": "wrong-passphrase"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_passphrase"
    r = _api(server, chair, "POST", f"/minutes/{m['id']}/signatures", json={"secret": CHAIR_PASS})
    assert r.status_code == 201, r.text
    report = _api(server, sec, "GET", f"/minutes/{m['id']}/verification").json()
    assert report["valid"] and report["trusted"] and len(report["signatures"]) == 2
    # Nothing secret reached the server's log.
    log = server.log()
    assert SECRETARY_PASS not in log and CHAIR_PASS not in log and "wrong-passphrase" not in log
    with db_session(database_url) as s:
        assert s.get(Meeting, world.meeting_id).status == "closed"
