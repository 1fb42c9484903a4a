"""The interview against the simple baseline (coldstart/baselines.py) as the ratings grow:
ml-100k and the stand-in (bench/standin.py) at 100k, 300k and 1M ratings.

    python -m bench.interview_scale [--sizes ml-100k 100000 300000 1000000] [--seeds 42]
        [--json docs/figures/interview-scale.json]

Per size and seed: one split BY SOURCE PERSON (a fifth of the real people held out, every
copy of them with them); the project's default model fitted on the train raters exactly as
``train_model`` fits it, and the baseline on the same raters; each held-out rater then
interviewed by each, one question at a time as the API would, each answer their real
rating or "not seen" (coldstart/answer_protocols.py's simulation), and ranked after 5 and
10 questions, the answered movies out of the ranking and the relevant set. The pair's
difference is over the raters with something relevant left under both, with a paired
per-rater bootstrap CI. Also the fit's seconds and the process's peak RSS during it
(psutil, sampled).
"""

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.standin import ML100K, SIZES, read_frame, source_split, write_standin
from coldstart.answer_protocols import (
    answered_ndcg,
    bootstrap_ci,
    interview,
    people,
    real_answers,
)
from coldstart.baselines import NearestRaters
from coldstart.domain import INTERVIEW_KS, UNKNOWN_TITLE, K
from coldstart.estimators import DEFAULT_ALGORITHM, make_estimator
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


def dataset(size: str) -> tuple[pd.DataFrame, pd.Series]:
    """ml-100k itself (each rater their own source), or the stand-in of ``size`` ratings
    (written under var/ the first time)."""
    if size == "ml-100k":
        return read_frame(ML100K)
    folder = STANDIN_DIR / f"standin-{size}"
    if not (folder / "u.data").exists():
        write_standin(folder, ratings=int(size))
    return read_frame(folder)


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
    baseline = NearestRaters(seed=seed).fit(
        ratings, movie_ids, pd.factorize(titles)[0], np.flatnonzero(titles == UNKNOWN_TITLE)
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


def measure(size: str, seed: int) -> dict[str, Any]:
    """One size and seed: both fitted on the train raters, both interviewing the held out."""
    frame, sources = dataset(size)
    train, test = source_split(frame, sources, seed=seed)
    project, costs = fit_project(train)
    baseline, baseline_seconds = fit_baseline(train, project.movie_ids_, seed)
    ours = interviewed(project.scorer_, project.movie_ids_, test)
    theirs = interviewed(baseline, baseline.movie_ids_, test)
    result: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "ratings": len(frame),
        "movies": frame["movie_id"].nunique(),
        "train_raters": train["rater_id"].nunique(),
        "test_raters": test["rater_id"].nunique(),
        **costs,
        "baseline_fit_seconds": baseline_seconds,
        "rank_ms_p50": np.median(ours["ms"]),
        "baseline_rank_ms_p50": np.median(theirs["ms"]),
    }
    for k in INTERVIEW_KS:
        both = ~np.isnan(ours[k]) & ~np.isnan(theirs[k])
        a, b = ours[k][both], theirs[k][both]
        result[f"interview-{k}"] = {
            "project": a.mean(),
            "baseline": b.mean(),
            "difference": a.mean() - b.mean(),
            "difference_ci95": bootstrap_ci(a - b, seed=seed),
            "raters": int(both.sum()),
        }
    return plain(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["ml-100k", *map(str, SIZES)])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--json", type=Path, default=JSON)
    args = parser.parse_args()
    runs = []
    for size in args.sizes:
        for seed in args.seeds:
            runs.append(measure(size, seed))
            print(json.dumps(runs[-1]), flush=True)
    args.json.write_text(json.dumps({"runs": runs}, indent=1) + "\n")
    print(interview_scale_results({"runs": runs}), end="")


if __name__ == "__main__":
    main()
