"""Secret-ballot storm: N delegates cast an encrypted ballot at once; the committee counts; the verifier.

    .venv/bin/python -m bench.secret_storm --clients 1000 --duplicates 250
    .venv/bin/python -m bench.secret_storm --postgresql          # a scratch PostgreSQL database

Starts the real server (gunicorn -k gevent -w 1, SQLite by default), a meeting
with N voting delegates (the chair runs it without a vote), and connects N
python-socketio AsyncClients from --procs client processes. The chair elects a
counting committee of three (2 of 3), whose devices (``elgamal_dkg.CommitteeMemberDevice``,
in this process) run the key ceremony over REST. Then, in the same run:

1. **baseline**: a named (roll-call) for/against/abstain poll, every delegate
   casts ``vote.cast {option_ids}`` at a random moment within --spread seconds,
   --duplicates of them twice; then the chair closes it by hand (the time from
   the close request to the published result on every tablet);
2. **secret**: the same for a secret poll. The client processes encrypt every
   ballot beforehand (``elgamal.encrypt_ballot``, timed), so the clients'
   encryption does not load the cores while the server takes the burst; then the
   same storm with ``vote.cast {ballot}``.

Reported for both: cast → acknowledgement p50/p99/max on one clock (the server's
work: proofs checked, rows written, commit), ballots stored, refused duplicates by
code, server CPU. The secret poll closes when complete (→ ``counting``); two
committee devices decrypt their parts; the time from sending the k-th (second)
partial decryption to each tablet's receipt of ``poll.published`` with the right
counts. Then the bulletin board (GET /polls/<id>/board) is checked with the
stand-alone verifier (verify_board.py with elgamal.py beside it, in a fresh
folder, a fresh interpreter), timed. With --chromium N, the encryption of N
3-option ballots in Debian's Chromium (bench/secret_browser.py).

Bounded: every wait has a deadline; the server and clients are stopped at the end. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_postgresql, write_json  # noqa: E402
from bench.fanout import DEADLINE, Server, make_world, pct  # noqa: E402

ROLES = ("for", "against", "abstain")
CALL_TIMEOUT = 90  # an unanswered ballot is reported as such, well before the parent's deadline
RESULT_WAIT = 60  # seconds the clients wait for the result after the k-th partial
VERIFIER_FILES = ("verify_board.py", "elgamal.py", "elgamal_dkg.py")


def role_of(i: int) -> str:
    """Delegate i's choice: known in advance, so every count can be checked exactly."""
    return ROLES[i % 3]


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 1), "p99": round(pct(values, 99), 1),
            "max": round(max(values), 1) if values else None}


# ----------------------------------------------------------------------------- client processes

def client_main(conn, url: str, meeting_id: int, tokens: list[tuple[int, str]]) -> None:
    asyncio.run(_clients(conn, url, meeting_id, tokens))


async def _clients(conn, url, meeting_id, tokens):
    import socketio

    from meetings.voting import elgamal

    loop = asyncio.get_running_loop()
    clients, errors = [], []
    published: dict[int, dict[int, tuple[float, dict]]] = {}  # poll id → client → (t, counts)

    def make(k):
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on("event")
        async def _on(env):
            if env["type"] == "poll.published":
                counts = {str(o["id"]): o["count"] for o in env["data"]["result"]["options"]}
                published.setdefault(env["data"]["poll_id"], {})[k] = (time.time(), counts)
        return sio

    sem = asyncio.Semaphore(50)

    async def connect_one(k):
        async with sem:
            await clients[k].connect(url, auth={"token": tokens[k][1]}, transports=["websocket"], wait_timeout=60)
            ack = await clients[k].call("meeting.join", {"meeting_id": meeting_id}, timeout=60)
            if not ack.get("ok"):
                errors.append(f"join: {ack}")

    clients.extend(make(k) for k in range(len(tokens)))
    await asyncio.gather(*(connect_one(k) for k in range(len(tokens))))
    conn.send(("ready", len(errors), errors[:3]))
    payloads: dict[int, dict] = {}
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd[0] == "encrypt":  # pre-encrypt this process's ballots (timed), before the storm
            _, poll = cmd
            positions = {o["role"]: n for n, o in enumerate(poll["options"])}
            took = []
            for i, _token in tokens:
                t = time.perf_counter()
                ballot = elgamal.encrypt_ballot(poll["public_key"], poll["board_id"], len(poll["options"]),
                                                [positions[role_of(i)]], poll["min_choices"], poll["max_choices"])
                took.append((time.perf_counter() - t) * 1000)
                payloads[i] = {"poll_id": poll["id"], "ballot": ballot}
            conn.send(("encrypted", took))
        elif cmd[0] == "cast":
            _, poll_id, option_of, t0, spread, dup_ids = cmd
            acks = await _storm(clients, tokens, poll_id, option_of, payloads, t0, spread, dup_ids)
            conn.send(("cast", acks))
        elif cmd[0] == "result":  # wait (bounded) until every client here has the poll's published result
            _, poll_id, wait = cmd
            deadline = time.time() + wait
            while len(published.get(poll_id, {})) < len(tokens) and time.time() < deadline:
                await asyncio.sleep(0.02)
            conn.send(("result", list(published.get(poll_id, {}).values())))
        elif cmd[0] == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


