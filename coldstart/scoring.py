"""Ranking state for serving: what a fitted model needs to score the catalogue, in numpy.

The estimators (coldstart/estimators.py) are fitted with scikit-learn, scipy and pandas,
but a serving worker needs none of them, and importing them would be most of its memory
(scikit-learn alone is about 100 MiB). So an estimator keeps its ranking state in a scorer
from this module, the artifact stores that scorer, and serving imports numpy only.

A scorer's ``score_profiles(profiles)`` takes a pandas frame or dicts with age, gender and
occupation and returns one row of scores per profile over the catalogue, higher is better.
The default's scorer also folds in a person's answers about movies (``score``) and says
which movies to ask about next (``next_questions``): see answers.Interview.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np

from coldstart.answers import GivenAnswer, Interview, answer_kinds
from coldstart.domain import DEMOGRAPHICS, OCCUPATIONS

# (age, gender) pairs whose share of a profile's sum a scorer keeps: every pair the API
# accepts (121 ages x 3 genders), about 9 kB each on ml-100k and 22 kB at a million ratings.
AGE_GENDER_KEPT = 512
_OCCUPATION_CODES = {name: code for code, name in enumerate(OCCUPATIONS)}

if TYPE_CHECKING:
    import pandas as pd
# A frame with the demographic columns, or one mapping per profile (what a request has).
Profiles: TypeAlias = "pd.DataFrame | Iterable[Mapping[str, Any]]"


def occupation_codes(values: Iterable[str]) -> np.ndarray:
    """Occupations as small integers; an unknown one is -1 and matches nobody."""
    return np.array([_OCCUPATION_CODES.get(value, -1) for value in values], dtype=np.int8)


def profile_columns(profiles: Profiles) -> dict[str, np.ndarray]:
    """One array per demographic field. A frame is read by column (without importing
    pandas); dicts are what a request has, and cheaper than building a frame for one."""
    if hasattr(profiles, "columns"):
        frame = cast("pd.DataFrame", profiles)
        return {name: frame[name].to_numpy() for name in DEMOGRAPHICS}
    rows = list(profiles)
    return {name: np.array([profile[name] for profile in rows]) for name in DEMOGRAPHICS}


class FixedScores:
    """The same scores for everyone: the popularity baselines."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=np.float32)

    def score_profiles(self, profiles: Profiles) -> np.ndarray:
        return np.tile(self.scores, (len(profile_columns(profiles)["age"]), 1))


class DemographicScorer:
    """Popularity of positive ratings among the training raters who resemble a profile
    (see estimators.DemographicPopularity for the meaning of the parameters).

    A rater's weight depends only on their cell (occupation, gender, age), so the positive
    ratings are kept as counts per cell and movie, and a profile costs a weighted sum over
    cells, not over ratings: the same sums, at a cost that does not grow with the ratings.
    The occupation factor is ``ow + (1 - ow) * same occupation``, which splits each sum in
    two: every (gender, age) group of cells weighted by ``ow``, plus the cells of the
    profile's own occupation weighted by ``1 - ow``; a profile reads those rows only. A
    row's last column counts its raters: the kernel's total weight is summed with the rest.
    """

    def __init__(
        self,
        *,
        rater_age: np.ndarray,
        rater_gender: np.ndarray,
        rater_occupation: np.ndarray,
        liked_raters: np.ndarray,
        liked_movies: np.ndarray,
        n_movies: int,
        age_bandwidth: float,
        gender_weight: float,
        occupation_weight: float,
        contrast: float,
    ) -> None:
        raters = np.rec.fromarrays(
            [
                occupation_codes(rater_occupation),
                np.asarray(rater_gender).astype("U1"),
                np.asarray(rater_age, dtype=np.float32),
            ],
            dtype=[("occupation", np.int8), ("gender", "U1"), ("age", np.float32)],
        )
        cells, cell_of_rater = np.unique(raters, return_inverse=True)  # by occupation first
        self.cell_counts = _counts(cell_of_rater, len(cells), liked_raters, liked_movies, n_movies)
        self.cell_gender, self.cell_age = cells["gender"], cells["age"]
        self.occupation_starts = np.searchsorted(
            cells["occupation"], np.arange(len(OCCUPATIONS) + 1)
        )
        groups, group_of_cell = np.unique(cells[["gender", "age"]], return_inverse=True)
        self.group_gender, self.group_age = groups["gender"], groups["age"]
        by_group = np.argsort(group_of_cell, kind="stable")
        starts = np.searchsorted(group_of_cell[by_group], np.arange(len(groups)))
        self.group_counts = np.add.reduceat(self.cell_counts[by_group], starts, axis=0)
        liked = np.bincount(np.asarray(liked_movies, dtype=np.intp), minlength=n_movies)
        self.global_share = liked / len(raters)
        self.age_bandwidth = age_bandwidth
        self.gender_weight = gender_weight
        self.occupation_weight = occupation_weight
        self.contrast = contrast

    def _weights(
        self, age: np.float32, gender: str, row_age: np.ndarray, row_gender: np.ndarray
    ) -> np.ndarray:
        """Similarity of a profile to rows of counts: a Gaussian kernel on age times a
        weight for a different gender; ``O`` counts as either gender."""
        weights = np.exp(-0.5 * ((age - row_age) / self.age_bandwidth) ** 2)
        same_gender = (gender == row_gender) | (gender == "O")
        return (weights * np.where(same_gender, 1.0, self.gender_weight)).astype(np.float32)

    def score_profiles(self, profiles: Profiles) -> np.ndarray:
        columns = profile_columns(profiles)
        age = columns["age"].astype(np.float32)
        gender = columns["gender"].astype("U1")
        occupation = occupation_codes(columns["occupation"])
        return np.array(
            [self._score(*profile) for profile in zip(age, gender, occupation, strict=True)]
        )

    def score_profile(self, profile: Mapping[str, Any]) -> np.ndarray:
        """``score_profiles([profile])[0]``, without building columns for one profile."""
        occupation = _OCCUPATION_CODES.get(profile["occupation"], -1)
        return self._score(np.float32(profile["age"]), str(profile["gender"])[:1], occupation)

    def _score(self, age: np.float32, gender: str, occupation: int) -> np.ndarray:
        """One profile's scores. Profiles are summed one at a time, so that a profile's
        scores do not depend on the batch it came in (a matrix product's rounding does)."""
        sums, cell_weights = self._by_age_gender(age, gender)
        if occupation >= 0:  # an unknown occupation matches nobody
            cells = slice(*self.occupation_starts[occupation : occupation + 2])
            sums = sums + cell_weights[cells] @ self.cell_counts[cells]
        local = sums[:-1] / sums[-1]
        return self.global_share + self.contrast * (local - self.global_share)

    def _by_age_gender(self, age: np.float32, gender: str) -> tuple[np.ndarray, np.ndarray]:
        """What a profile's sum takes from its age and gender alone, kept per pair (most of
        a profile's cost, paid once for its 21 occupations; read-only, never pickled): the
        sum over every (gender, age) group weighted by ``ow``, and each cell's weight as a
        cell of the profile's own occupation, ``1 - ow`` times its similarity."""
        kept = self.__dict__.setdefault("_kept", {})
        entry = kept.get((age, gender))
        if entry is None:
            weights = self._weights(age, gender, self.group_age, self.group_gender)
            sums = (np.float32(self.occupation_weight) * weights) @ self.group_counts
            own = np.float32(1.0 - self.occupation_weight)
            cell_weights = own * self._weights(age, gender, self.cell_age, self.cell_gender)
            sums.flags.writeable = cell_weights.flags.writeable = False
            entry = sums, cell_weights
            if len(kept) < AGE_GENDER_KEPT:
                kept[age, gender] = entry
        return entry

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_kept"}


