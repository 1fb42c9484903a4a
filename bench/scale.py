"""Scale benchmark: the data path at 100,000 and 1,000,000 ratings, beside a floor.

    python -m bench.scale [--repeat 3] [--sizes 100k 1M] [--json FILE]

`make bench-scale` runs it and keeps its JSON in docs/figures/. For each size it writes a
synthetic data set in the ml-100k layout (harness/generate.py), then times each step in a
fresh process (wall time and peak RSS; the median of --repeat rounds, taken in the same
run as the floor, since the machine is shared):

- floor: a bare Python script that reads the same u.data (split each line, four ints)
  and executemany-s the rows into an SQLite table of the same shape (integer key,
  unique (rater, movie), a check on the score) in one transaction on one connection;
- load: `manage.py load_movies` into an empty, migrated SQLite database;
- reload: the same again, nothing changed; reload 1%: after 1% of the scores changed,
  checking that exactly those rows were updated;
- train: `manage.py train_model` (the default algorithm);
- admin: the movie list and a rater's page rendered in-process, and the slowest query;
- serve: seconds from starting gunicorn to /readyz 200, a worker's RSS, and the recommend
  view's p50 in-process, without answers and with 10.
"""

import argparse
import functools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from harness import live
from harness.figures import scale_results, scale_unmet

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "100k": {"ratings": 100_000, "raters": 943, "movies": 1682},
    "1M": {"ratings": 1_000_000, "raters": 6040, "movies": 3900},
}
CHANGED = 0.01
CHILD = [sys.executable, "-m", "bench.scale"]  # this module's steps, each in a process of its own
# One pair for the whole run: the server must trust the model that train_model signed.
SECRETS = {"SECRET_KEY": secrets.token_urlsafe(48), "SESSION_PASSWORD": secrets.token_urlsafe(16)}
MiB = 2**20
# Bounds of the data path at scale: (figure, bound); ratios are to the floor, but
# training's, which is to training at 100k.
TARGETS = {
    "load_over_floor": 3.0,
    "reload_over_floor": 2.0,
    "reload_changed_over_floor": 3.0,
    "load_rss_mib": 300,
    "reload_rss_mib": 300,
    "reload_changed_rss_mib": 300,
    "train_over_100k": 15.0,  # its own time at 100k ratings, in the same run
    "train_rss_mib": 1024,
    "admin_movie_list_ms": 300,
    "admin_movie_list_by_count_ms": 300,
    "admin_rater_page_ms": 300,
    "serve_readyz_s": 5.0,
    "serve_worker_rss_mib": 150,
    "serve_recommend_p50_ms": 1.0,
    "serve_answers10_p50_ms": 1.0,
}


log = functools.partial(live.log, "scale")


# --- children ------------------------------------------------------------------------------


def floor(u_data: str, db: str) -> None:
    """The floor: the least a loader of u.data into SQLite can do."""
    import sqlite3

    rows = []
    with open(u_data, encoding="latin-1") as lines:
        for line in lines:
            rater, movie, score, timestamp = line.split("\t")
            rows.append((int(rater), int(movie), int(score), int(timestamp)))
    connection = sqlite3.connect(db)
    with connection:
        connection.execute(
            "CREATE TABLE rating (id INTEGER PRIMARY KEY, rater INTEGER NOT NULL, "
            "movie INTEGER NOT NULL, score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5), "
            "rated_at INTEGER NOT NULL, UNIQUE (rater, movie))"
        )
        connection.executemany(
            "INSERT INTO rating (rater, movie, score, rated_at) VALUES (?, ?, ?, ?)", rows
        )
    connection.close()


