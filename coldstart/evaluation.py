"""Cold-start evaluation: held-out raters, known only by demographics, ranked against what
they liked.

Protocol: ``KFold(5, shuffle=True, random_state=42)`` over rater ids in ascending order.
Each algorithm is fitted on every rating of the train raters; hyper-parameters in
``PARAM_GRIDS`` are chosen first by an inner split over those raters only. Each test rater
is given as (age, gender, occupation); the model ranks every movie it knows, ties to the
lower movie id; relevant = the movies the rater rated ≥ 4, and raters with none are left
out of the ranking metrics. Folds are summarised as mean ± population std.

A model that learns from answers (the default) is also measured with answers on the same
folds: coldstart/answer_protocols.py.
"""

import hashlib
import time
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from tqdm import tqdm

from coldstart.answer_protocols import answer_protocols, learns_from_answers, summarise_answers
from coldstart.domain import DEMOGRAPHICS, POSITIVE_SCORE, SOURCE, K
from coldstart.estimators import (
    COLD_START_ONLY,
    DEFAULT_ALGORITHM,
    PARAM_GRIDS,
    CatalogueRecommender,
    make_estimator,
)
from coldstart.metrics import (
    average_precision_at_k,
    catalogue_coverage,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    top_k,
)
from coldstart.plain import plain

CURVE_K = 20
N_FOLDS = 5
SEED = 42
INNER_FOLDS = 3
TIMED_REQUESTS = 50
RANKING_METRICS = ["ndcg", "precision", "recall", "map", "hit_rate"]


class EvaluationError(Exception):
    """The data cannot support the protocol (too few raters, nothing rated)."""


def data_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the ratings and demographics a model was trained on."""
    digest = hashlib.sha256()
    for column in ["rater_id", "movie_id", "score", "age"]:
        digest.update(frame[column].to_numpy(np.int64).tobytes())
    for column in ["gender", "occupation"]:
        digest.update("|".join(frame[column].to_numpy(dtype=object)).encode())
    return digest.hexdigest()


# The protocol.


def rank_raters(
    estimator: CatalogueRecommender, ratings: pd.DataFrame, k: int = CURVE_K
) -> dict[str, np.ndarray]:
    """Rank for every rater of ``ratings`` from demographics alone; their top-k movie ids,
    hits and number of relevant movies."""
    people = ratings.drop_duplicates("rater_id")
    raters = people["rater_id"].to_numpy()
    top_ids = estimator.movie_ids_[top_k(estimator.score_profiles(people[DEMOGRAPHICS]), k)]
    liked = ratings[ratings["score"] >= POSITIVE_SCORE]
    rows = pd.Index(raters).get_indexer(liked["rater_id"])
    width = max(top_ids.max(initial=0), liked["movie_id"].to_numpy().max(initial=0)) + 1
    relevant = np.zeros((len(raters), width), dtype=bool)
    relevant[rows, liked["movie_id"].to_numpy()] = True
    return {
        "top_ids": top_ids,
        "hits": np.take_along_axis(relevant, top_ids, axis=1),
        "n_relevant": np.bincount(rows, minlength=len(raters)),
    }


def ndcg_scorer(estimator: CatalogueRecommender, X: pd.DataFrame, y: object = None) -> float:
    """NDCG@10 of the raters in X, known only by demographics: the inner search's score."""
    ranked = rank_raters(estimator, X, K)
    rankable = ranked["n_relevant"] > 0
    if not rankable.any():
        return 0.0  # nobody here liked anything: no reason to prefer any setting
    return float(ndcg_at_k(ranked["hits"][rankable], ranked["n_relevant"][rankable], K).mean())


def seeded_estimator(name: str, random_state: int = 0) -> CatalogueRecommender:
    """A new ``name`` with its random state (when it has one) set to ``random_state``."""
    estimator = make_estimator(name)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=random_state)
    return estimator


