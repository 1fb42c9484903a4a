"""Recommend throughput of gunicorn's worker models side by side: part of `make bench`.

gunicorn as the image runs it (gunicorn.conf.py, 2 workers) with WORKER_CLASS=sync, the
previous model, and gevent, the current one, in alternating rounds on the same machine:
wrk (bench/wrk.lua) on POST /api/recommend at concurrency 8 and 32, and on GET /healthz
with kept-alive connections and with one connection per request; a fresh server per round.
Prints the medians of --repeat rounds and the ratio gevent / sync; `make bench` keeps
the JSON in docs/figures/.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness import live
from harness.figures import workers_results
from ops import fairness

MODELS = ("sync", "gevent")
CONCURRENCY = (8, 32)
FIGURES = ("rps", "p99_ms")


def one_round(env: dict, workdir: Path, model: str, args) -> dict:
    """A fresh server of ``model`` (ops.fairness.measure), warmed up at 8 connections."""
    recommend = {"recommend": True, "seconds": args.duration}
    healthz = {"path": "/healthz", "connections": 8, "seconds": args.duration}
    loads = {f"recommend c{c}": {**recommend, "connections": c} for c in CONCURRENCY}
    loads |= {"healthz c8": healthz, "healthz c8 Connection: close": {**healthz, "close": True}}
    env = {**env, "WORKER_CLASS": model}
    figures = fairness.measure(env, workdir / f"{model}.log", loads, warmup=args.warmup)
    return {name: {k: run[k] for k in FIGURES} for name, run in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per model (median)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk warm-up")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
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
    medians = {
        name: {
            model: {key: statistics.median(r[name][key] for r in rounds[model]) for key in FIGURES}
            for model in MODELS
        }
        for name in rounds[MODELS[0]][0]
    }
    report = {"medians": medians, "rounds": rounds, "repeat": args.repeat}
    print(workers_results(report), end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
