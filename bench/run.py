"""Benchmark of the recommend path: `make bench`, or `python -m bench.run --help`.

Not part of the test suite. It builds its own database and model files in a temporary
folder from ml-100k ($ML100K_DIR, else ../shared/data/ml-100k), then measures:

1. in-process (bench/inprocess.py): the recommend view (token check, parsing, validation,
   ranking, rendering; no network) over random valid requests, for the default model and
   seed-rf; for the default model also recommend with 10 answers, and the interview view;
   the catalogue search (bench/search.py) on ml-100k and on 100,000 movies;
2. HTTP: the project under gunicorn (gunicorn.conf.py, 2 workers, DEBUG off) on 127.0.0.1,
   loaded by wrk at concurrency 8 and 32: POST /api/recommend, GET /, and seed-rf (on a
   freshly started server for each run);
3. the artifact: training time, file size, load time, memory of one worker;
4. scale: the default estimator on a synthetic catalogue of 100,000 movies and 1,000,000
   ratings: training time and in-process recommend latency;

Every measurement is repeated (--repeat) and the median reported: the machine is shared.
Prints the tables (harness/figures.py); --json FILE writes every figure and the targets.
"""

import argparse
import functools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.inprocess import (
    BenchFailed,
    measure_answers,
    measure_home,
    measure_in_process,
    median_of_rounds,
)
from bench.search import measure_search
from bench.synthetic import synthetic_catalogue, synthetic_ratings
from harness import live
from harness.figures import bench_results, bench_targets, unmet_targets
from harness.live import wrk

MiB = 2**20

# The performance targets (docs/performance.md): (figure, comparison, bound).
TARGETS = [
    ("http.c8.recommend_over_home", ">=", 0.8),
    ("http.c32.recommend_over_home", ">=", 0.8),
    ("http.c8.recommend_over_seed_rf", ">=", 10),
    ("http.c32.recommend_over_seed_rf", ">=", 10),
    ("http.c32.recommend.p99_ms", "<", 50),
    ("in_process.default.cold.p50_ms", "<=", 1),
    ("in_process.default.warm.p50_ms", "<=", 1),
    ("in_process.default.answers10.p50_ms", "<=", 1),
    ("in_process.default.interview.p50_ms", "<=", 1),
    ("scale.in_process.cold.p50_ms", "<=", 10),
    ("in_process.search.ml100k.p50_ms", "<=", 2),
    ("in_process.search.catalogue_100k.p50_ms", "<=", 10),
    ("artifact.default.size_mb", "<=", 5),
    ("artifact.default.train_s", "<=", 10),
    ("artifact.default.load_s", "<=", 0.2),
    ("http.worker_rss_mib", "<=", 150),
]


log = functools.partial(live.log, "bench")


def median(values):
    return statistics.median(values)


def configure(workdir: Path) -> dict:
    """This process and the servers it starts: a production deployment with its own
    database and model files in ``workdir`` (live.production_env)."""
    # The request log line is part of what a production request costs: keep it.
    env = live.production_env(workdir, LOG_LEVEL="INFO")
    os.environ.update(env)
    import django

    django.setup()
    return env


# --- 2. HTTP -------------------------------------------------------------------------------


def gunicorn(model_path: Path, workdir: Path, name: str) -> live.Gunicorn:
    """gunicorn with the project's gunicorn.conf.py and 2 workers, as `make serve` runs it,
    serving ``model_path``; a context manager."""
    env = {**os.environ, "ML_MODEL_PATH": str(model_path)}
    return live.Gunicorn(env, workdir / f"gunicorn-{name}.log", workers=2)


def worker_memory(server: live.Gunicorn) -> dict:
    """Largest worker's RSS, and its PSS and USS (its share of pages and its own pages)."""
    figures = [live.memory(pid, full=True) for pid in server.worker_pids()]
    largest = max(figures, key=lambda f: f["rss"])
    return {f"worker_{key}_mib": value / MiB for key, value in largest.items()}


