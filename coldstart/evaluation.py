"""Cold-start evaluation: held-out raters, known only by demographics, ranked against what
they liked.

Protocol: ``KFold(5, shuffle=True, random_state=42)`` over rater ids in ascending order.
Each algorithm is fitted on every rating of the train raters; hyper-parameters in
``PARAM_GRIDS`` are chosen first by an inner split over those raters only. Each test rater
is given as (age, gender, occupation); the model ranks every movie it knows, ties to the
lower movie id; relevant = the movies the rater rated ≥ 4, and raters with none are left
out of the ranking metrics. Folds are summarised as mean ± population std.

A model that learns from answers (the default) is also measured on the same folds with
answers (``answer_protocols``): an interview of k questions picked by the model's own
``next_questions``, one at a time exactly as the API would, each answered with the test
rater's real rating, else "not seen"; and the rater's first k ratings in time order (ties
by movie id) as answers. Each against the demographic-only ranking on the same raters and
relevant sets: the answered movies leave the ranking and the relevant set, and raters
with nothing relevant left are skipped. Confidence intervals are a paired per-rater
bootstrap, raters pooled over the folds.
"""

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import astuple
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from tqdm import tqdm

from coldstart.answers import Interview
from coldstart.domain import DEMOGRAPHICS, FIRST_KS, INTERVIEW_KS, POSITIVE_SCORE, K
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
from coldstart.serving import Answer

CURVE_K = 20
N_FOLDS = 5
SEED = 42
INNER_FOLDS = 3
TIMED_REQUESTS = 50
RANKING_METRICS = ["ndcg", "precision", "recall", "map", "hit_rate"]
CURVE_QUESTIONS = max(INTERVIEW_KS)  # the NDCG curve runs over 0..CURVE_QUESTIONS questions
BOOTSTRAP_RESAMPLES = 2000


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


def tuned_params(
    name: str, train: pd.DataFrame, *, seed: int = SEED
) -> tuple[dict[str, Any], float]:
    """The parameters of ``name`` with its PARAM_GRIDS entry chosen by an inner split over
    the train raters (its defaults when it has no grid), and the seconds the search took."""
    estimator = make_estimator(name)
    if name not in PARAM_GRIDS:
        return _plain(estimator.get_params()), 0.0
    started = time.perf_counter()
    # The search scores demographics alone: its fits skip what only answers use.
    searched = make_estimator(name).set_params(**COLD_START_ONLY.get(name, {}))
    search = GridSearchCV(
        searched, PARAM_GRIDS[name], scoring=ndcg_scorer, refit=False,
        cv=GroupKFold(INNER_FOLDS, shuffle=True, random_state=seed), error_score="raise",
    )  # fmt: skip
    search.fit(train, train["score"], groups=train["rater_id"])
    estimator.set_params(**search.best_params_)
    return _plain(estimator.get_params()), time.perf_counter() - started


def fit_tuned(
    name: str, train: pd.DataFrame, *, seed: int = SEED
) -> tuple[CatalogueRecommender, dict[str, Any], float, float]:
    """Fit ``name`` on ``train`` with its tuned_params; returns the estimator, the chosen
    params and timings."""
    params, tune_seconds = tuned_params(name, train, seed=seed)
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
    name: str, train: pd.DataFrame, test: pd.DataFrame, *, seed: int, n_movies: int
) -> tuple[dict[str, Any], CatalogueRecommender]:
    """The fold's cold-start figures, and the fitted estimator (for answer_protocols)."""
    estimator, params, fit_seconds, tune_seconds = fit_tuned(name, train, seed=seed)
    return {
        **score_fold(estimator, test, n_movies=n_movies),
        "fit_seconds": fit_seconds,
        "tune_seconds": tune_seconds,
        "request_ms": request_milliseconds(estimator, test),
        "params": params,
    }, estimator


def learns_from_answers(estimator: CatalogueRecommender) -> bool:
    return hasattr(estimator.scorer_, "next_questions")


def _as_answer(movie_id: int, score: int | None) -> Answer:
    """A simulated person's answer: their rating if they rated the movie, else not seen."""
    if score:
        return Answer(movie_id=int(movie_id), rating=int(score), seen=True)
    return Answer(movie_id=int(movie_id), rating=None, seen=False)


