"""Recommend throughput of gunicorn's worker models side by side: `make bench-workers`.

gunicorn as the image runs it (gunicorn.conf.py, 2 workers) with WORKER_CLASS=sync, the
previous model, and gevent, the current one, in alternating rounds on the same machine:
wrk (bench/wrk.lua) on POST /api/recommend at concurrency 8 and 32, and on GET /healthz
with kept-alive connections and with one connection per request; a fresh server per round.
Prints the medians of --repeat rounds and the ratio gevent / sync.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ops import live

MODELS = ("sync", "gevent")
CONCURRENCY = (8, 32)


def wrk(port: int, token: str | None, *, connections: int, seconds: int, close=False) -> dict:
    """POST /api/recommend with a token (bench/wrk.lua), else GET /healthz; ``close``
    makes every request open its own connection, as the sync worker does anyway."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-H", "Connection: close"] * close
    command += ["-s", str(live.ROOT / "bench" / "wrk.lua")]
    command += [f"http://{live.HOST}:{port}/" + ("" if token else "healthz")]
    env = {key: value for key, value in os.environ.items() if key != "BENCH_TOKEN"}
    out = subprocess.run(
        command, env={**env, **({"BENCH_TOKEN": token} if token else {})},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    if result["non_2xx"]:
        raise live.CheckFailed(f"wrk saw errors: {result}")
    return {"rps": result["requests"] / result["seconds"], "p99_ms": result["p99_ms"]}


def one_round(env: dict, workdir: Path, model: str, args) -> dict:
    env = {**env, "WORKER_CLASS": model}
    with live.Gunicorn(env, workdir / f"{model}.log", workers=2) as server:
        token = live.login(server.port, env["SESSION_PASSWORD"])
        wrk(server.port, token, connections=8, seconds=args.warmup)
        figures = {
            f"recommend c{c}": wrk(server.port, token, connections=c, seconds=args.duration)
            for c in CONCURRENCY
        }
        for close in (False, True):
            name = "healthz c8" + (" Connection: close" if close else "")
            figures[name] = wrk(
                server.port, None, connections=8, seconds=args.duration, close=close
            )
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per model (median)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk warm-up")
    args = parser.parse_args()
    rounds = {model: [] for model in MODELS}
    with tempfile.TemporaryDirectory(prefix="recsite-workers-") as tmp:
        # A high login rate: every round logs in once, and this is not the throttle's test.
        env = live.production_env(Path(tmp), LOGIN_THROTTLE_RATE="1000/min")
        live.prepare(env)
        for r in range(args.repeat):
            for model in MODELS:
                print(f"round {r + 1}/{args.repeat}: {model}", file=sys.stderr, flush=True)
                rounds[model].append(one_round(env, Path(tmp), model, args))
    for name in rounds[MODELS[0]][0]:
        medians = {
            model: {
                k: statistics.median(r[name][k] for r in rounds[model]) for k in ("rps", "p99_ms")
            }
            for model in MODELS
        }
        cells = [f"{m} {v['rps']:.0f} req/s, p99 {v['p99_ms']:.1f} ms" for m, v in medians.items()]
        ratio = medians["gevent"]["rps"] / medians["sync"]["rps"]
        print(f"{name}: " + "; ".join(cells) + f"; gevent/sync {ratio:.2f}")
    print(f"rounds: {json.dumps(rounds)}")


if __name__ == "__main__":
    main()
