"""The counting committee's key ceremony and count, run over REST with simulated member devices.

    devices = run_ceremony(as_user, meeting_id)                          # the default committee
    devices = run_ceremony(as_user, meeting_id, ["chair", "delegate", "delegate2"], threshold=2)
    ...                                                                  # open, vote, close a secret poll
    answers = count(as_user, poll_id, devices)                           # any k members decrypt

``as_user(name)`` is a TokenClients-style factory of test clients (tests/factories.py);
``user_ids`` maps the names to user ids (default: ``as_user.world.users``). Against a real
server, ``LiveClients(live_world)`` is such a factory (with ``user_ids=live_world.user_ids``). Each device is a
``meetings.voting.elgamal_dkg.CommitteeMemberDevice``: what a member's tablet does, in Python.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import requests

from meetings.voting.elgamal_dkg import CommitteeMemberDevice


class _LiveResponse:
    """A requests answer that reads like a Flask test client's (status_code, get_json)."""

    def __init__(self, response: requests.Response):
        self.response, self.status_code = response, response.status_code

    def get_json(self) -> Any:
        return self.response.json() if self.response.content else None

    @property
    def json(self) -> Any:
        return self.get_json()


class _LiveClient:
    def __init__(self, url: str, token: str | None):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str) -> _LiveResponse:
        return _LiveResponse(requests.get(self.url + path, headers=self.headers, timeout=15))

    def post(self, path: str, json: Any = None) -> _LiveResponse:
        return _LiveResponse(requests.post(self.url + path, json=json, headers=self.headers, timeout=15))


class LiveClients:
    """``as_user`` for a real server (tests/socket_helpers.py's LiveWorld): ``LiveClients(world)(name)``;
    pass ``user_ids=world.user_ids`` to the functions here."""

    def __init__(self, world):
        self.world = world

    def __call__(self, name: str | None) -> _LiveClient:
        return _LiveClient(self.world.url, self.world.tokens[name] if name else None)


def _path(meeting_id: int, tail: str = "") -> str:
    return f"/api/v1/meetings/{meeting_id}/counting-committee{tail}"


def _ok(r, *statuses: int) -> Any:
    assert r.status_code in (statuses or (200, 201)), (r.status_code, r.get_json())
    return r.get_json()


def _ids(as_user, user_ids: dict[str, int] | None) -> dict[str, int]:
    if user_ids is not None:
        return user_ids
    return {name: user.id for name, user in as_user.world.users.items()}


def elect(as_user, meeting_id: int, members: list[str], threshold: int, by: str = "secretary",
          user_ids: dict[str, int] | None = None) -> dict:
    """Elect ``members`` (names, in index order) with threshold k; the committee as REST shows it."""
    ids = _ids(as_user, user_ids)
    r = as_user(by).post(_path(meeting_id), json={"member_ids": [ids[n] for n in members], "threshold": threshold})
    return _ok(r, 201)


def committee_state(as_user, meeting_id: int, as_name: str = "secretary") -> dict:
    """GET the meeting's committee as ``as_name`` sees it."""
    return _ok(as_user(as_name).get(_path(meeting_id)), 200)


def devices_for(as_user, meeting_id: int, user_ids: dict[str, int] | None = None,
                rng: Callable[[], int] | None = None, as_name: str = "secretary") -> dict[str, CommitteeMemberDevice]:
    """A fresh device for every member of the committee in force, keyed by the member's name."""
    ids = _ids(as_user, user_ids)
    names = {uid: name for name, uid in ids.items()}
    state = committee_state(as_user, meeting_id, as_name)
    return {names[m["user_id"]]: CommitteeMemberDevice(state["uid"], m["index"], state["threshold"], state["size"],
                                                       rng=rng)
            for m in state["members"]}


def publish_round1(as_user, meeting_id: int, devices: dict[str, CommitteeMemberDevice]) -> None:
    for name, device in devices.items():
        _ok(as_user(name).post(_path(meeting_id, "/round1"), json=device.round1()), 201)


def round1_of_all(as_user, meeting_id: int, name: str) -> dict[int, dict]:
    answer = _ok(as_user(name).get(_path(meeting_id, "/round1")), 200)
    return {item["index"]: item["message"] for item in answer["round1"]}


def send_shares(as_user, meeting_id: int, devices: dict[str, CommitteeMemberDevice]) -> None:
    for name, device in devices.items():
        shares = device.round2(round1_of_all(as_user, meeting_id, name))
        _ok(as_user(name).post(_path(meeting_id, "/round2"), json={"shares": shares}), 201)


def shares_to(as_user, meeting_id: int, name: str) -> dict[int, dict]:
    answer = _ok(as_user(name).get(_path(meeting_id, "/shares")), 200)
    return {item["from"]: item for item in answer["shares"]}


def confirm_all(as_user, meeting_id: int, devices: dict[str, CommitteeMemberDevice]) -> dict:
    """Every device opens its shares and confirms K_j; the last answer (the committee, ready)."""
    answer: dict = {}
    for name, device in devices.items():
        key = device.confirm(round1_of_all(as_user, meeting_id, name), shares_to(as_user, meeting_id, name))
        answer = _ok(as_user(name).post(_path(meeting_id, "/confirm"), json={"verification_key": key}), 201)
    return answer


def run_ceremony(as_user, meeting_id: int, members: list[str] | None = None, threshold: int | None = None,
                 by: str = "secretary", user_ids: dict[str, int] | None = None,
                 rng: Callable[[], int] | None = None) -> dict[str, CommitteeMemberDevice]:
    """Elect ``members`` (or, with None, use the committee in force: the default chair + secretary
    one a secret poll made, else elect that pair) and run every round; the ready devices by name."""
    if members is not None:
        elect(as_user, meeting_id, members, threshold or len(members), by, user_ids)
    elif as_user(by).get(_path(meeting_id)).status_code == 404:
        elect(as_user, meeting_id, ["chair", "secretary"], 2, by, user_ids)
    devices = devices_for(as_user, meeting_id, user_ids, rng, as_name=by)
    publish_round1(as_user, meeting_id, devices)
    send_shares(as_user, meeting_id, devices)
    state = confirm_all(as_user, meeting_id, devices)
    assert state["status"] == "ready" and state["public_key"], state
    return devices


def count(as_user, poll_id: int, devices: dict[str, CommitteeMemberDevice],
          members: Iterable[str] | None = None) -> list[dict]:
    """The named members' devices (default: the first k by index) fetch the poll's board and post
    their partial decryptions; every answer, in order (the last one carries the poll's status)."""
    if members is None:
        ordered = sorted(devices, key=lambda n: devices[n].index)
        members = ordered[:devices[ordered[0]].threshold]
    answers = []
    for name in members:
        board = _ok(as_user(name).get(f"/api/v1/polls/{poll_id}/board"), 200)
        shares = devices[name].partial_decrypt(board["board_id"], board["encrypted_tally"])
        answers.append(_ok(as_user(name).post(f"/api/v1/polls/{poll_id}/partial-decryption",
                                              json={"shares": shares})))
    return answers
