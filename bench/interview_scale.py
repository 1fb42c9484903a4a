"""The interview against the simple baseline (coldstart/baselines.py) as the ratings grow:
ml-100k and the stand-in (bench/standin.py) at 100k, 300k and 1M ratings.

    python -m bench.interview_scale [--sizes ml-100k 100000 300000 1000000] [--seeds 42]
        [--folds N] [--keep] [--json docs/figures/interview-scale.json]
    python -m bench.interview_scale --sizes FOLDER --json FILE   # a real set, ml-100k layout
    python -m bench.interview_scale --shares 0.2 0.4 0.7 1 --json FILE   # fewer people

Per size and seed: the people split in 5 folds BY SOURCE PERSON (coldstart.evaluation.rater_folds:
every copy of a real person in the same fold), and for each of the first ``--folds``: the
project's default model fitted on the other folds' raters exactly as ``train_model`` fits
it, and the baseline on the same raters; each held-out rater then interviewed by each, one
question at a time as the API would, each answer their real rating or "not seen"
(coldstart/answer_protocols.py's simulation), and ranked after 5 and 10 questions, the
answered movies out of the ranking and the relevant set. The pair's difference is over the
raters with something relevant left under both, pooled over the folds, with a paired
per-rater bootstrap CI. Also the fit's seconds (median over the folds) and the process's
peak RSS during the fits (psutil, sampled). ``--keep`` keeps the JSON's other sizes.
``--shares`` fits both on a seeded share of each fold's train people only (the same
held-out people): how each learns from more people.
"""

import argparse
import json
import threading
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.standin import ML100K, SIZES, read_frame, write_standin
from coldstart.answer_protocols import (
    answered_ndcg,
    bootstrap_ci,
    interview,
    people,
    real_answers,
)
from coldstart.baselines import NearestRaters
from coldstart.domain import INTERVIEW_KS, SOURCE, UNKNOWN_TITLE, K
from coldstart.estimators import DEFAULT_ALGORITHM, make_estimator
from coldstart.evaluation import N_FOLDS, rater_folds
from coldstart.interview.fit import by_person
from coldstart.metrics import top_k
from coldstart.plain import plain
from harness.figures import interview_scale_results
from harness.live import memory

STANDIN_DIR = Path("var")
JSON = Path("docs/figures/interview-scale.json")


class PeakMemory:
    """The process's peak RSS (bytes) while the block runs, sampled every 20 ms."""

    def __enter__(self) -> "PeakMemory":
        import os

        self.pid, self.peak, self._done = os.getpid(), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, memory(self.pid)["rss"])
            self._done.wait(0.02)

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, memory(self.pid)["rss"])


def dataset(size: str) -> pd.DataFrame:
    """ml-100k itself (each rater their own source), the stand-in of ``size`` ratings
    (written under var/ the first time), or any other folder in the ml-100k layout, e.g. a
    real MovieLens-1M converted to it."""
    if size == "ml-100k":
        return read_frame(ML100K)
    if not size.isdigit():
        return read_frame(size)
    folder = STANDIN_DIR / f"standin-{size}"
    if not (folder / "u.data").exists():
        write_standin(folder, ratings=int(size))
    return read_frame(folder)


def size_label(size: str) -> str:
    """How a run names its data set: a size, or a folder's name (never its path)."""
    return size if size.isdigit() else Path(size).name


def fit_project(train: pd.DataFrame) -> tuple[Any, dict[str, float]]:
    """The default model as train_model fits it, with its seconds and peak RSS."""
    with PeakMemory() as peak:
        started = time.perf_counter()
        estimator = make_estimator(DEFAULT_ALGORITHM).fit(train, train["score"])
        seconds = time.perf_counter() - started
    return estimator, {"fit_seconds": seconds, "peak_rss_mib": peak.peak / 2**20}


def fit_baseline(train: pd.DataFrame, movie_ids: np.ndarray, seed: int) -> tuple[Any, float]:
    """The baseline on the same train raters and catalogue, and its seconds."""
    started = time.perf_counter()
    rows = pd.factorize(train["rater_id"], sort=True)[0]
    cols = np.searchsorted(movie_ids, train["movie_id"].to_numpy())
    ratings = np.zeros((rows.max() + 1, len(movie_ids)), dtype=np.int8)
    ratings[rows, cols] = train["score"].to_numpy()
    titles = train.drop_duplicates("movie_id").sort_values("movie_id")["title"].astype(str)
    titles = titles.to_numpy()
    person_of = train[SOURCE].to_numpy()[np.unique(rows, return_index=True)[1]]
    baseline = NearestRaters(seed=seed).fit(
        ratings,
        movie_ids,
        pd.factorize(titles)[0],
        np.flatnonzero(titles == UNKNOWN_TITLE),
        person_of,
    )
    return baseline, time.perf_counter() - started


