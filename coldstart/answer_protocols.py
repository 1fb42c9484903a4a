"""A model that learns from answers (the default) measured with answers, on the folds of the
evaluation (coldstart/evaluation.py), by ``answer_protocols``: an interview of k questions
picked by the model's own ``next_questions``, one at a time exactly as the API would, each
answered with the test rater's real rating, else "not seen"; and the rater's first k ratings
in time order (ties by movie id) as answers. Each against the demographic-only ranking on
the same raters and relevant sets: the answered movies leave the ranking and the relevant
set, and raters with nothing relevant left are skipped. Confidence intervals are a paired
per-rater bootstrap, raters pooled over the folds.

Two checks of what that simulation assumes, at INTERVIEW_KS questions: the same interview
ranked only among the movies each rater rated ("among-rated": what is left of the lift once
knowing which movies a person rates is no help), and an interview where a seeded share of
the "not seen" answers is "seen, no opinion" instead ("no-opinion").

The simulated person (``people``), their interview and first answers, and NDCG@10 with
the answered movies left out (``answered_ndcg``) are the benches' simulation too.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from coldstart.answers import GivenAnswer, Interview
from coldstart.domain import DEMOGRAPHICS, FIRST_KS, INTERVIEW_KS, POSITIVE_SCORE, K
from coldstart.estimators import CatalogueRecommender
from coldstart.metrics import ndcg_at_k, top_k
from coldstart.plain import plain
from coldstart.serving import Answer

CURVE_QUESTIONS = max(INTERVIEW_KS)  # the NDCG curve runs over 0..CURVE_QUESTIONS questions
BOOTSTRAP_RESAMPLES = 2000
AMONG_RATED, NO_OPINION = "among-rated", "no-opinion"  # the checks' protocol names
NO_OPINION_SHARE = 0.25  # of the "not seen" answers, answered "seen, no opinion" instead
# The protocols quoted in docs/quality.md and the model card, and the checks beside them.
REPORTED = [*(f"interview-{k}" for k in INTERVIEW_KS), *(f"first-{k}" for k in FIRST_KS)]
CHECKED = [f"interview-{k}-{check}" for check in (AMONG_RATED, NO_OPINION) for k in INTERVIEW_KS]


def learns_from_answers(estimator: CatalogueRecommender) -> bool:
    return hasattr(estimator.scorer_, "next_questions")


class Interviewer(Protocol):
    """What the simulation asks and ranks with: a fitted model's ``scorer_``
    (scoring.InterviewScorer) or the baseline (baselines.NearestRaters)."""

    def score(self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer]) -> np.ndarray: ...

    def next_questions(
        self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer], n: int
    ) -> np.ndarray: ...


def as_answer(movie_id: int, score: int | None) -> Answer:
    """A simulated person's answer: their rating if they rated the movie, else not seen."""
    if score:
        return Answer(movie_id=int(movie_id), rating=int(score), seen=True)
    return Answer(movie_id=int(movie_id), rating=None, seen=False)


@dataclass(frozen=True)
class Person:
    """A held-out rater as the simulation reads them."""

    rater_id: int
    profile: dict[str, Any]
    scores: dict[int, int]  # movie id -> rating, in time order (ties by movie id)
    liked_ids: np.ndarray
    rated_ids: np.ndarray

    @classmethod
    def of(cls, mine: pd.DataFrame) -> "Person":
        movies, scores = mine["movie_id"].to_numpy(), mine["score"].to_numpy()
        return cls(
            rater_id=int(mine["rater_id"].iloc[0]),
            profile=cast(dict[str, Any], mine.iloc[0][DEMOGRAPHICS].to_dict()),
            scores=dict(zip(movies.tolist(), scores.tolist(), strict=True)),
            liked_ids=movies[scores >= POSITIVE_SCORE],
            rated_ids=movies,
        )


def people(ratings: pd.DataFrame) -> Iterator[Person]:
    """Each rater of ``ratings``, by rater id, their ratings in time order."""
    ordered = ratings.sort_values(["rater_id", "rated_at", "movie_id"], kind="stable")
    for _, mine in ordered.groupby("rater_id", sort=True):
        yield Person.of(mine)


def first_answers(person: Person, k: int) -> list[Answer]:
    """The person's first ``k`` ratings in time order, as answers."""
    return [as_answer(movie, score) for movie, score in list(person.scores.items())[:k]]


def real_answers(person: Person) -> Callable[[int], Answer]:
    """The person's answer: their rating if they rated the movie, else "not seen"."""
    return lambda movie_id: as_answer(movie_id, person.scores.get(movie_id))


def interview(
    scorer: Interviewer, person: Person, answer: Callable[[int], Answer]
) -> list[list[Answer]]:
    """The answers after each question, up to CURVE_QUESTIONS, each picked exactly as the
    API would for the answers so far and answered by ``answer``."""
    answers: list[Answer] = []
    rounds: list[list[Answer]] = []
    for _ in range(CURVE_QUESTIONS):
        asked = scorer.next_questions(person.profile, answers, 1)
        if not len(asked):
            break  # a catalogue this small has no more to ask about
        answers = [*answers, answer(int(asked[0]))]
        rounds.append(answers)
    return rounds


