"""Cold-start recommenders as scikit-learn estimators.

Every estimator is fitted on a ratings frame ``X`` (columns ``movie_id``, ``rater_id``,
``age``, ``gender``, ``occupation``; one row per rating; optionally domain.SOURCE, the person
a resampled rater copies) with ``y`` the scores 1-5, and ranks
the movies it saw (``movie_ids_``, ascending) for new people given only demographics:
``score_profiles(profiles)`` returns one row of scores per profile, higher is better.
Fitting leaves that ranking in ``scorer_`` (coldstart/scoring.py), which is what the
artifact stores and serving uses, without scikit-learn.
"""

from collections.abc import Callable
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from coldstart.answers import Interview
from coldstart.baselines import NearestRaters
from coldstart.domain import DEMOGRAPHICS, FIRST_KS, POSITIVE_SCORE, SOURCE, UNKNOWN_TITLE
from coldstart.interview import ALL_PARTS, Parts, fit_interview
from coldstart.scoring import DemographicScorer, FixedScores, InterviewScorer, Profiles

# What a first-k answer set can be, at most (fit tunes the blend for volunteered answers).
FIRST_RATINGS = max(FIRST_KS)
# Raters the interview learns from, at most (ml-100k has 943, MovieLens-1M 6,040, of whom
# a fold trains on 4,832): see _fit_interview.
INTERVIEW_RATERS = 6000


class CatalogueRecommender(BaseEstimator):  # type: ignore[misc]  # scikit-learn: untyped
    """Shared plumbing: the movie index and per-row prediction from catalogue scores."""

    def _index_movies(self, X: pd.DataFrame) -> np.ndarray:
        self.movie_ids_ = np.unique(X["movie_id"].to_numpy(np.int64))
        return np.searchsorted(self.movie_ids_, X["movie_id"].to_numpy())

    def score_profiles(self, profiles: Profiles) -> np.ndarray:
        check_is_fitted(self)
        return self.scorer_.score_profiles(profiles)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Score of each (profile, movie) row of X, for scikit-learn compatibility."""
        scores = self.score_profiles(X)
        columns = np.searchsorted(self.movie_ids_, X["movie_id"].to_numpy())
        return scores[np.arange(len(X)), columns]


class PopularityRecommender(CatalogueRecommender):
    """Ranks by how many ratings of at least ``min_score`` a movie has; ignores demographics."""

    def __init__(self, min_score: int = 1) -> None:
        self.min_score = min_score

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> Self:
        columns = self._index_movies(X)
        liked = np.asarray(y) >= self.min_score
        self.scorer_ = FixedScores(np.bincount(columns[liked], minlength=len(self.movie_ids_)))
        return self


class DampedMeanRecommender(CatalogueRecommender):
    """Ranks by mean rating shrunk towards the global mean by ``damping`` pseudo-ratings.

    The default is what evaluate_model's inner search chose: a weak damping lifts movies
    that a handful of people rated 5.
    """

    def __init__(self, damping: float = 1000.0) -> None:
        self.damping = damping

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> Self:
        columns = self._index_movies(X)
        y = np.asarray(y, dtype=np.float64)
        counts = np.bincount(columns, minlength=len(self.movie_ids_))
        sums = np.bincount(columns, weights=y, minlength=len(self.movie_ids_))
        self.scorer_ = FixedScores((sums + self.damping * y.mean()) / (counts + self.damping))
        return self


class SeedRandomForest(CatalogueRecommender, RegressorMixin):  # type: ignore[misc]
    """The prototype's model: one-hot age/gender/occupation/movie → predicted rating."""

    def __init__(
        self, n_estimators: int = 10, random_state: int = 0, n_jobs: int | None = None
    ) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        return X[[*DEMOGRAPHICS, "movie_id"]].astype(str)

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> Self:
        # Imported here: they are a large share of every training run's start-up, and only
        # this model uses them.
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.preprocessing import OneHotEncoder

        self._index_movies(X)
        self.encoder_ = OneHotEncoder(handle_unknown="ignore").fit(self._features(X))
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=self.n_jobs
        ).fit(self.encoder_.transform(self._features(X)), np.asarray(y))
        self.scorer_ = self  # it ranks with scikit-learn: serving it imports scikit-learn
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return self.forest_.predict(self.encoder_.transform(self._features(X)))

    def score_profiles(self, profiles: Profiles) -> np.ndarray:
        check_is_fitted(self)
        if not isinstance(profiles, pd.DataFrame):
            profiles = pd.DataFrame(list(profiles))
        frame = profiles[DEMOGRAPHICS]
        n_movies = len(self.movie_ids_)
        rows = frame.loc[frame.index.repeat(n_movies)].reset_index(drop=True)
        rows["movie_id"] = np.tile(self.movie_ids_, len(frame))
        return self.predict(rows).reshape(len(frame), n_movies)