def _answered_ndcg(
    estimator: CatalogueRecommender,
    profile: dict[str, Any],
    answers: Sequence[Answer],
    liked_ids: np.ndarray,
) -> tuple[float, float] | None:
    """(NDCG@10 with the answers, demographic-only NDCG@10), the answered movies out of
    both rankings and the relevant set; None when nothing relevant is left."""
    answered = {answer.movie_id for answer in answers}
    relevant = np.setdiff1d(liked_ids, list(answered))
    if not len(relevant):
        return None
    # A given movie that no train rater rated is unknown to the model: nothing to mask.
    ids = estimator.movie_ids_
    columns = np.searchsorted(ids, list(answered)).clip(max=len(ids) - 1)
    columns = columns[np.isin(ids[columns], list(answered))]
    prior = estimator.scorer_.score_profiles([profile])[0].astype(np.float64)
    prior[columns] = -np.inf
    rows = np.vstack([estimator.scorer_.score(profile, answers), prior])
    hits = np.isin(estimator.movie_ids_[top_k(rows, K)], relevant)
    model, demographic_only = ndcg_at_k(hits, [len(relevant)] * 2, K).tolist()
    return model, demographic_only


def answer_protocols(estimator: CatalogueRecommender, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per test rater, (model, demographic-only) NDCG@10 for each protocol: "interview-k"
    for k = 1..CURVE_QUESTIONS (INTERVIEW_KS are the reported ones) and "first-k" for
    FIRST_KS; each an array of raters x 2 (raters with nothing relevant left skipped)."""
    scorer = estimator.scorer_
    pairs: dict[str, list[tuple[float, float] | None]] = {
        f"interview-{k}": [] for k in range(1, CURVE_QUESTIONS + 1)
    }
    pairs |= {f"first-{k}": [] for k in FIRST_KS}
    ordered = test.sort_values(["rater_id", "rated_at", "movie_id"], kind="stable")
    for _, mine in ordered.groupby("rater_id", sort=True):
        profile = cast(dict[str, Any], mine.iloc[0][DEMOGRAPHICS].to_dict())
        scores = dict(zip(mine["movie_id"].tolist(), mine["score"].tolist(), strict=True))
        liked_ids = mine["movie_id"].to_numpy()[mine["score"].to_numpy() >= POSITIVE_SCORE]
        answers: list[Answer] = []
        for k in range(1, CURVE_QUESTIONS + 1):
            asked = scorer.next_questions(profile, answers, 1)  # exactly as the API
            if not len(asked):
                break  # a catalogue this small has no more to ask about
            answers.append(_as_answer(asked[0], scores.get(int(asked[0]))))
            pairs[f"interview-{k}"].append(_answered_ndcg(estimator, profile, answers, liked_ids))
        for k in FIRST_KS:
            given = [_as_answer(m, s) for m, s in list(scores.items())[:k]]
            pairs[f"first-{k}"].append(_answered_ndcg(estimator, profile, given, liked_ids))
    return {
        key: np.array([pair for pair in values if pair is not None]).reshape(-1, 2)
        for key, values in pairs.items()
    }


def bootstrap_ci(values: ArrayLike, *, seed: int = SEED) -> list[float]:
    """95 % percentile interval of the mean of ``values`` (one per rater), resampled."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (BOOTSTRAP_RESAMPLES, len(values)))].mean(1)
    return np.quantile(means, [0.025, 0.975]).tolist()


def summarise_answers(
    folds: list[dict[str, np.ndarray]], estimators: list[CatalogueRecommender], *, seed: int
) -> dict[str, Any]:
    """Fold means of each protocol, its lift over the demographic-only ranking with a
    paired bootstrap CI (raters pooled over folds), the NDCG curve over 0..CURVE_QUESTIONS
    questions, and what each fold's model learned (its blends and first questions)."""
    protocols: dict[str, dict[str, Any]] = {}
    for key in folds[0]:
        pooled = np.vstack([fold[key] for fold in folds])
        if not all(len(fold[key]) for fold in folds):
            protocols[key] = {"raters": len(pooled)}  # a fold with nobody to measure
            continue
        model = [fold[key][:, 0].mean() for fold in folds]
        prior = [fold[key][:, 1].mean() for fold in folds]
        protocols[key] = {
            "model": np.mean(model),
            "demographic_only": np.mean(prior),
            "lift": np.mean(model) - np.mean(prior),
            "lift_ci95": bootstrap_ci(pooled[:, 0] - pooled[:, 1], seed=seed),
            "model_ci95": bootstrap_ci(pooled[:, 0], seed=seed),
            "folds_model": model,
            "folds_demographic_only": prior,
            "raters": len(pooled),
        }
    return _plain(
        {
            "protocol": {
                "interview_k": list(INTERVIEW_KS),
                "first_k": list(FIRST_KS),
                "bootstrap": f"paired per rater, {BOOTSTRAP_RESAMPLES} resamples, seed {seed}",
            },
            "protocols": protocols,
            "learned": [_learned(est.scorer_.interview, est.movie_ids_) for est in estimators],
        }
    )


def _learned(interview: Interview, movie_ids: np.ndarray) -> dict[str, Any]:
    """A fold's learned settings, each as its fields' values in order (how the committed
    report records them), and its first questions' movie ids."""
    return {
        "blend": [*astuple(interview.interview_blend), *astuple(interview.volunteered_blend)],
        "prefix": astuple(interview.prefix.setting),
        "volunteered": astuple(interview.volunteered.setting),
        "questions": movie_ids[interview.questions[:CURVE_QUESTIONS]],
    }


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
    """Yield (train, test) rating frames of the protocol's folds over raters."""
    raters = np.unique(frame["rater_id"].to_numpy())
    if len(raters) < N_FOLDS:
        raise EvaluationError(
            f"The protocol needs at least {N_FOLDS} raters; the database has {len(raters)}."
        )
    for train_at, test_at in KFold(N_FOLDS, shuffle=True, random_state=seed).split(raters):
        yield (
            frame[frame["rater_id"].isin(raters[train_at])],
            frame[frame["rater_id"].isin(raters[test_at])],
        )


SUMMARISED = [*RANKING_METRICS, "coverage", "fit_seconds", "tune_seconds", "request_ms"]


def evaluate_algorithms(
    frame: pd.DataFrame, algorithms: list[str], *, seed: int = SEED, progress: bool | None = None
) -> dict[str, Any]:
    """Run the protocol for each algorithm on a ratings frame (recommender.selectors.rating_frame
    reads one from the database)."""
    folds = list(rater_folds(frame, seed=seed))
    n_movies = frame["movie_id"].nunique()
    report: dict[str, Any] = {
        "protocol": {
            "folds": N_FOLDS,
            "seed": seed,
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
        total=len(algorithms) * N_FOLDS, desc="evaluate",
        disable=None if progress is None else not progress,
    )  # fmt: skip
    with bar:
        for name in algorithms:
            runs, answered, learners = [], [], []
            for number, (train, test) in enumerate(folds, start=1):
                bar.set_postfix_str(f"{name} fold {number}")
                run, estimator = evaluate_fold(name, train, test, seed=seed, n_movies=n_movies)
                runs.append(run)
                if name == DEFAULT_ALGORITHM and learns_from_answers(estimator):
                    bar.set_postfix_str(f"{name} fold {number} answers")
                    answered.append(answer_protocols(estimator, test))
                    learners.append(estimator)
                bar.update()
            report["algorithms"][name] = _summarise(runs)
            if answered:
                report["answers"] = summarise_answers(answered, learners, seed=seed)
            if name in PARAM_GRIDS:
                bar.set_postfix_str(f"{name} on all raters")
                report["algorithms"][name]["params_on_all_raters"] = tuned_params(
                    name, frame, seed=seed
                )[0]
    return report


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    table = pd.DataFrame([{m: run[m] for m in SUMMARISED} for run in runs])
    curves = {c: np.mean([run["curves"][c] for run in runs], axis=0) for c in ("ndcg", "recall")}
    return _plain(
        {
            "mean": table.mean().to_dict(),
            "std": table.std(ddof=0).to_dict(),
            "folds": [
                {key: value for key, value in run.items() if key != "curves"} for run in runs
            ],
            "curves": curves,
        }
    )


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON-ready Python values, floats rounded to 6 places."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 6)
    return value