def admin_timings(rounds: int) -> None:
    """Render the admin pages a member of staff opens first; print medians as JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from movies.models import Rater

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    rater = Rater.objects.order_by("-id").values_list("id", flat=True).first()
    pages = {
        "admin_movie_list_ms": "/admin/movies/movie/",
        "admin_movie_list_by_count_ms": "/admin/movies/movie/?o=-4",
        "admin_rater_page_ms": f"/admin/movies/rater/{rater}/change/",
    }
    figures, slowest = {}, 0.0
    for name, url in pages.items():
        seconds = []
        for _ in range(rounds):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            slowest = max([slowest, *(float(q["time"]) for q in queries.captured_queries)])
        figures[name] = statistics.median(seconds) * 1e3
    figures["admin_slowest_query_ms"] = slowest * 1e3
    print(json.dumps(figures))


def recommend_timings(model: str) -> None:
    """The recommend view in-process with ``model`` (bench/inprocess.py), on one
    BLAS thread as gunicorn.conf.py runs a worker: a thread pool's wake-ups would cost
    more than a profile's few small products on a shared machine."""
    import django
    from threadpoolctl import threadpool_limits

    django.setup()
    from bench.inprocess import measure_answers, measure_in_process

    with threadpool_limits(1):
        timings = measure_in_process(Path(model), n=500, seed=0)
        timings |= measure_answers(Path(model), n=500, seed=0)
        print(json.dumps(timings))


# --- the parent ----------------------------------------------------------------------------


