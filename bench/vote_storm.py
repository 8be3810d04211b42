"""Vote storm: N delegates cast within about a second, plus duplicates; exactly once, result to all.

    .venv/bin/python -m bench.vote_storm --clients 1000 --duplicates 250
    .venv/bin/python -m bench.vote_storm --postgresql          # a scratch PostgreSQL database

Starts the real server (gunicorn -k gevent -w 1, SQLite by default or
--database-url), creates a meeting with N voting delegates (the chair runs it
without a vote), connects N python-socketio AsyncClients from --procs client
processes and joins them to the meeting. Two storms in one run, each a
roll-call poll opened by the chair over REST (a secret poll takes encrypted
ballots: bench/secret_storm.py) that publishes on close; each delegate emits
``vote.cast`` at a random moment within --spread seconds, --duplicates of them
a second, concurrent ``vote.cast`` for the same poll:

1. the poll closes itself when every entitled member has voted;
2. the poll stays open; once every ballot is answered the chair closes it by
   hand (POST /polls/<id>/close), as the secretary does in the hall.

Reported: cast → acknowledgement p50/p99/max over every cast (the ack comes
after the commit of the group commit that decided it), stored ballots (must be
exactly N), refused duplicates by code, whether the stored tally and the
published result equal the choices sent, how many clients hold the final
result, and the time to each client's receipt of the published result: from
the last ballot (its acknowledgement, i.e. commit; and its emit) for 1, from
the close request for 2 (p50/p99/max, one machine clock). Bounded: every wait
has a deadline; the server and clients are stopped at the end. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_postgresql, write_json  # noqa: E402
from bench.fanout import DEADLINE, Server, make_world, pct  # noqa: E402

ROLES = ("for", "against", "abstain")
CALL_TIMEOUT = 60  # an unanswered ballot is reported as such, well before the parent's deadline


def role_of(i: int) -> str:
    """Delegate i's choice: known in advance, so the tally can be checked exactly."""
    return ROLES[i % 3]


# ----------------------------------------------------------------------------- client processes

def client_main(conn, url: str, meeting_id: int, tokens: list[tuple[int, str]]) -> None:
    asyncio.run(_clients(conn, url, meeting_id, tokens))


async def _clients(conn, url, meeting_id, tokens):
    import socketio

    loop = asyncio.get_running_loop()
    clients, errors = [], []
    published: dict[int, dict[int, tuple[float, dict]]] = {}  # poll id -> client -> (received, counts)

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
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd[0] == "cast":
            _, poll_id, option_of, t0, spread, dup_ids = cmd
            conn.send(("cast", await _storm(clients, tokens, poll_id, option_of, t0, spread, dup_ids)))
        elif cmd[0] == "result":  # wait (bounded) until every client here holds the poll's published result
            _, poll_id, wait = cmd
            deadline = time.time() + wait
            while len(published.get(poll_id, {})) < len(tokens) and time.time() < deadline:
                await asyncio.sleep(0.02)
            conn.send(("result", list(published.get(poll_id, {}).values())))
        else:
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


async def _storm(clients, tokens, poll_id, option_of, t0, spread, dup_ids):
    """Every client casts once at a random moment within ``spread`` (the duplicates twice at once)."""
    acks: list[tuple[int, float, float, dict]] = []  # (global index, sent, acked, ack)

    async def cast(k, delay):
        await asyncio.sleep(max(0.0, t0 + delay - time.time()))
        i = tokens[k][0]
        payload = {"poll_id": poll_id, "option_ids": [option_of[role_of(i)]]}

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


# ----------------------------------------------------------------------------- the run