def measure_http(models: dict, workdir: Path, args) -> dict:
    """GET / and recommend on one server; seed-rf on a fresh server for each run, as just
    after a deploy: it has ranked what it could at start-up and scores the rest on request
    (left running, it would fill its cache and end up as fast as any model)."""
    from recsite.access.tokens import issue_access_token

    token = str(issue_access_token())
    rounds, seed_memory = [], {}
    with gunicorn(models["default"], workdir, "default") as server:
        log(f"HTTP: warming up for {args.warmup}s")
        wrk(server, connections=8, seconds=args.warmup, token=token)
        for round_ in range(args.repeat):
            figures = {}
            for c in (8, 32):
                log(f"HTTP round {round_ + 1}/{args.repeat}, concurrency {c}")
                run = figures[f"c{c}"] = {
                    "home": wrk(server, connections=c, seconds=args.duration),
                    "recommend": wrk(server, connections=c, seconds=args.duration, token=token),
                }
                run["recommend_over_home"] = run["recommend"]["rps"] / run["home"]["rps"]
                run["cpu_home_over_recommend"] = (
                    run["home"]["server_cpu_ms"] / run["recommend"]["server_cpu_ms"]
                )
                if "seed-rf" in models:
                    with gunicorn(models["seed-rf"], workdir, "seed-rf") as seed_server:
                        seed = wrk(seed_server, connections=c, seconds=args.duration, token=token)
                        seed_memory = worker_memory(seed_server)
                    run["seed_rf"] = seed
                    run["recommend_over_seed_rf"] = run["recommend"]["rps"] / seed["rps"]
            rounds.append(figures)
        result = median_of_rounds(rounds)
        result.update(worker_memory(server))
    if seed_memory:
        result["seed_rf_worker"] = seed_memory
    result["rounds"] = rounds
    return result


# --- 3. artifact ---------------------------------------------------------------------------


def measure_artifact(path: Path, algorithm: str, repeat: int) -> dict:
    from coldstart.serving import Recommender
    from recommender.model_file import load_artifact
    from recommender.services import model_train

    train_seconds, artifact = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        artifact = model_train(algorithm=algorithm, output=path, progress=False)
        train_seconds.append(time.perf_counter() - started)
    return {
        "train_s": median(train_seconds),
        "fit_s": artifact["fit_seconds"],
        "size_mb": path.stat().st_size / 1e6,
        "load_s": median(time_load(path, load_artifact, Recommender) for _ in range(5)),
    }


def time_load(path, load_artifact, recommender_class) -> float:
    """Reading, verifying and unpickling the file, then building the serving arrays."""
    started = time.perf_counter()
    recommender_class(load_artifact(path))
    return time.perf_counter() - started


# --- 4. scale ------------------------------------------------------------------------------


def measure_scale(workdir: Path, args) -> dict:
    from coldstart.artifact import FORMAT_VERSION
    from coldstart.estimators import COLD_START_ONLY, DEFAULT_ALGORITHM, make_estimator
    from coldstart.serving import Recommender
    from recommender.model_file import load_artifact, save_artifact
    from recommender.services import library_versions

    log("scale: generating 100,000 movies and 1,000,000 ratings")
    frame = synthetic_ratings(movies=100_000, ratings=1_000_000, raters=10_000, seed=5)
    fit_seconds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        # The interview's fit holds dense raters x movies matrices (about 8 GB here): the
        # scale run measures the cold-start ranking only.
        estimator = make_estimator(DEFAULT_ALGORITHM).set_params(
            **COLD_START_ONLY[DEFAULT_ALGORITHM]
        )
        estimator.fit(frame, frame["score"])
        fit_seconds.append(time.perf_counter() - started)
    path = workdir / "synthetic.joblib"
    artifact = {
        "format": FORMAT_VERSION,
        "scorer": estimator.scorer_,
        "catalogue": synthetic_catalogue(estimator.movie_ids_, seed=5),
        "algorithm": DEFAULT_ALGORITHM,
        "params": estimator.get_params(),
        "trained_at": "synthetic",
        "versions": library_versions(),  # the server refuses an artifact without them
    }
    save_artifact(artifact, path)
    log("scale: recommending")
    rounds = [measure_in_process(path, n=args.requests, seed=r) for r in range(args.repeat)]
    return {
        "movies": len(estimator.movie_ids_),
        "ratings": len(frame),
        "raters": int(frame["rater_id"].nunique()),
        "fit_s": median(fit_seconds),
        "size_mb": path.stat().st_size / 1e6,
        "load_s": median(time_load(path, load_artifact, Recommender) for _ in range(3)),
        "in_process": median_of_rounds(rounds),
    }


