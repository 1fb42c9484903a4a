"""Recommend throughput of gunicorn's worker models side by side: `make bench-workers`.

gunicorn as the image runs it (gunicorn.conf.py, 2 workers) with WORKER_CLASS=sync, the
previous model, and gevent, the current one, in alternating rounds on the same machine:
wrk (bench/wrk.lua) on POST /api/recommend at concurrency 8 and 32, and on GET /healthz
with kept-alive connections and with one connection per request; a fresh server per round.
Prints the medians of --repeat rounds and the ratio gevent / sync.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness import live
from ops import fairness

MODELS = ("sync", "gevent")
CONCURRENCY = (8, 32)


def one_round(env: dict, workdir: Path, model: str, args) -> dict:
    """A fresh server of ``model`` (ops.fairness.measure), warmed up at 8 connections."""
    recommend = {"recommend": True, "seconds": args.duration}
    healthz = {"path": "/healthz", "connections": 8, "seconds": args.duration}
    loads = {f"recommend c{c}": {**recommend, "connections": c} for c in CONCURRENCY}
    loads |= {"healthz c8": healthz, "healthz c8 Connection: close": {**healthz, "close": True}}
    env = {**env, "WORKER_CLASS": model}
    figures = fairness.measure(env, workdir / f"{model}.log", loads, warmup=args.warmup)
    return {name: {k: run[k] for k in ("rps", "p99_ms")} for name, run in figures.items()}


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