def tuned_params(
    name: str, train: pd.DataFrame, *, seed: int = SEED, random_state: int = 0
) -> tuple[dict[str, Any], float]:
    """The parameters of ``name`` (with ``random_state``) with its PARAM_GRIDS entry chosen
    by an inner split over the train raters (its defaults when it has no grid), and the
    seconds the search took."""
    estimator = seeded_estimator(name, random_state)
    if name not in PARAM_GRIDS:
        return plain(estimator.get_params()), 0.0
    started = time.perf_counter()
    # The search scores demographics alone: its fits skip what only answers use.
    searched = make_estimator(name).set_params(**COLD_START_ONLY.get(name, {}))
    search = GridSearchCV(
        searched,
        PARAM_GRIDS[name],
        scoring=ndcg_scorer,
        refit=False,
        cv=GroupKFold(INNER_FOLDS, shuffle=True, random_state=seed),
        error_score="raise",
    )
    search.fit(train, train["score"], groups=train["rater_id"])
    estimator.set_params(**search.best_params_)
    return plain(estimator.get_params()), time.perf_counter() - started


def fit_tuned(
    name: str, train: pd.DataFrame, *, seed: int = SEED, random_state: int = 0
) -> tuple[CatalogueRecommender, dict[str, Any], float, float]:
    """Fit ``name`` on ``train`` with its tuned_params; returns the estimator, the chosen
    params and timings."""
    params, tune_seconds = tuned_params(name, train, seed=seed, random_state=random_state)
    estimator = make_estimator(name).set_params(**params)
    started = time.perf_counter()
    estimator.fit(train, train["score"])
    return estimator, params, time.perf_counter() - started, tune_seconds


def request_milliseconds(
    estimator: CatalogueRecommender, ratings: pd.DataFrame, n: int = TIMED_REQUESTS
) -> float:
    """Median time to rank the catalogue for one person, as a request would."""
    people = ratings.drop_duplicates("rater_id")[DEMOGRAPHICS].head(n)
    timings = []
    for profile in cast(list[dict[str, Any]], people.to_dict("records")):
        started = time.perf_counter()
        top_k(estimator.score_profiles([profile]), K)
        timings.append(time.perf_counter() - started)
    return float(np.median(timings) * 1000)


def evaluate_fold(
    name: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int,
    random_state: int,
    n_movies: int,
) -> tuple[dict[str, Any], CatalogueRecommender]:
    """The fold's cold-start figures, and the fitted estimator (for answer_protocols)."""
    estimator, params, fit_seconds, tune_seconds = fit_tuned(
        name, train, seed=seed, random_state=random_state
    )
    return {
        **score_fold(estimator, test, n_movies=n_movies),
        "fit_seconds": fit_seconds,
        "tune_seconds": tune_seconds,
        "request_ms": request_milliseconds(estimator, test),
        "params": params,
    }, estimator


def score_fold(
    estimator: CatalogueRecommender, test: pd.DataFrame, *, n_movies: int
) -> dict[str, Any]:
    """The ranking metrics of a fitted estimator on one fold's test raters."""
    ranked = rank_raters(estimator, test, CURVE_K)
    rankable = ranked["n_relevant"] > 0
    if not rankable.any():
        raise EvaluationError(
            f"A fold has no test rater with a rating >= {POSITIVE_SCORE}: nothing to rank for."
        )
    hits, n_relevant = ranked["hits"][rankable], ranked["n_relevant"][rankable]
    return {
        "ndcg": ndcg_at_k(hits, n_relevant, K).mean(),
        "precision": precision_at_k(hits, K).mean(),
        "recall": recall_at_k(hits, n_relevant, K).mean(),
        "map": average_precision_at_k(hits, n_relevant, K).mean(),
        "hit_rate": hit_rate_at_k(hits, K).mean(),
        "coverage": catalogue_coverage(ranked["top_ids"][:, :K], n_movies),
        "raters": int(rankable.sum()),
        "curves": {
            "ndcg": [ndcg_at_k(hits, n_relevant, k).mean() for k in range(1, CURVE_K + 1)],
            "recall": [recall_at_k(hits, n_relevant, k).mean() for k in range(1, CURVE_K + 1)],
        },
    }


