"""Scale-out: 1, 2, 4 gunicorn processes behind nginx, PostgreSQL, Redis as the Socket.IO queue.

    .venv/bin/python -m bench.scaleout --processes 1 2 4 --clients 250 500 1000 1500 2000 --meetings 4
    .venv/bin/python -m bench.scaleout --quick

For each process count P: a scratch PostgreSQL database, P real servers (gunicorn.conf.py, one
gevent worker each, its own port, ``SOCKETIO_MESSAGE_QUEUE`` on Redis with a channel of this run's,
the job queue on Redis with one consumer beside the first process) behind one nginx (Debian's
nginx-light, our own master, temp config, ``worker_processes auto``). nginx pins each socket with
``hash $arg_pin consistent``: every client sends ``?pin=<its id>`` on its Socket.IO URL and connects
with the websocket transport (one TCP connection, so one process for its whole life). All clients
come from 127.0.0.1, so ``ip_hash`` would have put everyone on one process.

Fan-out: N delegates spread over --meetings meetings, each meeting's chair turning pages at --rate
per second, all chairs at the same moments; latency = chair's emit to each delegate's receipt. N steps
upward (until the processes are past saturation: pages lost, clients refused, p99 ≥ 1 s); "held" is the
largest N that meets the fan-out goal (bench/run.py ``_fanout_rows``: p99 ≤ 1.15× the bare server's
p99, and ≤ 100 ms where the bare server manages it, everything delivered, no join errors).
The bare baseline (bench/bare_server.py, one process, no nginx, one hall of N at --rate: the same
deliveries per second) is measured in the same run at each N, before any farm starts. Reported per
step: p50/p99/max, the sockets each process holds (ESTABLISHED connections on its port, from
/proc/net/tcp), each worker's and nginx's CPU.

Ballot storm (P ≥ 2): one poll, --voters voters, each with two devices whose pins nginx sends to two
different processes (checked beforehand by the ``X-Upstream`` header nginx adds); both devices emit
``vote.cast`` at the same moment. Reported: ballots stored (must equal the voters), pairs answered
one ok + one ``already_voted``, the tally and the published result exact, devices holding the result.
Bounded: every wait has a deadline; servers, nginx and clients are stopped in ``finally``. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_postgresql, write_json  # noqa: E402
from bench.delivery import NGINX  # noqa: E402
from bench.fanout import DEADLINE, Server, free_port, make_world, pct  # noqa: E402
from bench.fanout import run_one as fanout_run  # noqa: E402
from bench.vote_storm import ROLES, chair_without_vote, rest, role_of, stored  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")  # a DB of its own, flushed

NGINX_CONF = """\
worker_processes auto;
worker_rlimit_nofile 16000;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 8000; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream meetings {{
        hash $arg_pin consistent;   # all clients share 127.0.0.1: ip_hash would pin them all to one process
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://meetings;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with the port: the same-origin check compares it
            proxy_read_timeout 1h;
            proxy_buffering off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


# ----------------------------------------------------------------------------- the processes

def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Farm:
    """P servers on one database and one Redis queue, behind one nginx pinning sockets by ``?pin=``."""

    def __init__(self, processes: int, db_url: str, work: Path):
        self.servers: list[Server] = []
        self.nginx = None
        base = {"DATABASE_URL": db_url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "ACCESS_LOG": "/dev/null",
                "SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": f"bench-scaleout-{uuid.uuid4().hex}",
                "JOBS_REDIS_URL": REDIS_URL, "JOBS_NAME": f"bench-scaleout-{uuid.uuid4().hex[:8]}",
                "STORAGE_PATH": str(work / "storage"),
                # PostgreSQL's max_connections (100) shared by every process and the consumer: at the
                # defaults (10 + 20 each) four processes asked for 120 and were refused (docs/configuration.md).
                "DATABASE_POOL_SIZE": str(max(2, 40 // (processes + 1))),
                "DATABASE_MAX_OVERFLOW": str(max(2, 40 // (processes + 1)))}

        def start(k: int) -> Server:
            # One job consumer for the installation (gunicorn.conf.py starts it beside the first process).
            env = {**base, "INSTANCE_PATH": str(work / f"instance-{k}"), "JOBS_CONSUMER": "1" if k == 0 else "0"}
            server = Server("wsgi:app", env, work / f"server-{k}.log")
            # Server takes the arbiter's first child; beside the consumer that may be the consumer.
            server.worker_pid = next(c for c in _children(server.proc.pid)
                                     if b"jobs" not in Path(f"/proc/{c}/cmdline").read_bytes())
            return server

        try:
            with ThreadPoolExecutor(processes) as pool:
                futures = [pool.submit(start, k) for k in range(processes)]
                for f in futures:  # keep every server that did start, so that stop() stops it
                    try:
                        self.servers.append(f.result())
                    except Exception:
                        pass
            if len(self.servers) < processes:
                raise RuntimeError(f"only {len(self.servers)} of {processes} servers started; see {work}")
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            conf = work / "nginx.conf"
            conf.write_text(NGINX_CONF.format(work=work, port=self.port, servers="\n".join(
                f"        server 127.0.0.1:{s.port};" for s in self.servers)))
            self.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                                          stdout=(work / "nginx.out").open("wb"), stderr=subprocess.STDOUT,
                                          start_new_session=True)
            deadline = time.monotonic() + 30
            while not self._answers():
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {(work / 'nginx.out').read_text()[-500:]}")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        try:
            return bool(self.upstream_of(["probe"]))
        except OSError:
            return False

    def upstream_of(self, pins: list[str]) -> dict[str, int]:
        """The process port nginx sends each pin to, from the ``X-Upstream`` header of a /healthz request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        out = {}
        try:
            for pin in pins:
                conn.request("GET", f"/healthz?pin={pin}")
                resp = conn.getresponse()
                resp.read()
                out[pin] = int(resp.getheader("X-Upstream").rsplit(":", 1)[1])
        finally:
            conn.close()
        return out

    def sockets(self) -> dict[int, int]:
        """ESTABLISHED TCP connections on each process's port (nginx → gunicorn: one per websocket)."""
        ports = {s.port: 0 for s in self.servers}
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            port = int(fields[1].split(":")[1], 16)
            if fields[3] == "01" and port in ports:
                ports[port] += 1
        return ports

    def cpu(self) -> dict[str, float]:
        out = {f"worker:{s.port}": s.cpu_seconds() for s in self.servers}
        out["nginx"] = sum(_cpu(c) for c in _children(self.nginx.pid)) if self.nginx else 0.0
        return out

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            os.killpg(self.nginx.pid, signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.nginx.pid, signal.SIGKILL)
                self.nginx.wait(5)
        for s in self.servers:
            s.stop()


# ----------------------------------------------------------------------------- client processes

def client_main(conn, url: str, groups: list[list[dict]]) -> None:
    """One client process: a socket per job ({token, meeting, pin, voter}); obeys the parent's commands."""
    asyncio.run(_clients(conn, url, [job for g in groups for job in g]))


async def _clients(conn, url: str, jobs: list[dict]) -> None:
    import socketio

    loop = asyncio.get_running_loop()
    pages: list[list[tuple[int, float]]] = [[] for _ in jobs]
    results: dict[int, dict] = {}
    errors: list[str] = []

    def make(k):
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on("event")
        async def _on(env):
            if env["type"] == "presenter.changed":
                pages[k].append((env["data"]["page"], time.time()))
            elif env["type"] == "poll.published":
                results[k] = {str(o["id"]): o["count"] for o in env["data"]["result"]["options"]}
        return sio

    clients = [make(k) for k in range(len(jobs))]
    sem = asyncio.Semaphore(50)

    async def connect(k):
        async with sem:
            try:
                await clients[k].connect(f"{url}/?pin={jobs[k]['pin']}", auth={"token": jobs[k]["token"]},
                                         transports=["websocket"], wait_timeout=60)
                ack = await clients[k].call("meeting.join", {"meeting_id": jobs[k]["meeting"]}, timeout=60)
                if not ack.get("ok"):
                    errors.append(f"join: {ack}")
            except Exception as exc:  # an overloaded server refusing a client is a result to report
                errors.append(f"connect: {type(exc).__name__}: {exc}")

    await asyncio.gather(*(connect(k) for k in range(len(jobs))))
    conn.send(("ready", len(errors), errors[:3]))
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd[0] == "count":  # sockets holding page cmd[1]
            conn.send(("count", sum(1 for lst in pages if any(p == cmd[1] for p, _ in lst))))
        elif cmd[0] == "pages":
            conn.send(("pages", [(jobs[k]["meeting"], lst) for k, lst in enumerate(pages)]))
        elif cmd[0] == "cast":
            conn.send(("cast", await _cast(clients, jobs, *cmd[1:])))
        elif cmd[0] == "results":
            deadline = time.time() + 30
            while len(results) < len(jobs) and time.time() < deadline:
                await asyncio.sleep(0.05)
            conn.send(("results", list(results.values())))
        elif cmd[0] == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


async def _cast(clients: list, jobs: list[dict], poll_id: int, option_of: dict, t0: float,
                spread: float) -> list[tuple[int, str]]:
    """Each voter's devices emit ``vote.cast`` together at the voter's random moment; (voter, ok or error code)."""
    by_voter: dict[int, list[int]] = {}
    for k, job in enumerate(jobs):
        by_voter.setdefault(job["voter"], []).append(k)
    acks: list[tuple[int, str]] = []

    async def one(k, payload):
        try:
            ack = await clients[k].call("vote.cast", payload, timeout=60)
        except Exception as exc:  # a timeout is a result to report
            ack = {"ok": False, "error": {"code": type(exc).__name__}}
        acks.append((jobs[k]["voter"], "ok" if ack.get("ok") else ack["error"]["code"]))

    async def voter(i, ks):
        await asyncio.sleep(max(0.0, t0 + random.uniform(0, spread) - time.time()))
        payload = {"poll_id": poll_id, "option_ids": [option_of[role_of(i)]]}
        await asyncio.gather(*(one(k, payload) for k in ks))
    await asyncio.gather(*(voter(i, ks) for i, ks in by_voter.items()))
    return acks


class Crowd:
    """Client processes sharing groups of jobs (a voter's two devices stay in one process: one clock, one moment)."""

    def __init__(self, url: str, groups: list[list[dict]], procs: int):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(min(procs, len(groups))):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(child, url, groups[k::procs]), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def ask(self, cmd: tuple | None) -> list[tuple]:
        for p in self.pipes if cmd else []:
            p.send(cmd)
        out = []
        for p in self.pipes:
            if not p.poll(DEADLINE):
                raise TimeoutError(f"a client process did not answer {cmd!r} within {DEADLINE}s")
            out.append(p.recv())
        return out

    def close(self) -> None:
        try:
            self.ask(("stop",))
        except (TimeoutError, OSError, EOFError):
            pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


# ----------------------------------------------------------------------------- fan-out over several meetings

def chairs(url: str, worlds: list[dict]) -> list:
    """One presenter socket per meeting (its chair), pinned like any other client."""
    import socketio

    out = []
    for m, w in enumerate(worlds):
        sio = socketio.Client(reconnection=False)
        out.append(sio)
        sio.connect(f"{url}/?pin=chair-{w['meeting_id']}-{m}", auth={"token": w["chair"]}, transports=["websocket"],
                    wait_timeout=30)
        if not sio.call("meeting.join", {"meeting_id": w["meeting_id"]}, timeout=30).get("ok"):
            raise RuntimeError("a chair could not join its meeting")
    return out


def fanout_step(farm: Farm, db_url: str, n: int, meetings: int, turns: int, rate: float, procs: int) -> dict:
    """N delegates over ``meetings`` meetings through nginx; every chair turns a page at the same moments."""
    meetings = max(1, min(meetings, n))
    worlds = [make_world(db_url, n // meetings + (1 if m < n % meetings else 0)) for m in range(meetings)]
    groups = [[{"token": tok, "meeting": w["meeting_id"], "pin": f"d{w['meeting_id']}-{i}", "voter": None}]
              for w in worlds for i, tok in enumerate(w["delegates"])]
    crowd, presenters = None, []
    try:
        crowd = Crowd(farm.url, groups, procs)
        join_errors = sum(r[1] for r in crowd.ask(None))
        spread = farm.sockets()
        presenters = chairs(farm.url, worlds)
        acks: list[bool] = []
        sent: dict[tuple[int, int], float] = {}
        cpu0, t0 = farm.cpu(), time.monotonic()
        for k in range(turns):
            page = k + 2
            time.sleep(max(0.0, t0 + k / rate - time.monotonic()))
            for sio, w in zip(presenters, worlds, strict=True):  # emit, not call: the chairs turn together
                sent[(w["meeting_id"], page)] = time.time()
                sio.emit("presenter.set", {"meeting_id": w["meeting_id"], "page": page},
                         callback=lambda ack: acks.append(bool(ack.get("ok"))))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(r[1] for r in crowd.ask(("count", turns + 1))) < n:
            time.sleep(0.5)
        wall = time.monotonic() - t0
        cpu1 = farm.cpu()
        lat = [(t - sent[(mid, page)]) * 1000 for r in crowd.ask(("pages",)) for mid, lst in r[1]
               for page, t in lst if (mid, page) in sent]
        return {"processes": len(farm.servers), "clients": n, "meetings": meetings, "turns": turns, "rate": rate,
                "join_errors": join_errors, "turns_refused": sum(1 for a in acks if not a),
                "turns_unanswered": len(sent) - len(acks), "deliveries": len(lat), "expected": n * turns,
                "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
                "max_ms": round(max(lat), 1) if lat else None,
                "sockets_per_process": {str(p): c for p, c in spread.items()},
                "cpu_pct": {k: round(100 * (cpu1[k] - cpu0[k]) / wall, 1) for k in cpu1},
                "worker_peak_rss_mb": [round(s.rss_mb()[1], 1) for s in farm.servers]}
    finally:
        for sio in presenters:
            sio.disconnect()
        if crowd is not None:
            crowd.close()


def meets_goal(live: dict, bare: dict) -> bool:
    """the page-turn fan-out goal (DESIGN.md): ≤ 1.15× bare p99 (and ≤ 100 ms where bare manages it), all delivered."""
    cap = bare["p99_ms"] <= 100
    return (live["p99_ms"] <= 1.15 * bare["p99_ms"] and (not cap or live["p99_ms"] <= 100)
            and live["deliveries"] == live["expected"] and not live["join_errors"] and not live["turns_refused"])


def overloaded(step: dict) -> bool:
    """Past what the processes can carry: pages lost, clients refused, or a p99 of a second or more."""
    return step["deliveries"] < step["expected"] or bool(step["join_errors"]) or step["p99_ms"] >= 1000


# ----------------------------------------------------------------------------- the ballot storm

def device_pins(farm: Farm, voters: int) -> tuple[list[tuple[str, str]], int]:
    """Per voter two pins that nginx sends to two different processes (asked of nginx itself); and the misses."""
    first = farm.upstream_of([f"v{i}a" for i in range(voters)])
    pins, unplaced = [], 0
    for i in range(voters):
        a = f"v{i}a"
        tries = farm.upstream_of([f"v{i}b{j}" for j in range(12)])
        b = next((p for p, port in tries.items() if port != first[a]), None)
        unplaced += b is None
        pins.append((a, b or f"v{i}b0"))
    return pins, unplaced


def storm(farm: Farm, db_url: str, voters: int, spread_s: float, procs: int) -> dict:
    """Each voter's two devices on two processes cast at the same moment: exactly once, tally exact."""
    world = make_world(db_url, voters)
    chair_without_vote(db_url, world["meeting_id"])
    pins, unplaced = device_pins(farm, voters)
    groups = [[{"token": tok, "meeting": world["meeting_id"], "pin": pin, "voter": i} for pin in pins[i]]
              for i, tok in enumerate(world["delegates"])]
    crowd = None
    try:
        crowd = Crowd(farm.url, groups, procs)
        join_errors = sum(r[1] for r in crowd.ask(None))
        placed = farm.sockets()
        poll = rest(farm.url, world["chair"], "POST", f"/meetings/{world['meeting_id']}/polls", {
            "title": "Biểu quyết thông qua Nghị quyết (thử tải, hai thiết bị)", "secret": False,
            "close_when_complete": False, "publish_on_close": False, "quorum_numerator": 1, "quorum_denominator": 2})
        poll = rest(farm.url, world["chair"], "POST", f"/polls/{poll['id']}/open")
        option_of = {o["role"]: o["id"] for o in poll["options"]}
        t0 = time.time() + 1.0
        acks = [a for r in crowd.ask(("cast", poll["id"], option_of, t0, spread_s)) for a in r[1]]
        window = time.time() - t0
        rest(farm.url, world["chair"], "POST", f"/polls/{poll['id']}/close")
        rest(farm.url, world["chair"], "POST", f"/polls/{poll['id']}/publish")
        seen = [c for r in crowd.ask(("results",)) for c in r[1]]
        per_voter: dict[int, list[str]] = {}
        for i, code in acks:
            per_voter.setdefault(i, []).append(code)
        codes: dict[str, int] = {}
        for _, code in acks:
            codes[code] = codes.get(code, 0) + 1
        expected = {str(option_of[r]): sum(1 for i in range(voters) if role_of(i) == r) for r in ROLES}
        # What exactly-once means when some casts failed: the stored tally is the acknowledged ballots.
        acked = [i for i, c in per_voter.items() if "ok" in c]
        expected_acked = {str(option_of[r]): sum(1 for i in acked if role_of(i) == r) for r in ROLES}
        db = stored(db_url, poll["id"])
        return {"processes": len(farm.servers), "voters": voters, "devices": 2 * voters, "join_errors": join_errors,
                "pairs_on_two_processes": voters - unplaced,
                "sockets_per_process": {str(p): c for p, c in placed.items()},
                "ballots_stored": db["ballots"], "answers": codes,
                "pairs_one_ok_one_already_voted": sum(1 for c in per_voter.values()
                                                      if sorted(c) == ["already_voted", "ok"]),
                "tally_correct": db["tally"] == expected and db["result"] == expected,
                "tally_is_the_acknowledged": db["tally"] == expected_acked and db["ballots"] == len(acked),
                "voters_acknowledged_twice": sum(1 for c in per_voter.values() if c.count("ok") > 1),
                "devices_with_result": len(seen), "devices_result_correct": sum(1 for c in seen if c == expected),
                "casting_window_s": round(window, 2)}
    finally:
        if crowd is not None:
            crowd.close()


# ----------------------------------------------------------------------------- the run

def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL, socket_timeout=5).flushdb()


def run(args: argparse.Namespace) -> dict:
    out: dict = {"processes": args.processes, "meetings": args.meetings, "cpus": os.cpu_count(), "bare": [],
                 "steps": [], "held": {}, "storm": []}
    bare: dict[int, dict] = {}
    with scratch_postgresql("bench_scaleout") as db_url:
        from meetings.core.migrate import upgrade

        upgrade(db_url)  # once, before any server starts (make_world's own upgrade then finds nothing to do)
        for n in args.clients:  # the baselines first, while no other server runs
            with tempfile.TemporaryDirectory(prefix="scaleout-bare-") as btmp:
                bare[n] = fanout_run("bare", n, args.turns, args.rate, args.procs, None, Path(btmp))
            out["bare"].append(bare[n])
            print(json.dumps(bare[n]), flush=True)
        for p in args.processes:
            _one_count(args, p, db_url, bare, out)
    return out


def _one_count(args: argparse.Namespace, p: int, db_url: str, bare: dict[int, dict], out: dict) -> None:
    """P processes: the fan-out steps against the bare baseline at each N, then (P ≥ 2) the ballot storm."""
    held = 0
    with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
        flush_redis()
        farm = Farm(p, db_url, Path(tmp))
        try:
            for n in args.clients:
                step = fanout_step(farm, db_url, n, args.meetings, args.turns, args.rate, args.procs)
                step["bare_p99_ms"], step["bare_p50_ms"] = bare[n]["p99_ms"], bare[n]["p50_ms"]
                step["met"] = meets_goal(step, bare[n])
                out["steps"].append(step)
                print(json.dumps(step), flush=True)
                write_json(args.json, out)  # a later timeout still leaves the figures so far
                if step["met"]:
                    held = n
                elif overloaded(step):
                    break  # past saturation the next, larger steps would only take time
            out["held"][str(p)] = held
            if p >= 2 and args.voters:
                r = storm(farm, db_url, args.voters, args.spread, args.procs)
                out["storm"].append(r)
                print(json.dumps(r), flush=True)
            write_json(args.json, out)
        finally:
            farm.stop()
            flush_redis()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4], help="server process counts")
    ap.add_argument("--clients", type=int, nargs="+", default=[250, 500, 1000, 1500, 2000],
                    help="delegates in all, stepped upward (stopped past saturation)")
    ap.add_argument("--meetings", type=int, default=4, help="meetings the delegates are spread over")
    ap.add_argument("--turns", type=int, default=50, help="page turns per meeting")
    ap.add_argument("--rate", type=float, default=10.0, help="page turns per second in each meeting")
    ap.add_argument("--voters", type=int, default=500, help="ballot-storm voters, two devices each (0: no storm)")
    ap.add_argument("--spread", type=float, default=1.0, help="seconds over which the voters cast")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--quick", action="store_true", help="P = 1 2, 40 and 80 delegates, 40 voters (a smoke run)")
    ap.add_argument("--json", help="also write the results, as one JSON object, to this file")
    args = ap.parse_args()
    if args.quick:
        args.processes, args.clients, args.meetings = [1, 2], [40, 80], 2
        args.turns, args.voters, args.procs = 10, 40, 1
    out = run(args)
    print(json.dumps({"held": out["held"]}), flush=True)
    write_json(args.json, out)


if __name__ == "__main__":
    main()