async def _storm(clients, tokens, poll_id, option_of, payloads, t0, spread, dup_ids):
    """Every client casts once at a random moment within ``spread`` (the duplicates twice at once)."""
    acks: list[tuple[int, float, float, dict]] = []  # (delegate index, sent, acked, ack)

    async def cast(k, delay):
        await asyncio.sleep(max(0.0, t0 + delay - time.time()))
        i = tokens[k][0]
        payload = payloads[i] if option_of is None else {"poll_id": poll_id, "option_ids": [option_of[role_of(i)]]}

        async def one():
            sent = time.time()
            try:
                ack = await clients[k].call("vote.cast", payload, timeout=CALL_TIMEOUT)
            except Exception as exc:  # a timeout is a result to report, not a crash
                ack = {"ok": False, "error": {"code": type(exc).__name__}}
            acks.append((i, sent, time.time(), ack))
        await asyncio.gather(*(one() for _ in range(2 if i in dup_ids else 1)))

    await asyncio.gather(*(cast(k, random.uniform(0, spread)) for k in range(len(tokens))))
    return acks


# ----------------------------------------------------------------------------- REST and the committee

def rest(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(url + "/api/v1" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {path}: {err.code} {err.read()[:500]!r}") from None


def chair_without_vote(db_url: str, meeting_id: int) -> list[int]:
    """The chair runs the meeting without a vote; the user ids of chair and delegates, in world order."""
    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from meetings.bodies.models import Participant
    from meetings.core.db import make_engine

    engine = make_engine(db_url)
    with Session(engine) as s:
        s.execute(update(Participant).where(Participant.meeting_id == meeting_id, Participant.role == "chair")
                  .values(can_vote=False))
        s.commit()
        rows = s.execute(select(Participant.user_id, Participant.role).where(Participant.meeting_id == meeting_id)
                         .order_by(Participant.id)).all()
    engine.dispose()
    return [uid for uid, _role in rows]


def ceremony(url: str, meeting_id: int, chair: str, members: list[tuple[int, str]], threshold: int) -> dict:
    """Elect a committee of ``members`` [(user id, token)] and run its key ceremony from Python devices."""
    from meetings.voting import elgamal_dkg

    base = f"/meetings/{meeting_id}/counting-committee"
    t0 = time.perf_counter()
    committee = rest(url, chair, "POST", base, {"member_ids": [uid for uid, _ in members], "threshold": threshold})
    devices = {}
    for _uid, token in members:
        me = rest(url, token, "GET", base)["me"]
        devices[me["index"]] = (elgamal_dkg.CommitteeMemberDevice(committee["uid"], me["index"], threshold,
                                                              len(members)), token)
    for device, token in devices.values():
        rest(url, token, "POST", base + "/round1", device.round1())
    for device, token in devices.values():
        round1 = _round1(rest(url, token, "GET", base + "/round1"))
        rest(url, token, "POST", base + "/round2", {"shares": device.round2(round1)})
    for device, token in devices.values():
        round1 = _round1(rest(url, token, "GET", base + "/round1"))
        shares = _shares(rest(url, token, "GET", base + "/shares"))
        rest(url, token, "POST", base + "/confirm", {"verification_key": device.confirm(round1, shares)})
    state = rest(url, chair, "GET", base)
    if state["status"] != "ready":
        raise RuntimeError(f"the ceremony did not finish: {state}")
    return {"devices": devices, "seconds": round(time.perf_counter() - t0, 2), "public_key": state["public_key"]}


def _round1(answer: dict) -> dict[int, dict]:
    """GET …/round1 → {member index: their round-1 message}."""
    return {int(m["index"]): m["message"] for m in answer["round1"]}


def _shares(answer: dict) -> dict[int, dict]:
    """GET …/shares → {sender index: the share it sent me}."""
    return {int(m["from"]): m for m in answer["shares"]}


def stored(db_url: str, poll_id: int, secret: bool) -> dict:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from meetings.core.db import make_engine
    from meetings.voting.models import BallotCast, EncryptedBallot, Poll, SecretBallotCast

    engine = make_engine(db_url)
    with Session(engine) as s:
        def count(model):
            return s.execute(select(func.count()).select_from(model).where(model.poll_id == poll_id)).scalar_one()
        poll = s.get(Poll, poll_id)
        out = {"voters": count(SecretBallotCast if secret else BallotCast),
               "ballots": count(EncryptedBallot) if secret else count(BallotCast), "status": poll.status,
               "result": {str(o["id"]): o["count"] for o in (poll.result or {}).get("options", [])}}
    engine.dispose()
    return out


# ----------------------------------------------------------------------------- the run

class Crowd:
    """The client processes and their pipes."""

    def __init__(self, url: str, meeting_id: int, indexed: list[tuple[int, str]], procs: int):
        ctx = mp.get_context("spawn")
        self.pipes, self.children = [], []
        for k in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(child, url, meeting_id, indexed[k::procs]), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.children.append(p)

    def ask(self, cmd=None, wait: float = DEADLINE) -> list:
        for p in self.pipes if cmd is not None else []:
            p.send(cmd)
        out = []
        for p in self.pipes:
            if not p.poll(wait):
                raise TimeoutError("a client process did not answer in time")
            out.append(p.recv())
        return out

    def close(self) -> None:
        try:
            self.ask(("stop",), wait=30)
        except (TimeoutError, OSError, EOFError):
            pass
        for p in self.children:
            p.join(5)
            if p.is_alive():
                p.kill()


def storm(crowd: Crowd, server: Server, n: int, poll: dict, option_of: dict | None, spread: float, dups: int) -> dict:
    """One burst of casts; cast → ack figures, refusals and server CPU."""
    dup_ids = set(random.sample(range(n), min(dups, n)))
    cpu0 = server.cpu_seconds()
    t0 = time.time() + 1.0
    acks = [a for r in crowd.ask(("cast", poll["id"], option_of, t0, spread, dup_ids)) for a in r[1]]
    cpu = server.cpu_seconds() - cpu0
    ok = [a for a in acks if a[3].get("ok")]
    refused: dict[str, int] = {}
    for a in acks:
        if not a[3].get("ok"):
            refused[a[3]["error"]["code"]] = refused.get(a[3]["error"]["code"], 0) + 1
    first = min(a[1] for a in acks)
    return {"acked": len(ok), "duplicates_sent": len(dup_ids), "refused": refused,
            "cast_to_ack_ms": summary([(a[2] - a[1]) * 1000 for a in ok]),
            "casting_window_s": round(max(a[1] for a in acks) - first, 2),
            "last_ack_after_first_send_s": round(max(a[2] for a in ok) - first, 2) if ok else None,
            "server_cpu_s": round(cpu, 2), "server_cpu_ms_per_ballot": round(1000 * cpu / max(1, len(acks)), 2),
            "_ok": ok}


def expected_counts(poll: dict, n: int) -> dict[str, int]:
    by_role = {o["role"]: str(o["id"]) for o in poll["options"]}
    return {by_role[r]: sum(1 for i in range(n) if role_of(i) == r) for r in ROLES}


def open_poll(url: str, chair: str, meeting_id: int, secret: bool, close_when_complete: bool = True) -> dict:
    poll = rest(url, chair, "POST", f"/meetings/{meeting_id}/polls", {
        "title": f"Biểu quyết {'kín' if secret else 'công khai'} (thử tải)", "secret": secret,
        "close_when_complete": close_when_complete, "publish_on_close": True, "quorum_numerator": 1,
        "quorum_denominator": 2})
    return rest(url, chair, "POST", f"/polls/{poll['id']}/open")


def wait_status(url: str, chair: str, poll_id: int, statuses: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        poll = rest(url, chair, "GET", f"/polls/{poll_id}")
        if poll["status"] in statuses:
            return poll
        time.sleep(0.1)
    raise TimeoutError(f"poll {poll_id} did not reach {statuses}")


def committee_count(url: str, crowd: Crowd, poll_id: int, devices: dict, n: int, expected: dict) -> dict:
    """Two committee devices decrypt; from sending the k-th partial to the result on every tablet."""
    any_token = next(iter(devices.values()))[1]
    board = rest(url, any_token, "GET", f"/polls/{poll_id}/board")
    chosen = sorted(devices)[:2]
    partials, decrypt_ms = {}, []
    for index in chosen:
        t = time.perf_counter()
        partials[index] = devices[index][0].partial_decrypt(board["board_id"], board["encrypted_tally"])
        decrypt_ms.append((time.perf_counter() - t) * 1000)
    first, kth = chosen
    rest(url, devices[first][1], "POST", f"/polls/{poll_id}/partial-decryption", {"shares": partials[first]})
    sent = time.time()
    answer = rest(url, devices[kth][1], "POST", f"/polls/{poll_id}/partial-decryption", {"shares": partials[kth]})
    answered = time.time()
    seen = [x for r in crowd.ask(("result", poll_id, RESULT_WAIT)) for x in r[1]]
    after = [(t - sent) * 1000 for t, _ in seen]
    return {"kth_partial_answer_ms": round((answered - sent) * 1000, 1), "kth_partial_status": answer.get("status"),
            "device_partial_decrypt_ms": round(max(decrypt_ms), 1),
            "result_after_kth_partial_ms": summary(after),
            "tablets_with_result": len(seen), "tablets_result_correct": sum(1 for _, c in seen if c == expected)}


def verify_standalone(url: str, token: str, poll_id: int, work: Path) -> dict:
    """The board as a file, checked by verify_board.py alone in a fresh folder and interpreter (timed)."""
    board = rest(url, token, "GET", f"/polls/{poll_id}/board")
    folder = work / "verifier"
    folder.mkdir(exist_ok=True)
    for name in VERIFIER_FILES:
        if (ROOT / "meetings/voting" / name).exists():
            shutil.copy(ROOT / "meetings/voting" / name, folder / name)
    path = folder / "bulletin-board.json"
    path.write_text(json.dumps(board), "utf-8")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}  # no PYTHONPATH: the script must stand alone
    t = time.perf_counter()
    done = subprocess.run([sys.executable, str(folder / "verify_board.py"), str(path)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t
    # The same check tampered with: one ballot's first ciphertext swapped with another's must fail.
    tampered = json.loads(path.read_text("utf-8"))
    if len(tampered["ballots"]) >= 2:
        a, b = tampered["ballots"][0]["ballot"], tampered["ballots"][1]["ballot"]
        a["ciphertexts"][0]["a"], b["ciphertexts"][0]["a"] = b["ciphertexts"][0]["a"], a["ciphertexts"][0]["a"]
    bad = folder / "tampered.json"
    bad.write_text(json.dumps(tampered), "utf-8")
    refused = subprocess.run([sys.executable, str(folder / "verify_board.py"), str(bad)], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=300)
    return {"ballots_on_board": len(board["ballots"]), "voters_on_board": board["voters"],
            "board_bytes": path.stat().st_size, "verifier_s": round(seconds, 2), "verifier_rc": done.returncode,
            "verifier_says": (done.stdout or done.stderr).strip().splitlines()[:1],
            "tampered_refused": refused.returncode != 0, "_board": board}


def run(args: argparse.Namespace, db_url: str | None, work: Path) -> dict:
    n = args.clients
    db_url = db_url or f"sqlite:///{work / 'bench.sqlite3'}"
    world = make_world(db_url, n)
    user_ids = chair_without_vote(db_url, world["meeting_id"])
    env = {"DATABASE_URL": db_url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench",
           "LOG_LEVEL": "WARNING", "ACCESS_LOG": "/dev/null",
           # No job consumer beside the server: Server.worker_pid (CPU, RSS) must be the gunicorn worker.
           "JOBS_CONSUMER": "0"}
    server = Server("wsgi:app", env, work / "server.log")
    url, chair, mid = server.url, world["chair"], world["meeting_id"]
    crowd = None
    try:
        # The committee: the chair and the first two delegates, 2 of 3 (a delegate on it also votes).
        members = [(user_ids[0], chair), (user_ids[1], world["delegates"][0]), (user_ids[2], world["delegates"][1])]
        committee = ceremony(url, mid, chair, members, threshold=2)
        crowd = Crowd(url, mid, list(enumerate(world["delegates"])), args.procs)
        ready = crowd.ask()
        out: dict = {"database": "postgresql" if db_url.startswith("postgresql") else "sqlite", "clients": n,
                     "join_errors": sum(r[1] for r in ready), "ceremony_s": committee["seconds"]}

        # 1. the baseline: a named poll, the same storm.
        # It stays open until every ballot is answered; then the chair closes it by hand, as the
        # secretary does in the hall: from the close request to the result on every tablet.
        named = open_poll(url, chair, mid, secret=False, close_when_complete=False)
        option_of = {o["role"]: o["id"] for o in named["options"]}
        base = storm(crowd, server, n, named, option_of, args.spread, args.duplicates)
        db = stored(db_url, named["id"], secret=False)
        sent = time.time()
        rest(url, chair, "POST", f"/polls/{named['id']}/close")
        answered = time.time()
        seen = [x for r in crowd.ask(("result", named["id"], 30)) for x in r[1]]
        expected_named = expected_counts(named, n)
        base.pop("_ok")
        out["named"] = {**base, "stored": db["ballots"],
                        "result_correct": stored(db_url, named["id"], secret=False)["result"] == expected_named,
                        "manual_close": {"close_answer_ms": round((answered - sent) * 1000, 1),
                                         "result_after_close_ms": summary([(t - sent) * 1000 for t, _ in seen]),
                                         "tablets_result_correct": sum(1 for _, c in seen if c == expected_named)}}

        # 2. the secret poll: pre-encrypted ballots, the storm, the count, the verifier.
        secret = open_poll(url, chair, mid, secret=True)
        took = [ms for r in crowd.ask(("encrypt", secret), wait=DEADLINE * 3) for ms in r[1]]
        st = storm(crowd, server, n, secret, None, args.spread, args.duplicates)
        ok = st.pop("_ok")
        wait_status(url, chair, secret["id"], ("counting", "closed", "published"))
        db = stored(db_url, secret["id"], secret=True)
        expected = expected_counts(secret, n)
        counted = committee_count(url, crowd, secret["id"], committee["devices"], n, expected)
        db_after = stored(db_url, secret["id"], secret=True)
        verified = verify_standalone(url, chair, secret["id"], work)
        board = verified.pop("_board")
        codes = [b["tracking_code"] for b in board["ballots"]]
        acked_codes = [a[3].get("tracking_code") for a in ok]
        out["secret"] = {
            **st, "python_encrypt_ms_per_ballot": summary(took),
            "stored_ballots": db["ballots"], "stored_voters": db["voters"],
            "acked_codes_on_board_once": sum(1 for c in acked_codes if codes.count(c) == 1),
            **counted, "result_correct": db_after["result"] == expected, "status_after_count": db_after["status"],
            **verified,
        }
        if args.chromium:
            from bench.secret_browser import chromium_encrypt_ms
            out["chromium_encrypt_ms_per_ballot"] = chromium_encrypt_ms(args.chromium, secret)
        rss, peak = server.rss_mb()
        out.update(server_rss_mb=round(rss, 1), server_peak_rss_mb=round(peak, 1))
        return out
    finally:
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--duplicates", type=int, default=250)
    ap.add_argument("--spread", type=float, default=1.0, help="seconds over which the ballots are emitted")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--chromium", type=int, default=20, metavar="N",
                    help="ballots encrypted in Chromium to time it (0: skip)")
    ap.add_argument("--database-url", help="PostgreSQL URL of an existing empty database (default: a SQLite file)")
    ap.add_argument("--postgresql", action="store_true", help="a scratch PostgreSQL database for this run")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (server log, database, board)")
    ap.add_argument("--quick", action="store_true", help="100 delegates, 20 duplicates (a smoke run)")
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.duplicates, args.procs, args.chromium = 100, 20, 2, 5
    if args.postgresql and not args.database_url:
        with scratch_postgresql("bench_secret") as url:
            _main(args, url)
    else:
        _main(args, args.database_url)


def _main(args: argparse.Namespace, db_url: str | None) -> None:
    tmp = tempfile.mkdtemp(prefix="secret-storm-")
    try:
        r = run(args, db_url, Path(tmp))
        if args.keep:
            r["work_folder"] = tmp
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(r, indent=1), flush=True)
    write_json(args.json, r)


if __name__ == "__main__":
    main()