def interviewed(scorer: Any, movie_ids: np.ndarray, test: pd.DataFrame) -> dict[Any, np.ndarray]:
    """Per k of INTERVIEW_KS, each held-out rater's NDCG@10 after k questions (or all the
    catalogue had; NaN when nothing relevant is left), raters by id; under "ms", each
    ranking's milliseconds (the scores and their top 10, as a recommend request computes them)."""
    out: dict[Any, list[float]] = {k: [] for k in INTERVIEW_KS} | {"ms": []}
    for person in people(test):
        rounds = interview(scorer, person, real_answers(person))
        for k in INTERVIEW_KS:
            answers = rounds[:k][-1] if rounds else []
            started = time.perf_counter()
            scores = scorer.score(person.profile, answers)
            top_k(scores[None], K)
            out["ms"].append((time.perf_counter() - started) * 1000)
            out[k].append(float(answered_ndcg(scores[None], movie_ids, person, answers)[0]))
    return {k: np.array(values) for k, values in out.items()}


def measure(size: str, seed: int, folds: int, share: float = 1.0) -> dict[str, Any]:
    """One size and seed, over its first ``folds`` folds: both fitted on the train raters
    (a ``share`` of their people), both interviewing the held out."""
    frame = dataset(size)
    ours, theirs, fits = [], [], []
    for fold, (train, test) in enumerate(islice(rater_folds(frame, seed=seed), folds)):
        train = people_share(train, share, seed=[seed, fold])
        project, costs = fit_project(train)
        baseline, baseline_seconds = fit_baseline(train, project.movie_ids_, seed)
        ours.append(interviewed(project.scorer_, project.movie_ids_, test))
        theirs.append(interviewed(baseline, baseline.movie_ids_, test))
        fits.append(
            {
                **costs,
                "baseline": baseline_seconds,
                "train": train["rater_id"].nunique(),
                "test": test["rater_id"].nunique(),
            }
        )
        print(f"{size} seed {seed} fold {fold}: fitted and measured", flush=True)
    mine, base = _pooled(ours), _pooled(theirs)
    result: dict[str, Any] = {
        "size": size_label(size),
        "seed": seed,
        "share": share,
        "folds": folds,
        "of_folds": N_FOLDS,
        "ratings": len(frame),
        "movies": frame["movie_id"].nunique(),
        "train_raters": round(np.mean([fit["train"] for fit in fits])),
        "test_raters": sum(fit["test"] for fit in fits),
        "fit_seconds": np.median([fit["fit_seconds"] for fit in fits]),
        "peak_rss_mib": max(fit["peak_rss_mib"] for fit in fits),
        "baseline_fit_seconds": np.median([fit["baseline"] for fit in fits]),
        "rank_ms_p50": np.median(mine["ms"]),
        "baseline_rank_ms_p50": np.median(base["ms"]),
    }
    for k in INTERVIEW_KS:
        both = ~np.isnan(mine[k]) & ~np.isnan(base[k])
        a, b = mine[k][both], base[k][both]
        result[f"interview-{k}"] = {
            "project": a.mean(),
            "baseline": b.mean(),
            "difference": a.mean() - b.mean(),
            "difference_ci95": bootstrap_ci(a - b, seed=seed),
            "raters": int(both.sum()),
        }
    return plain(result)


def people_share(train: pd.DataFrame, share: float, *, seed: list[int]) -> pd.DataFrame:
    """The ratings of a seeded ``share`` of the people of ``train`` (all of them at 1)."""
    if share >= 1:
        return train
    _, place = by_person(train[SOURCE].to_numpy(), seed)  # each row's person's place
    return train[place < round(share * (place.max() + 1))]


def _pooled(folds: list[dict[Any, np.ndarray]]) -> dict[Any, np.ndarray]:
    """Each figure's per-rater values, the folds' raters one after another."""
    return {key: np.concatenate([fold[key] for fold in folds]) for key in folds[0]}


def kept_runs(path: Path, sizes: list[str]) -> list[dict[str, Any]]:
    """The runs of a bench's JSON at ``path`` (if any) of sizes other than ``sizes``: a
    large size is measured on fewer folds and seeds, in a run of its own."""
    if not path.exists():
        return []
    labels = {size_label(size) for size in sizes}
    return [run for run in json.loads(path.read_text())["runs"] if run["size"] not in labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["ml-100k", *map(str, SIZES)])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument(
        "--folds", type=int, default=N_FOLDS, help=f"of the {N_FOLDS} folds, how many"
    )
    parser.add_argument("--json", type=Path, default=JSON)
    parser.add_argument("--keep", action="store_true", help="keep the JSON's other sizes")
    parser.add_argument(
        "--shares", nargs="+", type=float, default=[1.0], help="of each fold's train people"
    )
    args = parser.parse_args()
    runs = kept_runs(args.json, args.sizes) if args.keep else []
    for size in args.sizes:
        for seed in args.seeds:
            for share in args.shares:
                runs.append(measure(size, seed, args.folds, share))
                print(json.dumps(runs[-1]), flush=True)
    order = ("ratings", "seed", "train_raters")
    report = {"runs": sorted(runs, key=lambda run: [run[key] for key in order])}
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(interview_scale_results(report), end="")


if __name__ == "__main__":
    main()