def rater_folds(
    frame: pd.DataFrame, *, seed: int = SEED
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (train, test) rating frames of the protocol's folds over raters; over people
    where the frame has a SOURCE column, every copy of a person on one side."""
    person = frame[SOURCE if SOURCE in frame else "rater_id"].to_numpy()
    people = np.unique(person)
    if len(people) < N_FOLDS:
        raise EvaluationError(
            f"The protocol needs at least {N_FOLDS} raters; the database has {len(people)}."
        )
    for _, test_at in KFold(N_FOLDS, shuffle=True, random_state=seed).split(people):
        test = np.isin(person, people[test_at])
        yield frame[~test], frame[test]


SUMMARISED = [*RANKING_METRICS, "coverage", "fit_seconds", "tune_seconds", "request_ms"]


def evaluate_algorithms(
    frame: pd.DataFrame,
    algorithms: list[str],
    *,
    seed: int = SEED,
    random_state: int = 0,
    search_all_raters: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run the protocol for each algorithm on a ratings frame (recommender.selectors.rating_frame
    reads one from the database): ``seed`` splits the folds (outer and inner) and draws the
    bootstrap, ``random_state`` is the models'. With ``search_all_raters``, each grid's
    choice on all raters too (what the shipped defaults are)."""
    folds = list(rater_folds(frame, seed=seed))
    n_movies = frame["movie_id"].nunique()
    report: dict[str, Any] = {
        "protocol": {
            "folds": N_FOLDS,
            "seed": seed,
            "random_state": random_state,
            "inner_folds": INNER_FOLDS,
            "k": K,
            "relevant": f"score >= {POSITIVE_SCORE}",
            "std": "population (ddof=0)",
            "ratings": len(frame),
            "raters": frame["rater_id"].nunique(),
            "movies": n_movies,
            "data_fingerprint": data_fingerprint(frame),
        },
        "default_algorithm": DEFAULT_ALGORITHM,
        "algorithms": {},
    }
    bar = tqdm(
        total=len(algorithms) * N_FOLDS,
        desc="evaluate",
        disable=None if progress is None else not progress,
    )
    with bar:
        for name in algorithms:
            runs, answered, learners = [], [], []
            for number, (train, test) in enumerate(folds, start=1):
                bar.set_postfix_str(f"{name} fold {number}")
                run, estimator = evaluate_fold(
                    name, train, test, seed=seed, random_state=random_state, n_movies=n_movies
                )
                runs.append(run)
                if name == DEFAULT_ALGORITHM and learns_from_answers(estimator):
                    bar.set_postfix_str(f"{name} fold {number} answers")
                    answered.append(answer_protocols(estimator, test, seed=seed))
                    learners.append(estimator)
                bar.update()
            report["algorithms"][name] = _summarise(runs)
            if answered:
                report["answers"] = summarise_answers(answered, learners, seed=seed)
            if name in PARAM_GRIDS and search_all_raters:
                bar.set_postfix_str(f"{name} on all raters")
                report["algorithms"][name]["params_on_all_raters"] = tuned_params(
                    name, frame, seed=seed
                )[0]
    return report


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    table = pd.DataFrame([{m: run[m] for m in SUMMARISED} for run in runs])
    curves = {c: np.mean([run["curves"][c] for run in runs], axis=0) for c in ("ndcg", "recall")}
    return plain(
        {
            "mean": table.mean().to_dict(),
            "std": table.std(ddof=0).to_dict(),
            "folds": [
                {key: value for key, value in run.items() if key != "curves"} for run in runs
            ],
            "curves": curves,
        }
    )
