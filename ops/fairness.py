"""Kept-alive connections served fairly: recommend's p99 and requests/s against sync workers.

With 32 clients each holding a connection open, POST /api/recommend must answer with
p99 <= 50 ms, at >= 0.8 x the requests/s of gunicorn's sync workers in the same round.

    python -m ops.fairness [--rounds 3] [--seconds 10] [--warmup 3] [--all]

A round starts gunicorn as the image runs it (gunicorn.conf.py, 2 workers; WORKER_CLASS or
GUNICORN_CMD_ARGS may change it, as for ops.slowclients), warms it up and loads it with wrk
(bench/wrk.lua) at 32 kept-alive connections; then the same with WORKER_CLASS=sync, the
reference: each of its requests waits in one queue that both workers take from. A round
passes when both bounds hold. The verdict is the BEST round: rounds run until one passes, at
most --rounds, and the check fails only if none does. Other load on a shared machine only
lengthens a tail and takes from throughput, so one passing round shows what the server can
do, while an unfair server fails every round. Each round says how many cores other processes
kept busy during each run, to tell a busy machine from a slow server. --all runs every round
and also prints the median of each figure over them (docs/performance.md).
"""

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from harness import live
from harness.live import CheckFailed

CONNECTIONS = 32
WORKERS = 2
MAX_P99_MS = 50.0
MIN_OVER_SYNC = 0.8


def measure(env: dict[str, str], log: Path, loads: dict[str, dict], *, warmup: int) -> dict:
    """A fresh gunicorn with ``env``, warmed up by the first load for ``warmup`` seconds, then
    each load in turn: live.wrk's keywords, where ``recommend=True`` posts /api/recommend
    with a token of the server's login."""
    with live.Gunicorn(env, log, workers=WORKERS) as server:
        token = live.login(server.port, env["SESSION_PASSWORD"])

        def run(load: dict, **override) -> dict:
            load = {**load, **override}
            if load.pop("recommend", False):
                load["token"] = token
            return live.wrk(server, **load)

        run(next(iter(loads.values())), seconds=warmup)
        return {name: run(load) for name, load in loads.items()}


def one_round(env: dict[str, str], workdir: Path, *, seconds: int, warmup: int) -> dict:
    """The figures of the server as configured and of sync workers, one after the other."""
    load = {"recommend": {"connections": CONNECTIONS, "seconds": seconds, "recommend": True}}
    figures = {
        name: measure(server_env, workdir / f"{name}.log", load, warmup=warmup)["recommend"]
        for name, server_env in (("server", env), ("sync", {**env, "WORKER_CLASS": "sync"}))
    }
    figures["over_sync"] = figures["server"]["rps"] / figures["sync"]["rps"]
    return figures


def problems(figures: dict) -> list[str]:
    """The bounds a round broke, worded."""
    server = figures["server"]
    found = []
    if server["p99_ms"] > MAX_P99_MS:
        found.append(f"p99 {server['p99_ms']:.1f} ms > {MAX_P99_MS:.0f} ms")
    if figures["over_sync"] < MIN_OVER_SYNC:
        found.append(f"{figures['over_sync']:.2f} x sync's requests/s < {MIN_OVER_SYNC}")
    return found


def describe(figures: dict) -> str:
    server, sync = figures["server"], figures["sync"]
    return (
        f"p50 {server['p50_ms']:.1f} ms, p99 {server['p99_ms']:.1f} ms, max "
        f"{server['max_ms']:.0f} ms, {server['rps']:,.0f} req/s; sync workers {sync['rps']:,.0f}"
        f" req/s (p99 {sync['p99_ms']:.1f} ms); ratio {figures['over_sync']:.2f}; other processes"
        f" kept {server['other_cores']:.1f} and {sync['other_cores']:.1f} of {os.cpu_count()} "
        "cores busy"
    )


def medians(rounds: list[dict]) -> dict:
    """Each figure's median over the rounds (the ratio's too, not a ratio of medians)."""
    keys = ("p50_ms", "p99_ms", "max_ms", "rps", "other_cores")
    return {
        "server": {k: statistics.median(r["server"][k] for r in rounds) for k in keys},
        "sync": {k: statistics.median(r["sync"][k] for r in rounds) for k in keys},
        "over_sync": statistics.median(r["over_sync"] for r in rounds),
    }


def check(workdir: Path, *, rounds: int, every_round: bool, **options) -> str:
    env = live.production_env(workdir, LOGIN_THROTTLE_RATE="1000/min")  # not its test
    live.prepare(env)
    changed = [
        f"{name}={env[name]}" for name in ("WORKER_CLASS", "GUNICORN_CMD_ARGS") if env.get(name)
    ]
    label = ", ".join(changed) or "as the image"
    measured, passed = [], None
    for number in range(1, rounds + 1):
        figures = one_round(env, workdir, **options)
        measured.append(figures)
        found = problems(figures)
        print(
            f"fairness round {number}/{rounds}: {describe(figures)}: "
            + ("; ".join(found) if found else "passes"),
            flush=True,
        )
        if not found and passed is None:
            passed = number
        if passed and not every_round:
            break
    head = f"recommend at {CONNECTIONS} kept-alive connections, {WORKERS} workers ({label})"
    if every_round:
        print(f"fairness: medians of {len(measured)} rounds: {describe(medians(measured))}")
    if not passed:
        raise CheckFailed(
            f"{head}: no round met p99 <= {MAX_P99_MS:.0f} ms and >= {MIN_OVER_SYNC} x sync's "
            f"requests/s in {rounds}"
        )
    return f"fairness: {head}: round {passed} passes: {describe(measured[passed - 1])}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds at most (best one)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up")
    parser.add_argument(
        "--all", action="store_true", dest="every_round", help="every round, and medians"
    )
    args = parser.parse_args()
    with live.reported("fairness"):
        if not shutil.which("wrk"):
            raise CheckFailed("wrk is not installed: `make fairness` installs it (apt-get).")
        with tempfile.TemporaryDirectory(prefix="recsite-fair-") as workdir:
            print(check(Path(workdir), **vars(args)))


if __name__ == "__main__":
    main()
