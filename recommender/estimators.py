"""Cold-start recommenders as scikit-learn estimators.

Every estimator is fitted on a ratings frame ``X`` (columns ``movie_id``, ``age``,
``gender``, ``occupation``; one row per rating) with ``y`` the scores 1-5, and ranks the
movies it saw (``movie_ids_``, ascending) for new people given only demographics:
``score_profiles(profiles)`` returns one row of scores per profile, higher is better.
"""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

from movies.models import OCCUPATIONS

POSITIVE_SCORE = 4
DEMOGRAPHICS = ["age", "gender", "occupation"]


def _profiles_frame(profiles) -> pd.DataFrame:
    """Accepts a frame or a list of dicts with age, gender and occupation."""
    frame = profiles if isinstance(profiles, pd.DataFrame) else pd.DataFrame(list(profiles))
    return frame[DEMOGRAPHICS]


def _profile_columns(profiles) -> dict[str, np.ndarray]:
    """Like _profiles_frame but as plain arrays: pandas costs more than scoring one person."""
    if isinstance(profiles, pd.DataFrame):
        return {name: profiles[name].to_numpy() for name in DEMOGRAPHICS}
    profiles = list(profiles)
    return {name: np.array([p[name] for p in profiles]) for name in DEMOGRAPHICS}


class _CatalogueRecommender(BaseEstimator):
    """Shared plumbing: the movie index and per-row prediction from catalogue scores."""

    def _index_movies(self, X):
        self.movie_ids_ = np.unique(X["movie_id"].to_numpy())
        return np.searchsorted(self.movie_ids_, X["movie_id"].to_numpy())

    def predict(self, X):
        """Score of each (profile, movie) row of X, for scikit-learn compatibility."""
        check_is_fitted(self)
        scores = self.score_profiles(X)
        columns = np.searchsorted(self.movie_ids_, X["movie_id"].to_numpy())
        return scores[np.arange(len(X)), columns]


class PopularityRecommender(_CatalogueRecommender):
    """Ranks by how many ratings of at least ``min_score`` a movie has; ignores demographics."""

    def __init__(self, min_score=1):
        self.min_score = min_score

    def fit(self, X, y):
        columns = self._index_movies(X)
        liked = np.asarray(y) >= self.min_score
        self.counts_ = np.bincount(columns[liked], minlength=len(self.movie_ids_)).astype(
            np.float32
        )
        return self

    def score_profiles(self, profiles):
        check_is_fitted(self)
        return np.tile(self.counts_, (len(_profile_columns(profiles)["age"]), 1))


class DampedMeanRecommender(_CatalogueRecommender):
    """Ranks by mean rating shrunk towards the global mean by ``damping`` pseudo-ratings.

    The default is what evaluate_model's inner search chose: a weak damping lifts movies
    that a handful of people rated 5.
    """

    def __init__(self, damping=1000.0):
        self.damping = damping

    def fit(self, X, y):
        columns = self._index_movies(X)
        y = np.asarray(y, dtype=np.float64)
        counts = np.bincount(columns, minlength=len(self.movie_ids_))
        sums = np.bincount(columns, weights=y, minlength=len(self.movie_ids_))
        self.means_ = ((sums + self.damping * y.mean()) / (counts + self.damping)).astype(
            np.float32
        )
        return self

    def score_profiles(self, profiles):
        check_is_fitted(self)
        return np.tile(self.means_, (len(_profile_columns(profiles)["age"]), 1))


class SeedRandomForest(_CatalogueRecommender, RegressorMixin):
    """The prototype's model: one-hot age/gender/occupation/movie → predicted rating."""

    def __init__(self, n_estimators=10, random_state=0, n_jobs=None):
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _features(self, X):
        return X[[*DEMOGRAPHICS, "movie_id"]].astype(str)

    def fit(self, X, y):
        self._index_movies(X)
        self.encoder_ = OneHotEncoder(handle_unknown="ignore").fit(self._features(X))
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=self.n_jobs
        ).fit(self.encoder_.transform(self._features(X)), np.asarray(y))
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.forest_.predict(self.encoder_.transform(self._features(X)))

    def score_profiles(self, profiles):
        check_is_fitted(self)
        frame = _profiles_frame(profiles)
        n_movies = len(self.movie_ids_)
        rows = frame.loc[frame.index.repeat(n_movies)].reset_index(drop=True)
        rows["movie_id"] = np.tile(self.movie_ids_, len(frame))
        return self.predict(rows).reshape(len(frame), n_movies)


