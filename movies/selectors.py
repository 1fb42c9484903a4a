"""Reads of the catalogue for the API and /try/: the movies kept in memory per process
(movies.catalogue), read again from the database only when its stamp changes."""

import threading

from movies.catalogue import Catalogue, CatalogueRow
from movies.models import CatalogueStamp, Movie

_lock = threading.Lock()
_kept: tuple[str | None, Catalogue | None] = (None, None)  # (stamp, catalogue), replaced whole


def catalogue() -> Catalogue:
    """The catalogue as of the last write: one primary-key read per call, and the movies
    read again only after a write changed the stamp (movies.services.catalogue_changed).
    Without the stamp's row (a database emptied by hand) nothing is kept."""
    global _kept
    stamp = CatalogueStamp.objects.filter(id=1).values_list("stamp", flat=True).first()
    kept_stamp, kept = _kept
    if stamp is not None and stamp == kept_stamp and kept is not None:
        return kept
    with _lock:
        kept_stamp, kept = _kept
        if stamp is None or stamp != kept_stamp or kept is None:
            kept = Catalogue(_rows())
            if stamp is not None:
                _kept = (stamp, kept)
    return kept


def _rows() -> list[CatalogueRow]:
    genres: dict[int, list[str]] = {}
    links = Movie.genres.through.objects.order_by("genre_id")
    for movie_id, name in links.values_list("movie_id", "genre__name"):
        genres.setdefault(movie_id, []).append(name)
    fields = ("id", "title", "year", "rating_count", "mean_rating", "imdb_url")
    return [
        CatalogueRow(
            id=movie_id,
            title=title,
            year=year,
            genres=tuple(sorted(genres.get(movie_id, ()))),
            rating_count=count,
            mean_rating=mean,
            imdb_url=url,
        )
        for movie_id, title, year, count, mean, url in Movie.objects.values_list(*fields)
    ]


def movie_get(*, movie_id: int) -> dict | None:
    return catalogue().movie(movie_id)