class DemographicPopularity(CatalogueRecommender):
    """Popularity of positive ratings among raters who resemble the new person, moved by
    their answers about a few movies when they give some.

    Each training rater is weighted by a Gaussian kernel on age (``age_bandwidth``
    years) times ``gender_weight`` if the gender differs and ``occupation_weight`` if
    the occupation differs; the local score of a movie is the weighted share of raters
    who rated it ≥ 4. ``contrast`` calibrates it against the global share:
    ``global + contrast * (local - global)``. 0 is plain positive popularity, 1 the local
    share, and above 1 stresses what sets the look-alikes apart from everyone, which
    undoes the blur of a kernel wide enough to be stable; a rare movie still needs many
    look-alikes who liked it before it moves. Gender ``O`` is absent from ml-100k: it
    weighs both genders equally instead of guessing one.

    The interview (coldstart/interview/) learns which ``n_questions`` movies to ask
    about, chosen among the ``n_candidates`` most-rated titles (more in a larger
    catalogue: interview.fit.search_candidates), and a rank-``rank`` factor
    model of how answers move the ranking; ``n_questions=0`` learns none of it. Its blends
    are tuned inside ``fit`` on the training raters; ``random_state`` splits them.

    ``parts`` and ``interview_raters`` (class attributes, not parameters: get_params and
    the reports leave them out) say which parts of the interview model are fitted and from
    at most how many raters, all of them and INTERVIEW_RATERS but in bench/ablation.py,
    which sets them on an instance to measure what a part or the cap is worth.

    The demographic defaults are what the inner-split search of ``evaluate_model``
    (PARAM_GRIDS) chose on all of ml-100k's raters (see recommender/quality_ml100k.json).
    The interview's are fixed, from the research behind docs/quality.md (which says how
    they were chosen); what it learns from data is fitted on the training raters only.
    """

    parts: Parts = ALL_PARTS
    interview_raters: int = INTERVIEW_RATERS

    def __init__(
        self,
        age_bandwidth: float = 8.0,
        gender_weight: float = 0.1,
        occupation_weight: float = 0.2,
        contrast: float = 1.0,
        n_questions: int = 10,
        n_candidates: int = 50,
        rank: int = 32,
        random_state: int = 0,
    ) -> None:
        self.age_bandwidth = age_bandwidth
        self.gender_weight = gender_weight
        self.occupation_weight = occupation_weight
        self.contrast = contrast
        self.n_questions = n_questions
        self.n_candidates = n_candidates
        self.rank = rank
        self.random_state = random_state

    def _demographic(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in DEMOGRAPHIC_PARAMS}

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> Self:
        columns = self._index_movies(X)
        _, rater_rows = np.unique(X["rater_id"].to_numpy(), return_inverse=True)
        # Each rater's demographics, and their source person where the frame says it.
        person = [*DEMOGRAPHICS, SOURCE] if SOURCE in X else DEMOGRAPHICS
        people = X.iloc[np.unique(rater_rows, return_index=True)[1]][person]
        liked = np.asarray(y) >= POSITIVE_SCORE
        demographic: dict[str, Any] = {
            "rater_age": people["age"].to_numpy(),
            "rater_gender": people["gender"].to_numpy(),
            "rater_occupation": people["occupation"].to_numpy(),
            "liked_raters": rater_rows[liked],
            "liked_movies": columns[liked],
            "n_movies": len(self.movie_ids_),
            **self._demographic(),
        }
        if not self.n_questions:
            self.scorer_ = DemographicScorer(**demographic)
            return self
        # One BLAS thread: the factor model's products are small, and more threads mostly
        # spin, which costs CPU on a shared machine without saving time.
        with threadpool_limits(1, user_api="blas"):
            interview = self._fit_interview(X, y, columns, rater_rows, people)
        self.scorer_ = InterviewScorer(
            movie_ids=self.movie_ids_, interview=interview, **demographic
        )
        return self

    def _fit_interview(
        self,
        X: pd.DataFrame,
        y: ArrayLike,
        columns: np.ndarray,
        rater_rows: np.ndarray,
        people: pd.DataFrame,
    ) -> Interview:
        firsts = np.unique(columns, return_index=True)[1]  # a rating of each movie, by id
        titles = X["title"].iloc[firsts].to_numpy() if "title" in X else self.movie_ids_.astype(str)
        title_group = pd.factorize(titles)[0]
        genres = movie_genres(X, firsts)
        if len(people) > self.interview_raters:
            # Learned from a seeded sample of raters: memory and time stay bounded as the
            # ratings grow (its tables are raters x movies), the demographic part sees all.
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(len(people), self.interview_raters, replace=False))
            sampled = np.isin(rater_rows, rows)
            X, y, columns = X[sampled], np.asarray(y)[sampled], columns[sampled]
            rater_rows, people = np.searchsorted(rows, rater_rows[sampled]), people.iloc[rows]
        ratings = np.zeros((len(people), len(self.movie_ids_)), dtype=np.int8)
        ratings[rater_rows, columns] = np.asarray(y)

        def prior(fit_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
            """Demographic scores of ``rows`` by a prior fitted on ``fit_rows`` only."""
            raters, movies = np.nonzero(ratings[fit_rows] >= POSITIVE_SCORE)
            scorer = DemographicScorer(
                rater_age=people["age"].to_numpy()[fit_rows],
                rater_gender=people["gender"].to_numpy()[fit_rows],
                rater_occupation=people["occupation"].to_numpy()[fit_rows],
                liked_raters=raters,
                liked_movies=movies,
                n_movies=ratings.shape[1],
                **self._demographic(),
            )
            return scorer.score_profiles(people.iloc[rows]).astype(np.float32)

        unknown = np.flatnonzero(titles == UNKNOWN_TITLE)
        person_of = people[SOURCE].to_numpy() if SOURCE in people else None
        questions = None
        if not self.parts.own_list:
            baseline = NearestRaters(n_questions=self.n_questions, seed=self.random_state)
            baseline.fit(ratings, self.movie_ids_, title_group, unknown, person_of)
            questions = baseline.questions_[: self.n_questions]
        return fit_interview(
            ratings,
            first_ratings(X, columns, rater_rows),
            title_group,
            unknown,
            prior,
            genres,
            rank=self.rank,
            n_questions=self.n_questions,
            n_candidates=self.n_candidates,
            seed=self.random_state,
            parts=self.parts,
            person_of=person_of,
            questions=questions,
        )


DEMOGRAPHIC_PARAMS = ("age_bandwidth", "gender_weight", "occupation_weight", "contrast")


def movie_genres(X: pd.DataFrame, firsts: np.ndarray) -> np.ndarray:
    """Each movie's genre flags (movies x genres by name) from the ``genres`` column of
    ratings ("|"-joined names, as selectors.rating_frame gives them) at ``firsts``, one
    rating's row of each movie; no genres without that column."""
    if "genres" not in X:
        return np.zeros((len(firsts), 0), dtype=np.float32)
    joined = X["genres"].iloc[firsts].astype(object).reset_index(drop=True)
    names = joined.fillna("").str.split("|")
    flags = pd.get_dummies(names.explode()).groupby(level=0).max()
    return flags.drop(columns="", errors="ignore").to_numpy(dtype=np.float32)


def first_ratings(
    X: pd.DataFrame, columns: np.ndarray, rater_rows: np.ndarray, k: int = FIRST_RATINGS
) -> list[np.ndarray]:
    """Each rater's first ``k`` rated columns, in time order and ties by movie."""
    ordered = pd.DataFrame(
        {"row": rater_rows, "at": X["rated_at"].to_numpy(), "col": columns}
    ).sort_values(["row", "at", "col"], kind="stable")
    firsts = ordered.groupby("row", sort=True).head(k)
    counts = np.bincount(firsts["row"].to_numpy(), minlength=rater_rows.max() + 1)
    return np.split(firsts["col"].to_numpy(), np.cumsum(counts)[:-1])


ALGORITHMS: dict[str, Callable[[], CatalogueRecommender]] = {
    "demographic-popularity": DemographicPopularity,
    "popularity": PopularityRecommender,
    "positive-popularity": lambda: PopularityRecommender(min_score=POSITIVE_SCORE),
    "damped-mean": DampedMeanRecommender,
    "seed-rf": SeedRandomForest,
}
DEFAULT_ALGORITHM = "demographic-popularity"

# Hyper-parameters evaluate_model tunes on the train raters of each fold (an inner split
# over raters); algorithms not listed run with their defaults. The inner search scores
# demographics alone, so its fits skip what only answers use (COLD_START_ONLY).
PARAM_GRIDS = {
    "demographic-popularity": {
        "age_bandwidth": [5.0, 8.0, 12.0],
        "gender_weight": [0.1, 0.3, 0.6],
        "occupation_weight": [0.2, 0.5],
        "contrast": [1.0, 1.5, 2.0],
    },
    "damped-mean": {"damping": [10.0, 100.0, 1000.0]},
}


COLD_START_ONLY = {"demographic-popularity": {"n_questions": 0}}


def make_estimator(name: str) -> CatalogueRecommender:
    """A fresh, unfitted estimator for an algorithm name (see ALGORITHMS)."""
    return ALGORITHMS[name]()
