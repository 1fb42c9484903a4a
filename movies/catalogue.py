"""The catalogue in memory, for listing and search: one array per field, filtered, searched
(movies.search) and ordered with numpy, and each movie's fields built only for the page
asked for. No Django here: movies.selectors builds it from the database and keeps it."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from movies.search import NO_MATCH, TitleIndex, fold

# What ?ordering= takes: each either way ("-year": the newest first).
ORDERINGS = ("title", "year", "rating_count", "mean_rating")


@dataclass(frozen=True)
class CatalogueRow:
    id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    rating_count: int
    mean_rating: float | None
    imdb_url: str


@dataclass(frozen=True)
class Filters:
    q: str = ""
    genre: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    ordering: str | None = None  # a name of ORDERINGS, "-" in front for descending


class Catalogue:
    """Every movie, by its place in id order."""

    def __init__(self, rows: Sequence[CatalogueRow]) -> None:
        rows = sorted(rows, key=lambda row: row.id)
        self.rows = rows
        self.position = {row.id: place for place, row in enumerate(rows)}
        self.index = TitleIndex([row.title for row in rows], [row.year for row in rows])
        self.genre_names = tuple(sorted({name for row in rows for name in row.genres}))
        self._has_genre = {name: np.zeros(len(rows), bool) for name in self.genre_names}
        for place, row in enumerate(rows):
            for name in row.genres:
                self._has_genre[name][place] = True
        # Sort keys, missing values last whichever the direction (see _order).
        self._keys = {
            "title": _ranks([fold(row.title) or row.title for row in rows]),
            "year": np.array([row.year or 0 for row in rows], np.int64),
            "rating_count": np.array([row.rating_count for row in rows], np.int64),
            "mean_rating": np.array(
                [row.mean_rating if row.mean_rating is not None else 0 for row in rows]
            ),
        }
        self._missing = {
            "title": np.zeros(len(rows), bool),
            "year": np.array([row.year is None for row in rows]),
            "rating_count": np.zeros(len(rows), bool),
            "mean_rating": np.array([row.mean_rating is None for row in rows]),
        }

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, movie_id: int) -> CatalogueRow | None:
        place = self.position.get(movie_id)
        return None if place is None else self.rows[place]

    def find(self, filters: Filters) -> np.ndarray:
        """Places of the movies that pass ``filters``, in order: by ``ordering`` if given,
        else by how well the title matches ``q`` (then the more rated first), else by id.
        Ties go to the lower id."""
        keep = np.ones(len(self.rows), bool)
        if filters.genre is not None:
            keep &= self._has_genre.get(filters.genre, np.zeros(len(self.rows), bool))
        year = self._keys["year"]
        if filters.year_min is not None:
            keep &= ~self._missing["year"] & (year >= filters.year_min)
        if filters.year_max is not None:
            keep &= ~self._missing["year"] & (year <= filters.year_max)
        levels = None
        if filters.q:
            levels = self.index.levels(filters.q)
            keep &= levels < NO_MATCH
        places = np.flatnonzero(keep)
        if filters.ordering:
            return places[self._order(places, filters.ordering)]
        if levels is not None:
            count = self._keys["rating_count"][places]
            return places[np.lexsort((places, -count, levels[places]))]
        return places

    def _order(self, places: np.ndarray, ordering: str) -> np.ndarray:
        name = ordering.removeprefix("-")
        key = self._keys[name][places]
        key = -key if ordering.startswith("-") else key
        return np.lexsort((places, key, self._missing[name][places]))

    def page(self, places: Sequence[int]) -> list[dict[str, Any]]:
        """The movies at ``places``, as the API shows them."""
        return [_shown(self.rows[int(place)]) for place in places]

    def movie(self, movie_id: int) -> dict[str, Any] | None:
        row = self.get(movie_id)
        return None if row is None else _shown(row)


def _shown(row: CatalogueRow) -> dict[str, Any]:
    mean = None if row.mean_rating is None else round(row.mean_rating, 4)
    return {
        "id": row.id,
        "title": row.title,
        "year": row.year,
        "genres": list(row.genres),
        "rating_count": row.rating_count,
        "mean_rating": mean,
        "imdb_url": row.imdb_url or None,
    }


def _ranks(values: list[str]) -> np.ndarray:
    """Each value's place in sorted order: a sort key numpy can compare."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(len(values))
    return ranks