def rest(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(url + "/api/v1" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def chair_without_vote(db_url: str, meeting_id: int) -> None:
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from meetings.bodies.models import Participant
    from meetings.core.db import make_engine

    engine = make_engine(db_url)
    with Session(engine) as s:
        s.execute(update(Participant).where(Participant.meeting_id == meeting_id, Participant.role == "chair")
                  .values(can_vote=False))
        s.commit()
    engine.dispose()


def stored(db_url: str, poll_id: int) -> dict:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from meetings.core.db import make_engine
    from meetings.voting.models import BallotCast, Poll, PollTally

    engine = make_engine(db_url)
    with Session(engine) as s:
        poll = s.get(Poll, poll_id)
        out = {"ballots": s.execute(select(func.count()).select_from(BallotCast)
                                    .where(BallotCast.poll_id == poll_id)).scalar_one(),
               "tally": dict(s.get(PollTally, poll_id).counts), "status": poll.status, "outcome": poll.outcome,
               "result": {str(o["id"]): o["count"] for o in (poll.result or {}).get("options", [])}}
    engine.dispose()
    return out


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 1), "p99": round(pct(values, 99), 1),
            "max": round(max(values), 1) if values else None}


def open_poll(url: str, chair: str, meeting_id: int, close_when_complete: bool) -> dict:
    poll = rest(url, chair, "POST", f"/meetings/{meeting_id}/polls", {
        "title": "Biểu quyết thông qua Nghị quyết (thử tải)", "secret": False,
        "close_when_complete": close_when_complete, "publish_on_close": True,
        "quorum_numerator": 1, "quorum_denominator": 2})
    return rest(url, chair, "POST", f"/polls/{poll['id']}/open")


def tally_of(acks: list) -> tuple[list, dict[str, int]]:
    """The acknowledged casts, and the refusals by code."""
    ok = [a for a in acks if a[3].get("ok")]
    refused: dict[str, int] = {}
    for a in acks:
        if not a[3].get("ok"):
            refused[a[3]["error"]["code"]] = refused.get(a[3]["error"]["code"], 0) + 1
    return ok, refused


