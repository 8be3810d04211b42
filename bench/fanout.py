"""Page-turn fan-out: N simulated tablets in one meeting, real server vs bare baseline.

    .venv/bin/python -m bench.fanout --clients 1000 --turns 100 --rate 10

For each server (the real one: gunicorn + gevent + SQLite or --database-url;
then bench/bare_server.py) in the same run: start it, connect N asyncio
python-socketio clients from --procs client processes, join the meeting, let
a presenter turn --turns pages at --rate per second, and report the latency
from the presenter's emit to each client's receipt (p50/p99, same machine
clock), the server worker's CPU and RSS. Bounded: every wait has a deadline,
and the servers are stopped at the end. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402

DEADLINE = 120  # seconds for any phase; the benchmark stops by itself


# ----------------------------------------------------------------------------- world and servers

def make_world(url: str, n: int) -> dict:
    """Migrate ``url`` and create a meeting with a chair and ``n`` delegates (bulk, no argon2)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy.orm import Session

    from meetings.accounts.models import User
    from meetings.accounts.service import issue_token
    from meetings.bodies.models import Body, Meeting, Participant
    from meetings.core.db import make_engine, utcnow
    from meetings.core.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        body = Body(name=f"Bench {time.time_ns()}")
        s.add(body)
        s.flush()
        meeting = Meeting(body_id=body.id, title="Kỳ họp thử tải", starts_at=utcnow() + timedelta(hours=1),
                          status="in_progress")
        s.add(meeting)
        s.flush()
        users = [User(username=f"b{meeting.id}-{i}", full_name=f"Đại biểu {i}", password_hash="!")
                 for i in range(n + 1)]
        s.add_all(users)
        s.flush()
        s.add_all(Participant(meeting_id=meeting.id, user_id=u.id, role="chair" if i == 0 else "delegate")
                  for i, u in enumerate(users))
        tokens = [issue_token(s, u, 4)[0] for u in users]
        s.commit()
        mid = meeting.id
    engine.dispose()
    return {"meeting_id": mid, "chair": tokens[0], "delegates": tokens[1:]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn (gunicorn.conf.py, one gevent worker) in its own process group; ``worker_pid`` for /proc figures."""

    def __init__(self, app: str, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The production settings (gunicorn.conf.py: gevent worker, kernel sendfile), with
        # the connection cap raised and the access log off for the load.
        cmd = [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null",
               "-k", "gevent", "-w", "1", "--worker-connections", "4000",
               "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "3", "--timeout", "120", app]
        # No job consumer beside the worker (gunicorn.conf.py starts one unless told not to): the
        # benchmarks measure the server, and ``worker_pid`` must be the gunicorn worker.
        env = {"JOBS_CONSUMER": "0", **env}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        import urllib.request
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start; see {log}")
            try:
                urllib.request.urlopen(self.url + "/socket.io/?EIO=4&transport=polling", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        self.worker_pid = int(children[0])

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.worker_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the worker in MB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.worker_pid}/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


# ----------------------------------------------------------------------------- client processes

def client_main(conn, url: str, mode: str, meeting_id: int, tokens: list[str]) -> None:
    """One client process: many AsyncClients; obeys "go"/"drop"/"reconnect"/"report" from the parent."""
    asyncio.run(_clients(conn, url, mode, meeting_id, tokens))


async def _clients(conn, url, mode, meeting_id, tokens):
    import socketio

    loop = asyncio.get_running_loop()
    received: list[list[tuple[int, int, float]]] = [[] for _ in tokens]  # (seq, page, t)
    last_seq = [0] * len(tokens)
    clients = []
    errors: list[str] = []

    def make(i):
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on("event")
        async def _on(env):
            received[i].append((env["seq"], env["data"].get("page", 0), time.time()))
            if env["seq"] > last_seq[i]:
                last_seq[i] = env["seq"]
        return sio

    async def join(i, sio, with_last):
        if mode == "bare":
            return await sio.call("join", {}, timeout=60)
        payload = {"meeting_id": meeting_id}
        if with_last:
            payload["last_seq"] = last_seq[i]
        return await sio.call("meeting.join", payload, timeout=60)

    sem = asyncio.Semaphore(50)

    async def connect_one(i, with_last=False):
        async with sem:
            sio = clients[i]
            auth = None if mode == "bare" else {"token": tokens[i]}
            await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=60)
            ack = await join(i, sio, with_last)
            if not ack.get("ok"):
                errors.append(f"join {i}: {ack}")
                return
            for ev in ack.get("events", []):
                received[i].append((ev["seq"], ev["data"].get("page", 0), time.time()))
            last_seq[i] = max(last_seq[i], ack.get("seq", 0))

    clients.extend(make(i) for i in range(len(tokens)))
    await asyncio.gather(*(connect_one(i) for i in range(len(tokens))))
    conn.send(("ready", len(errors), errors[:3]))
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "drop":
            await asyncio.gather(*(c.disconnect() for c in clients))
            conn.send(("dropped",))
        elif cmd == "reconnect":
            for i in range(len(clients)):
                received[i].clear()
            clients[:] = [make(i) for i in range(len(tokens))]
            t0 = time.time()
            await asyncio.gather(*(connect_one(i, with_last=True) for i in range(len(tokens))))
            conn.send(("reconnected", t0, time.time(), len(errors), errors[:3]))
        elif isinstance(cmd, tuple) and cmd[0] == "count":
            conn.send(("count", sum(1 for lst in received if any(page == cmd[1] for _, page, _ in lst))))
        elif cmd == "report":
            conn.send(("report", received, last_seq))
        elif cmd == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


class Crowd:
    """``procs`` client processes sharing ``tokens``."""

    def __init__(self, url: str, mode: str, meeting_id: int, tokens: list[str], procs: int):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(child, url, mode, meeting_id, tokens[k::procs]), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def ask(self, cmd: str | tuple | None) -> list[tuple]:
        if cmd:
            for p in self.pipes:
                p.send(cmd)
        out = []
        for p in self.pipes:
            if not p.poll(DEADLINE):
                raise TimeoutError(f"client process did not answer {cmd!r} within {DEADLINE}s")
            out.append(p.recv())
        return out

    def close(self) -> None:
        try:
            self.ask("stop")
        except (TimeoutError, OSError, EOFError):
            pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


# ----------------------------------------------------------------------------- the run

def presenter(url: str, mode: str, world: dict):
    import socketio

    sio = socketio.Client(reconnection=False)
    auth = None if mode == "bare" else {"token": world["chair"]}
    sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=30)
    sio.call("join" if mode == "bare" else "meeting.join", {"meeting_id": world["meeting_id"]}, timeout=30)
    return sio


def turn(sio, mode: str, meeting_id: int, page: int) -> None:
    if mode == "bare":
        ack = sio.call("turn", {"page": page}, timeout=30)
    else:
        ack = sio.call("presenter.set", {"meeting_id": meeting_id, "page": page}, timeout=30)
    if not ack.get("ok"):
        raise RuntimeError(f"page turn refused: {ack}")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def run_one(mode: str, n: int, turns: int, rate: float, procs: int, url_db: str | None, work: Path) -> dict:
    if mode == "bare":
        world = {"meeting_id": 1, "chair": None, "delegates": [None] * n}
        server = Server("bench.bare_server:app", {}, work / "bare.log")
    else:
        url_db = url_db or f"sqlite:///{work / 'bench.sqlite3'}"
        world = make_world(url_db, n)
        env = {"DATABASE_URL": url_db, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench",
               "LOG_LEVEL": "WARNING"}
        server = Server("wsgi:app", env, work / "live.log")
    crowd = None
    try:
        crowd = Crowd(server.url, mode, world["meeting_id"], world["delegates"], procs)
        ready = crowd.ask(None)
        join_errors = sum(r[1] for r in ready)
        pres = presenter(server.url, mode, world)
        sent: dict[int, float] = {}
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        for k in range(turns):
            page = k + 2
            target = t0 + k / rate
            time.sleep(max(0.0, target - time.monotonic()))
            sent[page] = time.time()
            turn(pres, mode, world["meeting_id"], page)
        # Let the last page arrive everywhere (bounded), then collect.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(r[1] for r in crowd.ask(("count", turns + 1))) < n:
            time.sleep(0.5)
        reports = crowd.ask("report")
        wall = time.monotonic() - t0
        cpu = server.cpu_seconds() - cpu0
        rss, peak = server.rss_mb()
        lat = [(t - sent[page]) * 1000 for r in reports for lst in r[1] for (_, page, t) in lst if page in sent]
        pres.disconnect()
        return {"mode": mode, "clients": n, "turns": turns, "rate": rate, "join_errors": join_errors,
                "deliveries": len(lat), "expected": n * turns, "p50_ms": round(pct(lat, 50), 1),
                "p99_ms": round(pct(lat, 99), 1), "max_ms": round(max(lat), 1) if lat else None,
                "server_cpu_pct": round(100 * cpu / wall, 1), "server_rss_mb": round(rss, 1),
                "server_peak_rss_mb": round(peak, 1)}
    finally:
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[1000])
    ap.add_argument("--turns", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10.0, help="page turns per second")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--database-url", help="PostgreSQL URL of an existing empty database (default: a SQLite file)")
    ap.add_argument("--only", choices=["live", "bare"])
    ap.add_argument("--quick", action="store_true", help="100 clients, 20 turns, 2 client processes (a smoke run)")
    ap.add_argument("--json", help="also write every result line, as one JSON list, to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.turns, args.procs = [100], 20, 2
    results = []
    lines: list[dict] = []
    for n in args.clients:
        for mode in ([args.only] if args.only else ["live", "bare"]):
            with tempfile.TemporaryDirectory(prefix=f"fanout-{mode}-") as tmp:
                r = run_one(mode, n, args.turns, args.rate, args.procs, args.database_url, Path(tmp))
            print(json.dumps(r), flush=True)
            results.append(r)
            lines.append(r)
        live = next((r for r in results if r["mode"] == "live" and r["clients"] == n), None)
        bare = next((r for r in results if r["mode"] == "bare" and r["clients"] == n), None)
        if live and bare:
            ratios = {"clients": n, "p99_ratio_live_to_bare": round(live["p99_ms"] / bare["p99_ms"], 2),
                      "p50_ratio_live_to_bare": round(live["p50_ms"] / bare["p50_ms"], 2)}
            print(json.dumps(ratios), flush=True)
            lines.append(ratios)
        write_json(args.json, lines)  # after every N: a timeout later still leaves the figures so far


if __name__ == "__main__":
    main()