class DemographicPopularity(_CatalogueRecommender):
    """Popularity of positive ratings among raters who resemble the new person.

    Each training rater is weighted by a Gaussian kernel on age (``age_bandwidth``
    years) times ``gender_weight`` if the gender differs and ``occupation_weight`` if
    the occupation differs; the local score of a movie is the weighted share of raters
    who rated it ≥ 4. ``contrast`` calibrates it against the global share:
    ``global + contrast * (local - global)``. 0 is plain positive popularity, 1 the local
    share, and above 1 stresses what sets the look-alikes apart from everyone, which
    undoes the blur of a kernel wide enough to be stable; a rare movie still needs many
    look-alikes who liked it before it moves. Gender ``O`` is absent from ml-100k: it
    weighs both genders equally instead of guessing one.

    The defaults are what the inner-split search of ``evaluate_model`` (PARAM_GRIDS)
    chose on all of ml-100k's raters (see recommender/quality_ml100k.json).
    """

    def __init__(self, age_bandwidth=8.0, gender_weight=0.1, occupation_weight=0.2, contrast=1.0):
        self.age_bandwidth = age_bandwidth
        self.gender_weight = gender_weight
        self.occupation_weight = occupation_weight
        self.contrast = contrast

    def fit(self, X, y):
        columns = self._index_movies(X)
        raters, rater_rows = np.unique(X["rater_id"].to_numpy(), return_inverse=True)
        first_row = np.unique(rater_rows, return_index=True)[1]
        people = X.iloc[first_row]
        self.rater_age_ = people["age"].to_numpy(np.float32)
        self.rater_gender_ = people["gender"].to_numpy().astype("U1")
        self.rater_occupation_ = _occupation_codes(people["occupation"])
        liked = np.asarray(y) >= POSITIVE_SCORE
        self.liked_ = sparse.csr_matrix(
            (np.ones(liked.sum(), np.float32), (rater_rows[liked], columns[liked])),
            shape=(len(raters), len(self.movie_ids_)),
        )
        self.global_share_ = np.asarray(self.liked_.mean(axis=0)).ravel()
        return self

    def rater_weights(self, profiles) -> np.ndarray:
        """Similarity of each profile (rows) to each training rater (columns)."""
        check_is_fitted(self)
        columns = _profile_columns(profiles)
        age = columns["age"].astype(np.float32)[:, None]
        weights = np.exp(-0.5 * ((age - self.rater_age_) / self.age_bandwidth) ** 2)
        gender = columns["gender"].astype("U1")[:, None]
        same_gender = (gender == self.rater_gender_) | (gender == "O")
        weights *= np.where(same_gender, 1.0, self.gender_weight)
        occupation = _occupation_codes(columns["occupation"])[:, None]
        weights *= np.where(occupation == self.rater_occupation_, 1.0, self.occupation_weight)
        return weights.astype(np.float32)

    def score_profiles(self, profiles):
        weights = self.rater_weights(profiles)
        local = (self.liked_.T @ weights.T).T / weights.sum(axis=1, keepdims=True)
        return self.global_share_ + self.contrast * (local - self.global_share_)


_OCCUPATION_CODES = {name: i for i, name in enumerate(OCCUPATIONS)}


def _occupation_codes(values) -> np.ndarray:
    return np.array([_OCCUPATION_CODES.get(v, -1) for v in values], dtype=np.int8)


ALGORITHMS = {
    "demographic-popularity": DemographicPopularity,
    "popularity": PopularityRecommender,
    "positive-popularity": lambda: PopularityRecommender(min_score=POSITIVE_SCORE),
    "damped-mean": DampedMeanRecommender,
    "seed-rf": SeedRandomForest,
}
DEFAULT_ALGORITHM = "demographic-popularity"

# Hyper-parameters evaluate_model tunes on the train raters of each fold (an inner split
# over raters); algorithms not listed run with their defaults.
PARAM_GRIDS = {
    "demographic-popularity": {
        "age_bandwidth": [5.0, 8.0, 12.0],
        "gender_weight": [0.1, 0.3, 0.6],
        "occupation_weight": [0.2, 0.5],
        "contrast": [1.0, 1.5, 2.0],
    },
    "damped-mean": {"damping": [10.0, 100.0, 1000.0]},
}


def make_estimator(name: str):
    """A fresh, unfitted estimator for an algorithm name (see ALGORITHMS)."""
    return ALGORITHMS[name]()
