"""Ranking for requests: the whole catalogue scored in one vectorised step, no SQL and no
Python loop over the catalogue on the hot path. NumPy only: the web app loads the artifact
(recommender/serving.py) and serves through a Recommender."""

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coldstart.domain import GENDER_CODES, MAX_AGE, MIN_AGE, OCCUPATIONS, UNKNOWN_TITLE
from coldstart.scoring import InterviewScorer

MAX_RECS = 100
# Every profile there is: 121 ages x 3 genders x 21 occupations = 7,623 entries of ~1.5 kB.
TOP_CACHE_SIZE = 8192
LOWEST_SCORE = np.finfo(np.float64).min  # the lowest a servable movie can score


@dataclass(frozen=True)
class Profile:
    age: int
    gender: str
    occupation: str


@dataclass(frozen=True)
class Answer:
    """What a person said about one movie."""

    movie_id: int
    rating: int | None  # 1-5 when rated
    seen: bool  # False: has not seen it; True with rating None: seen, no opinion


def _row(profile: Profile) -> dict[str, Any]:
    """A profile as the scorers take it."""
    return {"age": profile.age, "gender": profile.gender, "occupation": profile.occupation}


def all_profiles() -> list[Profile]:
    """Every profile the API accepts, youngest first."""
    return [
        Profile(age, gender, occupation)
        for age in range(MIN_AGE, MAX_AGE + 1)
        for gender in GENDER_CODES
        for occupation in OCCUPATIONS
    ]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Catalogue indices, best first, and their scores."""

    indices: np.ndarray
    scores: np.ndarray


class Recommender:
    """An artifact ready to serve: metadata in arrays and per-movie dicts built at load,
    so that a request costs one scoring (or a cache hit) and a top-k selection."""

    def __init__(self, artifact: dict[str, Any]) -> None:
        self.artifact = artifact
        self.scorer = artifact["scorer"]
        catalogue = artifact["catalogue"]
        self.movie_ids = np.asarray(catalogue["movie_ids"], dtype=np.int64)
        titles, genres = catalogue["titles"], catalogue["genres"]
        self.version = f"{artifact['algorithm']}@{artifact['trained_at']}"
        # The response's per-movie fields, as lists that a request indexes.
        self._ids, self._titles = self.movie_ids.tolist(), list(titles)
        # Each id's column: a request's few ids are looked up faster in a dict than an array.
        self.column_of = {movie_id: index for index, movie_id in enumerate(self._ids)}
        self._years, self._genres = list(catalogue["years"]), list(genres)
        # Titles ml-100k lists under two ids are served once, and the placeholder never.
        first_of_title: dict[str, int] = {}
        for index, title in enumerate(titles):
            first_of_title.setdefault(title, index)
        self.title_group = np.fromiter(map(first_of_title.__getitem__, titles), np.int64)
        self.n_duplicates = len(titles) - len(first_of_title)
        self.servable = np.array([title != UNKNOWN_TITLE for title in titles], dtype=bool)
        self.genre_names = tuple(sorted({name for names in genres for name in names}))
        self._genre_row = {name: row for row, name in enumerate(self.genre_names)}
        self._has_genre = np.zeros((len(self.genre_names), len(titles)), dtype=bool)
        self._has_genre[
            [self._genre_row[name] for names in genres for name in names],
            np.repeat(np.arange(len(titles)), [len(names) for names in genres]),
        ] = True
        self._top: dict[Profile, Ranking] = {}

    def scores(self, profile: Profile, answers: Sequence[Answer] = ()) -> np.ndarray:
        """The catalogue's scores for a profile; a model that learns from answers folds
        them in (the others ignore them; seed-rf's ``score`` is scikit-learn's R²)."""
        if isinstance(self.scorer, InterviewScorer):
            scores = self.scorer.score(_row(profile), answers)
        else:
            scores = self.scorer.score_profiles([_row(profile)])[0]
        return np.asarray(scores, dtype=np.float64)

    def _rank(self, scores: np.ndarray, allowed: np.ndarray, limit: int) -> Ranking:
        """The ``limit`` best distinct titles among ``allowed`` movies; equal scores go to
        the lower movie id (the catalogue is id-ordered)."""
        scores = np.where(allowed & ~np.isnan(scores), scores, -np.inf)
        # Enough candidates that dropping every duplicate title still leaves ``limit``.
        wanted = limit + self.n_duplicates
        if wanted < len(scores):
            threshold = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            candidates = np.flatnonzero(scores >= max(threshold, LOWEST_SCORE))
        else:
            candidates = np.flatnonzero(scores > -np.inf)
        candidates = candidates[np.lexsort((candidates, -scores[candidates]))]
        best = self._first_of_each_title(candidates, limit)
        return Ranking(indices=np.array(best, dtype=np.int32), scores=scores[best])

    def _first_of_each_title(self, candidates: np.ndarray, limit: int) -> list[int]:
        """The first ``limit`` of ``candidates`` whose title is not already in: a loop over a
        few dozen candidates costs less than np.unique's sort."""
        best: list[int] = []
        titles: set[int] = set()
        for index, title in zip(
            candidates.tolist(), self.title_group[candidates].tolist(), strict=True
        ):
            if len(best) == limit:
                break
            if title not in titles:
                titles.add(title)
                best.append(index)
        return best

    def top(self, profile: Profile) -> Ranking:
        """The profile's best MAX_RECS movies, kept for its next request."""
        ranking = self._top.get(profile)
        if ranking is None:
            ranking = self._rank(self.scores(profile), self.servable, MAX_RECS)
            if len(self._top) < TOP_CACHE_SIZE:
                self._top[profile] = ranking
        return ranking

    def warm_up(self, profiles: list[Profile], *, seconds: float, batch: int = 16) -> int:
        """Rank ``profiles`` ahead of their requests, scoring a batch per call to the
        scorer, until done or ``seconds`` have passed; returns how many are ready."""
        deadline = time.monotonic() + seconds
        for start in range(0, len(profiles), batch):
            if time.monotonic() > deadline or len(self._top) >= TOP_CACHE_SIZE:
                break
            chunk = profiles[start : start + batch]
            rows = self.scorer.score_profiles([_row(profile) for profile in chunk])
            for profile, scores in zip(chunk, rows, strict=True):
                scores = np.asarray(scores, dtype=np.float64)
                self._top[profile] = self._rank(scores, self.servable, MAX_RECS)
        return len(self._top)

    def allowed(self, *, genres: Collection[str] = (), exclude: Collection[int] = ()) -> np.ndarray:
        """Servable movies having any of ``genres`` (all if none), minus every id sharing a
        title with an excluded one. Unknown genres match nothing; unknown ids are ignored."""
        allowed = self.servable.copy()
        if genres:
            rows = [self._genre_row[name] for name in genres if name in self._genre_row]
            allowed &= self._has_genre[rows].any(axis=0)
        if exclude:
            columns = [
                self.column_of[movie_id] for movie_id in exclude if movie_id in self.column_of
            ]
            excluded = np.zeros(len(self.title_group), dtype=bool)  # by title, as an index
            excluded[self.title_group[np.array(columns, dtype=np.intp)]] = True
            allowed &= ~excluded[self.title_group]
        return allowed

    def recommend(
        self,
        profile: Profile,
        max_recs: int,
        *,
        genres: Collection[str] = (),
        exclude: Collection[int] = (),
        answers: Sequence[Answer] = (),
    ) -> list[dict[str, Any]]:
        """Best first. Without filters or answers the profile's cached top list answers;
        otherwise the profile is scored afresh, so a cached list never hides a filtered-in
        movie. Answered movies, and every id sharing their title, are never recommended."""
        if genres or exclude or answers:
            answered = [answer.movie_id for answer in answers]
            allowed = self.allowed(genres=genres, exclude=[*exclude, *answered])
            ranking = self._rank(self.scores(profile, answers), allowed, max_recs)
        else:
            ranking = self.top(profile)
        return [
            {**self._movie(index), "score": round(score, 6)}
            for index, score in zip(
                ranking.indices[:max_recs].tolist(),
                ranking.scores[:max_recs].tolist(),
                strict=True,
            )
        ]

    def questions(
        self, profile: Profile, answers: Sequence[Answer], n: int
    ) -> list[dict[str, Any]]:
        """The ``n`` movies to ask the person about next, given their answers so far: never
        one answered, never the placeholder, never two ids of one title. A model without
        an interview asks about its own best guesses for the profile."""
        if isinstance(self.scorer, InterviewScorer):
            ids = self.scorer.next_questions(_row(profile), answers, n)
            indices = np.searchsorted(self.movie_ids, ids).tolist()
        else:
            allowed = self.allowed(exclude=[answer.movie_id for answer in answers])
            indices = self._rank(self.scores(profile), allowed, n).indices.tolist()
        return [self._movie(index) for index in indices]

    def _movie(self, index: int) -> dict[str, Any]:
        return {
            "id": self._ids[index],
            "title": self._titles[index],
            "year": self._years[index],
            "genres": self._genres[index],
        }