def run(n: int, dups: int, spread: float, procs: int, db_url: str | None, work: Path) -> dict:
    db_url = db_url or f"sqlite:///{work / 'bench.sqlite3'}"
    world = make_world(db_url, n)
    chair_without_vote(db_url, world["meeting_id"])
    env = {"DATABASE_URL": db_url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench",
           "LOG_LEVEL": "WARNING", "ACCESS_LOG": "/dev/null"}
    server = Server("wsgi:app", env, work / "server.log")
    url, chair, mid = server.url, world["chair"], world["meeting_id"]
    ctx = mp.get_context("spawn")
    indexed = list(enumerate(world["delegates"]))
    pipes, children = [], []
    try:
        for k in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(child, url, mid, indexed[k::procs]), daemon=True)
            p.start()
            pipes.append(parent)
            children.append(p)

        def ask(cmd=None):
            for p in pipes if cmd is not None else []:
                p.send(cmd)
            out = []
            for p in pipes:
                if not p.poll(DEADLINE):
                    raise TimeoutError("a client process did not answer in time")
                out.append(p.recv())
            return out

        def storm(poll: dict) -> tuple[list, dict]:
            option_of = {o["role"]: o["id"] for o in poll["options"]}
            dup_ids = set(random.sample(range(n), min(dups, n)))
            t0 = time.time() + 1.0
            return [a for r in ask(("cast", poll["id"], option_of, t0, spread, dup_ids)) for a in r[1]], option_of

        join_errors = sum(r[1] for r in ask())

        # 1. The poll closes itself on the last ballot (close_when_complete) and publishes.
        poll = open_poll(url, chair, mid, close_when_complete=True)
        cpu0 = server.cpu_seconds()
        acks, option_of = storm(poll)
        seen = [x for r in ask(("result", poll["id"], 30)) for x in r[1]]
        cpu = server.cpu_seconds() - cpu0
        result_at = [t for t, _ in seen]
        ok, refused = tally_of(acks)
        expected = {str(option_of[r]): sum(1 for i in range(n) if role_of(i) == r) for r in ROLES}
        db = stored(db_url, poll["id"])
        last_ack = max(a[2] for a in ok) if ok else float("nan")
        last_sent = max(a[1] for a in ok) if ok else float("nan")
        # The last ballot's commit is what broadcasts the result (close_when_complete); the first
        # sign of that commit on a client is its ack or the first result to arrive, whichever is earlier.
        stored_at = min([last_ack, *result_at])
        from_ack = [(t - stored_at) * 1000 for t in result_at]
        from_sent = [(t - last_sent) * 1000 for t in result_at]
        out = {
            "database": "postgresql" if db_url.startswith("postgresql") else "sqlite", "secret": False,
            "clients": n, "join_errors": join_errors, "duplicates_sent": min(dups, n),
            "ballots_acked": len(ok), "ballots_stored": db["ballots"], "refused": refused,
            "tally_correct": db["tally"] == expected and db["result"] == expected,
            "clients_result_correct": sum(1 for _, c in seen if c == expected),
            "clients_with_result": len(result_at), "poll_status": db["status"], "outcome": db["outcome"],
            # Every cast, the refused duplicates too: each is answered only after the commit that decided it.
            "cast_to_ack_ms": summary([(a[2] - a[1]) * 1000 for a in acks]),
            "casting_window_s": round(max(a[1] for a in acks) - min(a[1] for a in acks), 2),
            "last_ack_after_first_send_s": round(last_ack - min(a[1] for a in acks), 2),
            "result_after_last_ballot_stored_ms": summary(from_ack),
            "result_after_last_emit_ms": {"p50": round(pct(from_sent, 50), 1), "p99": round(pct(from_sent, 99), 1)},
            "server_cpu_s": round(cpu, 2),
        }

        # 2. The same storm into a poll that stays open; the chair closes it by hand (REST).
        poll = open_poll(url, chair, mid, close_when_complete=False)
        acks, option_of = storm(poll)
        ok, refused = tally_of(acks)
        expected = {str(option_of[r]): sum(1 for i in range(n) if role_of(i) == r) for r in ROLES}
        before = stored(db_url, poll["id"])
        sent = time.time()
        closed = rest(url, chair, "POST", f"/polls/{poll['id']}/close")
        answered = time.time()
        seen = [x for r in ask(("result", poll["id"], 30)) for x in r[1]]
        after = stored(db_url, poll["id"])
        out["manual_close"] = {
            "ballots_acked": len(ok), "ballots_stored": before["ballots"], "refused": refused,
            "cast_to_ack_ms": summary([(a[2] - a[1]) * 1000 for a in acks]),
            "close_answer_ms": round((answered - sent) * 1000, 1), "status_after_close": closed.get("status"),
            "result_after_close_ms": summary([(t - sent) * 1000 for t, _ in seen]),
            "clients_with_result": len(seen), "clients_result_correct": sum(1 for _, c in seen if c == expected),
            "tally_correct": after["tally"] == expected and after["result"] == expected,
        }
        ask(("stop",))
        rss, peak = server.rss_mb()
        out.update(server_rss_mb=round(rss, 1), server_peak_rss_mb=round(peak, 1))
        return out
    finally:
        for p in children:
            p.join(5)
            if p.is_alive():
                p.kill()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--duplicates", type=int, default=250)
    ap.add_argument("--spread", type=float, default=1.0, help="seconds over which the ballots are emitted")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    # Kept so older command lines still run: the storm is always a named poll now (secret ballots are
    # encrypted on the devices and counted by the committee: bench/secret_storm.py).
    ap.add_argument("--named", action="store_true", help="(the default; kept for older command lines)")
    ap.add_argument("--database-url", help="PostgreSQL URL of an existing empty database (default: a SQLite file)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (server log, SQLite file)")
    ap.add_argument("--postgresql", action="store_true",
                    help="run on a scratch PostgreSQL database created for this run and dropped afterwards")
    ap.add_argument("--quick", action="store_true", help="100 delegates, 20 duplicates (a smoke run)")
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.duplicates, args.procs = 100, 20, 2
    if args.postgresql and not args.database_url:
        with scratch_postgresql("bench_vote") as url:
            args.database_url = url
            _main(args)
    else:
        _main(args)


def _main(args: argparse.Namespace) -> None:
    tmp = tempfile.mkdtemp(prefix="vote-storm-")
    try:
        r = run(args.clients, args.duplicates, args.spread, args.procs, args.database_url, Path(tmp))
        if args.keep:
            r["work_folder"] = tmp
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(r, indent=1), flush=True)
    write_json(args.json, r)


if __name__ == "__main__":
    main()