def answered_ndcg(
    rows: np.ndarray, movie_ids: np.ndarray, person: Person, answers: Sequence[Answer]
) -> np.ndarray:
    """NDCG@10 of each row of scores over ``movie_ids``, the answered movies out of the
    relevant set (out of the ranking is the scores' part); NaN when nothing is left."""
    relevant = np.setdiff1d(person.liked_ids, [answer.movie_id for answer in answers])
    if not len(relevant):
        return np.full(len(rows), np.nan)
    hits = np.isin(movie_ids[top_k(rows, K)], relevant)
    return ndcg_at_k(hits, [len(relevant)] * len(rows), K)


def _against_prior(
    estimator: CatalogueRecommender,
    person: Person,
    answers: Sequence[Answer],
    prior: np.ndarray,
    among: np.ndarray | None = None,
) -> np.ndarray:
    """(NDCG@10 with the answers, demographic-only NDCG@10), the answered movies out of
    both rankings and the relevant set, both ranking only the movies ``among`` when given
    (``prior``: the person's demographic-only scores, left as they are)."""
    answered = [answer.movie_id for answer in answers]
    # A given movie that no train rater rated is unknown to the model: nothing to mask.
    ids = estimator.movie_ids_
    columns = np.searchsorted(ids, answered).clip(max=len(ids) - 1)
    columns = columns[np.isin(ids[columns], answered)]
    prior = prior.copy()
    prior[columns] = -np.inf
    rows = np.vstack([estimator.scorer_.score(person.profile, answers), prior])
    if among is not None:
        rows[:, ~np.isin(ids, among)] = -np.inf
    return answered_ndcg(rows, ids, person, answers)


def _unsure_answers(person: Person, *, seed: int) -> Callable[[int], Answer]:
    """The person's answer, except that a seeded share of their "not seen" answers is
    "seen, no opinion": a person who recognises a title without having rated it."""
    rng = np.random.default_rng([seed, person.rater_id])

    def answer(movie_id: int) -> Answer:
        score = person.scores.get(movie_id)
        if not score and rng.random() < NO_OPINION_SHARE:
            return Answer(movie_id=movie_id, rating=None, seen=True)
        return as_answer(movie_id, score)

    return answer


def answer_protocols(
    estimator: CatalogueRecommender, test: pd.DataFrame, *, seed: int
) -> dict[str, np.ndarray]:
    """Per test rater, (model, demographic-only) NDCG@10 for each protocol: "interview-k"
    for k = 1..CURVE_QUESTIONS (INTERVIEW_KS are the reported ones), "first-k" for
    FIRST_KS and the CHECKED ones (``seed`` draws the no-opinion answers); each an array
    of raters x 2 (raters with nothing relevant left skipped)."""
    pairs: dict[str, list[np.ndarray]] = {
        f"interview-{k}": [] for k in range(1, CURVE_QUESTIONS + 1)
    }
    pairs |= {key: [] for key in [*(f"first-{k}" for k in FIRST_KS), *CHECKED]}
    scorer = estimator.scorer_
    for person in people(test):
        asked = interview(scorer, person, real_answers(person))
        unsure = interview(scorer, person, _unsure_answers(person, seed=seed))
        prior = scorer.score_profiles([person.profile])[0].astype(np.float64)
        for k, answers in enumerate(asked, start=1):
            pairs[f"interview-{k}"].append(_against_prior(estimator, person, answers, prior))
        for k in INTERVIEW_KS:
            if len(asked) >= k:
                pairs[f"interview-{k}-{AMONG_RATED}"].append(
                    _against_prior(estimator, person, asked[k - 1], prior, person.rated_ids)
                )
            if len(unsure) >= k:
                pairs[f"interview-{k}-{NO_OPINION}"].append(
                    _against_prior(estimator, person, unsure[k - 1], prior)
                )
        for k in FIRST_KS:
            given = first_answers(person, k)
            pairs[f"first-{k}"].append(_against_prior(estimator, person, given, prior))
    measured = {key: np.array(values).reshape(-1, 2) for key, values in pairs.items()}
    return {key: rows[~np.isnan(rows[:, 0])] for key, rows in measured.items()}


def bootstrap_ci(values: ArrayLike, *, seed: int) -> list[float]:
    """95 % percentile interval of the mean of ``values`` (one per rater), resampled."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (BOOTSTRAP_RESAMPLES, len(values)))].mean(1)
    return np.quantile(means, [0.025, 0.975]).tolist()


def paired_lift(
    full: list[dict[str, np.ndarray]], without: list[dict[str, np.ndarray]], key: str, *, seed: int
) -> dict[str, Any]:
    """One model minus another under the protocol ``key``: paired per rater over the raters
    measured under both, pooled over the seeds (one dict of per-rater figures per seed)."""
    per_seed, pooled = [], []
    for a, b in zip(full, without, strict=True):
        both = ~np.isnan(a[key]) & ~np.isnan(b[key])
        difference = a[key][both] - b[key][both]
        per_seed.append(float(difference.mean()))
        pooled.append(difference)
    values = np.concatenate(pooled)
    return {
        "lift": float(values.mean()),
        "ci95": bootstrap_ci(values, seed=seed),
        "per_seed": per_seed,
        "raters": len(values),
    }


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
    return plain(
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
