"""Login storm: 1,000 tablets log in (token or form) while page turns fan out, real server vs bare.

    .venv/bin/python -m bench.login_storm --logins 1000 --clients 250 --procs 4 [--json FILE]

The real server (gunicorn -k gevent -w 1 wsgi:app, SQLite in a temp dir) holds
--clients delegates on sockets in one meeting; a presenter turns pages at --rate
per second while --procs client processes log in --logins accounts (half through
``POST /api/v1/auth/token``, half through the login form with its CSRF token),
--concurrency at a time each, and a prober asks ``/healthz`` one after the other.
Every account's password hash has the server's argon2id costs (one hash, made
once, shared: verification reads the costs from it), so each login pays a real
verification. The per-address login limit is raised for the run (all clients
come from 127.0.0.1). Baseline in the same run: the same page turns on
bench/bare_server.py with the same number of sockets and no logins.

Reports the time for all logins and logins/s, page-turn p50/p99 during the storm
against the bare p99 (ratio), and /healthz p50/max during the storm. Bounded:
every wait has a deadline; servers and client processes are stopped. Not a test.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from bench.fanout import DEADLINE, Crowd, Server, make_world, pct, presenter, run_one, turn  # noqa: E402

PASSWORD = "storm-password-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_login_accounts(url: str, n: int, costs: dict) -> list[str]:
    """``n`` accounts sharing one argon2id hash of PASSWORD made with ``costs``; their usernames."""
    from argon2 import PasswordHasher
    from sqlalchemy.orm import Session

    from meetings.accounts.models import User
    from meetings.core.db import make_engine

    shared = PasswordHasher(**costs).hash(PASSWORD)
    names = [f"storm-{i}" for i in range(n)]
    engine = make_engine(url)
    with Session(engine) as s:
        s.add_all(User(username=u, full_name=f"Đại biểu {u}", password_hash=shared) for u in names)
        s.commit()
    engine.dispose()
    return names


def _login(base: str, username: str, form: bool) -> tuple[str, int, float, float]:
    import requests

    t0 = time.time()
    try:
        with requests.Session() as http:
            if form:
                page = http.get(base + "/login", timeout=DEADLINE)
                token = _CSRF.search(page.text)
                r = http.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": token.group(1) if token else ""},
                              allow_redirects=False, timeout=DEADLINE)
                ok = r.status_code == 302 and "/login" not in r.headers.get("Location", "")
            else:
                r = http.post(base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                              timeout=DEADLINE)
                ok = r.status_code == 201
        return ("form" if form else "token", 1 if ok else r.status_code, t0, time.time())
    except Exception:  # a failed login is a result to report
        return ("form" if form else "token", -1, t0, time.time())


def login_main(conn, base: str, jobs: list[tuple[str, bool]], concurrency: int) -> None:
    """One client process: wait for "go", run its logins ``concurrency`` at a time, send the results."""
    conn.send(("ready",))
    conn.recv()
    with ThreadPoolExecutor(concurrency) as pool:
        out = list(pool.map(lambda job: _login(base, *job), jobs))
    conn.send(("done", out))


def _probe(base: str, stop: threading.Event, out: list[float]) -> None:
    import requests

    with requests.Session() as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                http.get(base + "/healthz", timeout=DEADLINE)
            except Exception:
                pass
            out.append((time.perf_counter() - t0) * 1000)


def storm(n: int, logins: int, concurrency: int, rate: float, procs: int, costs: dict, work: Path) -> dict:
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    world = make_world(url, n)
    names = add_login_accounts(url, logins, costs)
    env = {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
           "LOGIN_RATE_LIMIT": "1000000 per minute", "PASSWORD_HASH_MEMORY_KIB": str(costs["memory_cost"]),
           "PASSWORD_HASH_TIME_COST": str(costs["time_cost"]), "PASSWORD_HASH_PARALLELISM": str(costs["parallelism"])}
    server = Server("wsgi:app", env, work / "live.log")
    crowd, pres, workers = None, None, []
    try:
        crowd = Crowd(server.url, "live", world["meeting_id"], world["delegates"], procs)
        join_errors = sum(r[1] for r in crowd.ask(None))
        pres = presenter(server.url, "live", world)
        ctx = mp.get_context("spawn")
        jobs = [(u, i % 2 == 1) for i, u in enumerate(names)]  # odd: the form, even: a token
        for k in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=login_main, args=(child, server.url, jobs[k::procs], concurrency), daemon=True)
            p.start()
            workers.append((p, parent))
        for _, pipe in workers:
            if not pipe.poll(DEADLINE):
                raise TimeoutError("a login process did not start")
            pipe.recv()
        stop, health = threading.Event(), []
        prober = threading.Thread(target=_probe, args=(server.url, stop, health), daemon=True)
        cpu0, t0 = server.cpu_seconds(), time.time()
        prober.start()
        for _, pipe in workers:
            pipe.send("go")
        sent: dict[int, float] = {}
        results: list = []
        pending = list(workers)
        page = 1
        while pending and time.time() - t0 < 4 * DEADLINE:
            page += 1
            target = t0 + (page - 2) / rate
            time.sleep(max(0.0, target - time.time()))
            sent[page] = time.time()
            turn(pres, "live", world["meeting_id"], page)
            for w in [w for w in pending if w[1].poll()]:
                results.extend(w[1].recv()[1])
                pending.remove(w)
        stop.set()
        prober.join(DEADLINE)
        wall = max((r[3] for r in results), default=time.time()) - t0
        cpu = server.cpu_seconds() - cpu0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(r[1] for r in crowd.ask(("count", page))) < n:
            time.sleep(0.5)
        reports = crowd.ask("report")
        lat = [(t - sent[pg]) * 1000 for r in reports for lst in r[1] for (_, pg, t) in lst if pg in sent]
        ok = sum(1 for r in results if r[1] == 1)
        return {"clients": n, "logins": logins, "logins_ok": ok, "failures": sorted({r[1] for r in results} - {1}),
                "form_logins": sum(1 for r in results if r[0] == "form"), "join_errors": join_errors,
                "total_s": round(wall, 2), "logins_per_s": round(ok / wall, 1) if wall > 0 else None,
                "turns": len(sent), "deliveries": len(lat), "expected": n * len(sent),
                "turn_p50_ms": round(pct(lat, 50), 1), "turn_p99_ms": round(pct(lat, 99), 1),
                "healthz_answers": len(health), "healthz_p50_ms": round(pct(health, 50), 1),
                "healthz_max_ms": round(max(health), 1) if health else None,
                "server_cpu_s": round(cpu, 1), "argon2": costs}
    finally:
        for p, _pipe in workers:
            p.join(1)
            if p.is_alive():
                p.kill()
        if pres is not None:
            pres.disconnect()
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logins", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=250, help="delegates on sockets receiving the page turns")
    ap.add_argument("--concurrency", type=int, default=8, help="logins in flight per client process")
    ap.add_argument("--rate", type=float, default=10.0, help="page turns per second during the storm")
    ap.add_argument("--procs", type=int, default=4, help="client processes (sockets, and logins)")
    ap.add_argument("--rfc9106", action="store_true",
                    help="hash with argon2-cffi's own default (RFC 9106: 64 MiB, t=3, p=4) instead of the server's "
                         "default (OWASP's minimum: 19 MiB, t=2, p=1)")
    ap.add_argument("--quick", action="store_true", help="100 logins, 50 delegates, 2 processes (a smoke run)")
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    if args.quick:
        args.logins, args.clients, args.procs = min(args.logins, 100), min(args.clients, 50), 2
    from meetings.accounts import hashing

    costs = ({"memory_cost": hashing.RFC9106_MEMORY_KIB, "time_cost": hashing.RFC9106_TIME_COST,
              "parallelism": hashing.RFC9106_PARALLELISM} if args.rfc9106 else
             {"memory_cost": hashing.DEFAULT_MEMORY_KIB, "time_cost": hashing.DEFAULT_TIME_COST,
              "parallelism": hashing.DEFAULT_PARALLELISM})
    with tempfile.TemporaryDirectory(prefix="bench-logins-") as tmp:
        live = storm(args.clients, args.logins, args.concurrency, args.rate, args.procs, costs, Path(tmp))
    print(json.dumps(live), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-logins-bare-") as tmp:
        bare = run_one("bare", args.clients, max(1, live["turns"]), args.rate, args.procs, None, Path(tmp))
    print(json.dumps(bare), flush=True)
    result = {"scenario": "login_storm", "live": live, "bare": bare,
              "p99_ratio": round(live["turn_p99_ms"] / bare["p99_ms"], 2) if bare.get("p99_ms") else None,
              "goal_total_s": 60, "goal_p99_ratio": 1.25}
    print(json.dumps({k: result[k] for k in ("p99_ratio",)} | {"total_s": live["total_s"]}), flush=True)
    write_json(args.json, result)


if __name__ == "__main__":
    main()