def _counts(
    cell_of_rater: np.ndarray,
    n_cells: int,
    liked_raters: np.ndarray,
    liked_movies: np.ndarray,
    n_movies: int,
) -> np.ndarray:
    """Positive ratings per cell (rows) and movie (columns), then the cell's raters."""
    liked_cells = cell_of_rater[np.asarray(liked_raters, dtype=np.intp)]
    counts = np.zeros((n_cells, n_movies + 1), dtype=np.float32)
    np.add.at(counts, (liked_cells, np.asarray(liked_movies, dtype=np.intp)), 1)
    counts[:, -1] = np.bincount(cell_of_rater, minlength=n_cells)
    return counts


class InterviewScorer(DemographicScorer):
    """The default's scorer: the demographic prior, moved by a person's answers.

    Without answers ``score`` is exactly ``score_profiles`` for that profile: the model
    learns from answers and changes nothing for a person who gives none.
    """

    def __init__(self, *, movie_ids: np.ndarray, interview: Interview, **demographic: Any) -> None:
        super().__init__(**demographic)
        self.movie_ids = np.asarray(movie_ids, dtype=np.int64)
        self.interview = interview

    def answered_columns(
        self, answers: Sequence[GivenAnswer]
    ) -> tuple[np.ndarray, list[GivenAnswer]]:
        """Catalogue columns of the answers this model knows, and those answers."""
        ids = np.array([answer.movie_id for answer in answers], dtype=np.int64)
        cols = np.minimum(np.searchsorted(self.movie_ids, ids), len(self.movie_ids) - 1)
        known = self.movie_ids[cols] == ids
        return cols[known], [a for a, k in zip(answers, known.tolist(), strict=True) if k]

    def score(self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer] = ()) -> np.ndarray:
        """Scores over the catalogue for one profile and its answers; answered movies score
        -inf, so they are never recommended."""
        scores = self.score_profile(profile)
        if not answers:
            return scores
        cols, known = self.answered_columns(answers)
        if len(cols):
            kinds, ratings = answer_kinds(known)
            scores = scores + self.interview.shift(cols, kinds, ratings)
            scores[cols] = -np.inf
        return scores

    def next_questions(
        self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer] = (), n: int = 5
    ) -> np.ndarray:
        """Movie ids to ask about next, best first: a fixed list chosen at fit time, so
        ``profile`` does not change it (an adaptive choice measured no better)."""
        cols, _ = self.answered_columns(answers) if answers else (np.zeros(0, np.intp), [])
        return self.movie_ids[self.interview.next_questions(cols, n)]
