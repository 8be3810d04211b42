"""bench/README.md's scale-out rows and "scale-out curve" section, from bench/scaleout.py's JSON.

bench/run.py calls :func:`rows` (into its table) and :func:`curve` (a section with two PNG plots:
delegates held at the fan-out goal against server processes, and p99 against delegates per process
count with the bare baseline dashed). Nothing here measures anything.
"""
from __future__ import annotations

from pathlib import Path

from bench.plot import line_chart

GOAL = "≤ 1.15× bare p99 (≤ 100 ms where bare manages it), all delivered"


def _procs(p: int) -> str:
    return f"{p} process" + ("" if p == 1 else "es")


def _ms(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:,.0f} ms"


def rows(t, d: dict, load: float) -> None:
    """Per process count: delegates held at the goal (ratio to 1 process); per storm: exactly once across processes."""
    one = d["held"].get("1")
    for p in d["processes"]:
        steps = [s for s in d["steps"] if s["processes"] == p]
        if not steps:
            t.add(f"scale-out, {_procs(p)}: fan-out", "**no step ran**", met=False, load=load)
            continue
        held = d["held"].get(str(p), 0)
        per = "; ".join(f"{s['clients']:,}: {_ms(s['p99_ms'])}{'' if s['met'] else ' ✗'}" for s in steps)
        top = steps[-1]
        spread = "/".join(str(c) for c in top["sockets_per_process"].values())
        t.add(f"scale-out: delegates held at the fan-out goal, {_procs(p)} behind nginx "
              f"({d['meetings']} meetings, PostgreSQL, Redis queue)",
              f"{held:,} (p99 by N: {per}; sockets per process at {top['clients']:,}: {spread})",
              f"reported; per step {GOAL}", "bare p99 by N: " + "; ".join(
                  f"{s['clients']:,}: {_ms(s['bare_p99_ms'])}" for s in steps),
              round(held / one, 2) if one and p != 1 else None, None, load)
    for s in d["storm"]:
        exact = (s["ballots_stored"] == s["voters"] and s["pairs_one_ok_one_already_voted"] == s["voters"]
                 and s["tally_correct"] and s["pairs_on_two_processes"] == s["voters"]
                 and s["devices_result_correct"] == s["devices"] and not s["join_errors"])
        t.add(f"ballot storm across {_procs(s['processes'])}: {s['voters']:,} voters, each voter's 2 devices on "
              "2 different processes, both casting at once",
              f"{s['ballots_stored']:,}/{s['voters']:,} stored; {s['pairs_one_ok_one_already_voted']:,} pairs one ok + "
              f"one already_voted; tally {'exact' if s['tally_correct'] else '**wrong**'}; result on "
              f"{s['devices_result_correct']:,}/{s['devices']:,} devices; pairs split "
              f"{s['pairs_on_two_processes']:,}/{s['voters']:,}"
              + ("" if "tally_is_the_acknowledged" not in s else
                 f"; stored tally {'=' if s['tally_is_the_acknowledged'] else '≠'} the acknowledged ballots, "
                 f"{s['voters_acknowledged_twice']} voters acknowledged twice")
              + (f"; answers {s['answers']}" if not exact else ""),
              "exactly once, tally exact, result on every device", met=exact, load=load)


def curve(run: dict, out: Path) -> list[str]:
    """The "scale-out curve" section (markdown lines) and its two plots; nothing when the scenario did not run."""
    d = next((o["data"] for o in run["scenarios"] if o["name"] == "scaleout" and o["data"]), None)
    if not d or not d.get("steps"):
        return []
    ns = sorted({s["clients"] for s in d["steps"]})
    bare = {b["clients"]: b["p99_ms"] for b in d["bare"]}
    lines = ["## Scale-out curve: delegates held at the fan-out goal against server processes", "",
             f"{d['meetings']} meetings, each chair turning pages at the same moments; the goal per step: {GOAL}. "
             f"The machine has {d['cpus']} CPUs for the servers, nginx, PostgreSQL, Redis and the clients alike. "
             "p99 in ms (✗: goal missed); bare: bench/bare_server.py, one process, no nginx.", "",
             "| processes | delegates held | " + " | ".join(f"{n:,}" for n in ns) + " | CPU % at the top step |",
             "|---|---|" + "---|" * len(ns) + "---|",
             "| bare, 1 | — | " + " | ".join(_ms(bare.get(n)) for n in ns) + " | — |"]
    series: dict[str, list[tuple[float, float]]] = {"bare, 1 process": [(n, bare[n]) for n in ns if n in bare]}
    for p in d["processes"]:
        steps = {s["clients"]: s for s in d["steps"] if s["processes"] == p}
        if not steps:
            continue
        cpu = ", ".join(f"{k.split(':')[0]} {v:.0f}" for k, v in steps[max(steps)]["cpu_pct"].items())
        lines.append(f"| {p} | {d['held'].get(str(p), 0):,} | " + " | ".join(
            (_ms(steps[n]["p99_ms"]) + ("" if steps[n]["met"] else " ✗")) if n in steps else "—" for n in ns)
            + f" | {cpu} |")
        series[_procs(p)] = [(n, steps[n]["p99_ms"]) for n in sorted(steps)]
    held = line_chart({"delegates held": [(p, d["held"][str(p)]) for p in d["processes"] if str(p) in d["held"]]},
                      out / "scaleout.png", title="Delegates held at the fan-out goal against server processes",
                      x_label="gunicorn processes behind nginx", y_label="delegates")
    p99 = line_chart(series, out / "scaleout-p99.png", title="Scale-out: page-turn p99 against delegates",
                     x_label="delegates in all", y_label="p99 ms")
    lines.append("")
    lines += [f"![{alt}]({png.name})" for alt, png in (("delegates held", held), ("p99 by delegates", p99)) if png]
    return [*lines, ""]