def measured(command: list[str], env: dict) -> dict:
    """Run a child to the end; its wall seconds, peak RSS and standard output."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode()
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} exited with {child.returncode}:\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"s": seconds, "cpu_s": cpu, "rss_mib": usage.ru_maxrss * 1024 / MiB, "out": output}


def django_env(workdir: Path, database_url: str | None = None) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recsite.settings",
        "DEBUG": "0",
        "CI": "1",  # no progress bars
        "SECURE_SSL_REDIRECT": "0",
        **SECRETS,
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'db.sqlite3'}",
        "ML_MODEL_PATH": str(workdir / "model.joblib"),
    }


def manage(env: dict, *args: str) -> dict:
    """A manage.py command (live.manage's), measured."""
    return measured([*live.MANAGE, *args], env)


def round_of(size: str, data: Path, changed: Path, n_changed: int, workdir: Path, args) -> dict:
    """One round at one size: floor, load, reload, reload with 1% changed, train, admin."""
    env = django_env(workdir, args.database_url)
    for leftover in workdir.glob("*.sqlite3*"):
        leftover.unlink()
    floor_run = measured(
        [
            sys.executable,
            "-m",
            "bench.scale",
            "floor",
            str(data / "u.data"),
            str(workdir / "floor.sqlite3"),
        ],
        env,
    )
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "flush", "--noinput", "-v0")  # an empty database, also on PostgreSQL
    figures = {"floor_s": floor_run["s"], "floor_rss_mib": floor_run["rss_mib"]}
    figures["floor_cpu_s"] = floor_run["cpu_s"]
    for step, source, expected in [
        ("load", data, None),
        ("reload", data, "(0 new, 0 updated)"),
        ("reload_changed", changed, f"(0 new, {n_changed} updated)"),
    ]:
        run = manage(env, "load_movies", "--source", str(source))
        if expected and expected not in run["out"]:
            raise RuntimeError(f"{step} at {size}: expected {expected}, got {run['out']}")
        figures[f"{step}_s"], figures[f"{step}_rss_mib"] = run["s"], run["rss_mib"]
        figures[f"{step}_over_floor"] = run["s"] / floor_run["s"]
        figures[f"{step}_cpu_s"] = run["cpu_s"]
    run = manage(env, "train_model")
    figures["train_s"], figures["train_rss_mib"] = run["s"], run["rss_mib"]
    figures["train_cpu_s"] = run["cpu_s"]
    admin = measured([*CHILD, "admin"], env)
    figures.update(json.loads(admin["out"]))
    log(f"{size}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items()))
    return figures


def serve_figures(workdir: Path, database_url: str | None) -> dict:
    """gunicorn as `make serve` runs it, on the model and database of the last round."""
    env = django_env(workdir, database_url)
    port = live.free_port()
    env.update(HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2")
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with open(workdir / "gunicorn.log", "wb") as output:
        started = time.perf_counter()
        server = subprocess.Popen(
            [*command, "recsite.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            ready = _wait_ready(port, server, deadline=60)
            figures = {"serve_readyz_s": ready - started}
            time.sleep(1)  # both workers up
            figures["serve_worker_rss_mib"] = _largest_worker_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    recommend = measured(
        [sys.executable, "-m", "bench.scale", "recommend", env["ML_MODEL_PATH"]], env
    )
    timings = json.loads(recommend["out"])
    figures["serve_recommend_p50_ms"] = timings["cold"]["p50_ms"]
    figures["serve_answers10_p50_ms"] = timings["answers10"]["p50_ms"]
    return figures


def _largest_worker_rss_mib(master: int) -> float:
    """The RSS of the master's largest child (gunicorn's workers)."""
    children = psutil.Process(master).children()
    return max(live.memory(child.pid)["rss"] for child in children) / MiB


def _wait_ready(port: int, server, *, deadline: float) -> float:
    """The perf_counter time when /readyz first answers 200."""

    def ready() -> float | None:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode})")
        try:
            if live.request(port, "GET", "/readyz", timeout=2).status == 200:
                return time.perf_counter()
        except live.NoAnswer:
            pass
        return None

    what = f"/readyz did not answer 200 within {deadline}s"
    return live.wait_until(ready, timeout=deadline, what=what, every=0.05)


def measure(args) -> dict:
    """Every figure of every size in ``args.sizes``, as medians over ``args.repeat`` rounds."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="recsite-scale-") as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            log(f"{size}: generating {SIZES[size]['ratings']:,} ratings")
            # In children: a child's peak RSS starts from its parent's, kept small.
            data, changed = tmp / size / "data", tmp / size / "changed"
            generate = [sys.executable, "-m", "harness.generate", str(data)]
            options = {key: str(value) for key, value in SIZES[size].items()}
            measured([*generate, *(f"--{k}={v}" for k, v in options.items())], os.environ)
            shutil.copytree(data, changed)
            out = measured([*generate[:3], "--change", str(CHANGED), str(changed)], os.environ)
            n_changed = int(out["out"])
            workdir = tmp / size / "work"
            workdir.mkdir()
            rounds = [
                round_of(size, data, changed, n_changed, workdir, args) for _ in range(args.repeat)
            ]
            results[size] = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
            results[size].update(SIZES[size], changed=n_changed)
            log(f"{size}: serving")
            results[size].update(serve_figures(workdir, args.database_url))
    if {"100k", "1M"} <= set(results):
        results["1M"]["train_over_100k"] = results["1M"]["train_s"] / results["100k"]["train_s"]
    return results


UNITS = {"_over_floor": "x", "_over_100k": "x", "_ms": "ms", "_s": "s", "_mib": "MiB"}


def bounds() -> dict:
    """TARGETS as the report carries them: each an upper bound, with its unit."""
    return {
        key: {
            "op": "<=",
            "bound": bound,
            "unit": next(u for e, u in UNITS.items() if key.endswith(e)),
        }
        for key, bound in TARGETS.items()
    }


def report(sizes: dict, repeat: int) -> dict:
    """What `--json` writes and harness.figures makes the docs' table from."""
    return {"sizes": sizes, "bounds": bounds(), "repeat": repeat, "cpus": os.cpu_count()}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("floor", "admin", "recommend"):
        command, *args = sys.argv[1:]
        {"floor": floor, "admin": lambda: admin_timings(5), "recommend": recommend_timings}[
            command
        ](*args)
        return
    args = parser().parse_args()
    results = report(measure(args), args.repeat)
    print(scale_results(results))
    for miss in scale_unmet(results):
        print(f"NOT MET: {miss}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def parser(description: str = __doc__.split("\n\n")[0]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per figure (median)")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an existing database to empty and load (e.g. PostgreSQL); default: a new "
        "SQLite file per round",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser


if __name__ == "__main__":
    main()
