"""Ranking state for serving: what a fitted model needs to score the catalogue, in numpy.

The estimators (recommender/estimators.py) are fitted with scikit-learn, scipy and pandas,
but a serving worker needs none of them, and importing them would be most of its memory
(scikit-learn alone is about 100 MiB). So an estimator keeps its ranking state in a scorer
from this module, the artifact stores that scorer, and serving imports numpy only.

A scorer's ``score_profiles(profiles)`` takes a pandas frame or dicts with age, gender and
occupation and returns one row of scores per profile over the catalogue, higher is better.
"""

import numpy as np

from movies.models import OCCUPATIONS

DEMOGRAPHICS = ["age", "gender", "occupation"]
_OCCUPATION_CODES = {name: code for code, name in enumerate(OCCUPATIONS)}


def occupation_codes(values) -> np.ndarray:
    """Occupations as small integers; an unknown one is -1 and matches nobody."""
    return np.array([_OCCUPATION_CODES.get(value, -1) for value in values], dtype=np.int8)


def profile_columns(profiles) -> dict[str, np.ndarray]:
    """One array per demographic field. A frame is read by column (without importing
    pandas); dicts are what a request has, and cheaper than building a frame for one."""
    if hasattr(profiles, "columns"):
        return {name: profiles[name].to_numpy() for name in DEMOGRAPHICS}
    profiles = list(profiles)
    return {name: np.array([profile[name] for profile in profiles]) for name in DEMOGRAPHICS}


class FixedScores:
    """The same scores for everyone: the popularity baselines."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float32)

    def score_profiles(self, profiles):
        return np.tile(self.scores, (len(profile_columns(profiles)["age"]), 1))


class DemographicScorer:
    """Popularity of positive ratings among the training raters who resemble a profile
    (see estimators.DemographicPopularity for the meaning of the parameters).

    The positive ratings are kept as the raters who gave them, grouped by movie, so that
    a profile costs one gather of rater weights and one sum per movie (``reduceat``), as
    fast as a sparse-matrix product and without a sparse-matrix library.
    """

    def __init__(
        self,
        *,
        rater_age,
        rater_gender,
        rater_occupation,
        liked_raters,
        liked_movies,
        n_movies: int,
        age_bandwidth: float,
        gender_weight: float,
        occupation_weight: float,
        contrast: float,
    ):
        self.rater_age = np.asarray(rater_age, dtype=np.float32)
        self.rater_gender = np.asarray(rater_gender).astype("U1")
        self.rater_occupation = occupation_codes(rater_occupation)
        liked_movies = np.asarray(liked_movies, dtype=np.intp)
        by_movie = np.argsort(liked_movies, kind="stable")
        self.liked_raters = np.asarray(liked_raters, dtype=np.intp)[by_movie]
        counts = np.bincount(liked_movies, minlength=n_movies)
        # Where each movie's raters start; a movie nobody liked sums to 0 (masked below).
        self.movie_starts = (np.cumsum(counts) - counts).clip(max=max(len(by_movie) - 1, 0))
        self.liked_any = counts > 0
        self.global_share = counts / len(self.rater_age)
        self.age_bandwidth = age_bandwidth
        self.gender_weight = gender_weight
        self.occupation_weight = occupation_weight
        self.contrast = contrast

    def rater_weights(self, profiles) -> np.ndarray:
        """Similarity of each profile (rows) to each training rater (columns): a Gaussian
        kernel on age, times a weight for a different gender and one for a different
        occupation; ``O`` counts as either gender."""
        columns = profile_columns(profiles)
        age = columns["age"].astype(np.float32)[:, None]
        weights = np.exp(-0.5 * ((age - self.rater_age) / self.age_bandwidth) ** 2)
        gender = columns["gender"].astype("U1")[:, None]
        same_gender = (gender == self.rater_gender) | (gender == "O")
        weights *= np.where(same_gender, 1.0, self.gender_weight)
        occupation = occupation_codes(columns["occupation"])[:, None]
        weights *= np.where(occupation == self.rater_occupation, 1.0, self.occupation_weight)
        return weights.astype(np.float32)

    def score_profiles(self, profiles):
        weights = self.rater_weights(profiles)
        if len(self.liked_raters):
            liked = np.add.reduceat(
                np.take(weights, self.liked_raters, axis=1), self.movie_starts, axis=1
            )
            liked = np.where(self.liked_any, liked, 0.0)
        else:
            liked = np.zeros((len(weights), len(self.liked_any)))
        local = liked / weights.sum(axis=1, keepdims=True)
        return self.global_share + self.contrast * (local - self.global_share)