def main() -> None:
    try:
        run()
    except (BenchFailed, live.CheckFailed) as error:
        sys.exit(f"bench: {error}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per figure (median)")
    parser.add_argument("--requests", type=int, default=1000, help="in-process requests")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of wrk warm-up")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["seed-rf", "http", "scale"],
        help="leave a part out (for quick runs; the targets need them all)",
    )
    parser.add_argument(
        "--only", choices=["search"], help="measure this part alone (no training, no servers)"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    if args.only is None and "http" not in args.skip and not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (or --skip http).")
    data_dir = live.DATA_DIR
    if not (data_dir / "u.data").is_file():
        sys.exit(f"No ml-100k at {data_dir}: set ML100K_DIR to the folder holding u.data.")

    with tempfile.TemporaryDirectory(prefix="recsite-bench-") as tmp:
        workdir = Path(tmp)
        configure(workdir)
        from django.core.management import call_command

        from movies.services import movies_load

        log(f"loading ml-100k from {data_dir} into {workdir}")
        call_command("migrate", verbosity=0)
        movies_load(source=str(data_dir), progress=False)
        machine = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
        results = {"repeat": args.repeat, "targets": TARGETS, "machine": machine}
        if args.only == "search":
            results["in_process"] = {"search": search_rounds(args)}
            return finish(results, args)
        algorithms = ["default"] + ([] if "seed-rf" in args.skip else ["seed-rf"])
        models = {name: workdir / f"{name}.joblib" for name in algorithms}
        results["artifact"] = {}
        for name, path in models.items():
            log(f"training {name}")
            algorithm = "seed-rf" if name == "seed-rf" else _default_algorithm()
            repeat = 1 if name == "seed-rf" else args.repeat
            results["artifact"][name] = measure_artifact(path, algorithm, repeat)
        log("in-process")
        results["in_process"] = {"home": {"get": measure_home(args.requests)}}
        for name, path in models.items():
            rounds = [measure_in_process(path, n=args.requests, seed=r) for r in range(args.repeat)]
            results["in_process"][name] = median_of_rounds(rounds)
        rounds = [
            measure_answers(models["default"], n=args.requests, seed=r) for r in range(args.repeat)
        ]
        results["in_process"]["default"].update(median_of_rounds(rounds))
        results["in_process"]["search"] = search_rounds(args)
        if "http" not in args.skip:
            results["http"] = measure_http(models, workdir, args)
        if "scale" not in args.skip:
            results["scale"] = measure_scale(workdir, args)
    finish(results, args)


def search_rounds(args) -> dict:
    log("in-process: search")
    return median_of_rounds([measure_search(n=args.requests, seed=r) for r in range(args.repeat)])


def finish(results: dict, args) -> None:
    """Print the report, write the JSON, and fail if a target is not met."""
    results["machine"]["load_average_after"] = os.getloadavg()
    print(f"{bench_results(results)}\n{bench_targets(results)}", end="")
    unmet = unmet_targets(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        log(f"wrote {args.json}")
    if unmet:
        sys.exit(f"bench: {len(unmet)} target(s) not met: {', '.join(unmet)}.")


def _default_algorithm() -> str:
    from coldstart.estimators import DEFAULT_ALGORITHM

    return DEFAULT_ALGORITHM


if __name__ == "__main__":
    main()
