"""Write side of the catalogue: load MovieLens 100K into the database, record feedback.

`movies_load` takes the data set parsed and checked by `movies.ml100k`, then upserts it
in one transaction, so a bad file or a killed process leaves the database as it was and
a second run changes nothing.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from tqdm import tqdm

from movies.ml100k import (
    OFFICIAL_SHA256,
    OFFICIAL_URL,
    LoadError,
    parse_genres,
    parse_movies,
    parse_raters,
    parse_ratings,
    read_source,
)
from movies.models import Feedback, Genre, Movie, Rater, Rating

BATCH_SIZE = 2000
GENRE_FIELDS = ("name",)
MOVIE_FIELDS = ("title", "release_date", "video_release_date", "imdb_url", "year")
RATER_FIELDS = ("age", "gender", "occupation", "zip_code")
RATING_FIELDS = ("score", "rated_at")


@dataclass(frozen=True)
class LoadSummary:
    """What one load found in the source and what it changed in the database."""

    genres: int
    movies: int
    raters: int
    ratings: int
    genres_created: int
    movies_created: int
    raters_created: int
    ratings_created: int
    rows_updated: int  # existing genres, movies, raters, ratings whose values changed
    genre_links_changed: int  # movie-genre links added or removed
    seconds: float

    @property
    def created(self) -> int:
        return (
            self.genres_created + self.movies_created + self.raters_created + self.ratings_created
        )

    def __str__(self) -> str:
        return (
            f"Loaded {self.genres} genres, {self.movies} movies, {self.raters} raters, "
            f"{self.ratings} ratings ({self.created} new, {self.rows_updated} updated) "
            f"in {self.seconds:.1f}s."
        )


def movies_load(
    *, source: str | None = None, sha256: str = OFFICIAL_SHA256, progress: bool | None = None
) -> LoadSummary:
    """Load genres, movies, raters and ratings from `source` (URL, zip or folder).

    Without `source`, settings.ML100K_SOURCE, else the official archive. `sha256` checks
    downloads only: a local zip or folder is what the operator chose. `progress=None`
    shows a progress bar only on a terminal.
    """
    started = time.perf_counter()
    texts = read_source(source or settings.ML100K_SOURCE or OFFICIAL_URL, sha256)
    genres = parse_genres(texts["u.genre"])
    movies, links = parse_movies(texts["u.item"], genres)
    raters = parse_raters(texts["u.user"])
    ratings = parse_ratings(texts["u.data"], movies, raters)

    # disable=None: tqdm shows the bar only when stderr is a terminal.
    disable = None if progress is None else not progress
    bar = tqdm(desc="Loading ml-100k", unit=" rows", disable=disable)
    try:
        with bar, transaction.atomic():
            counts = [
                _upsert(Genre, genres, ("id",), GENRE_FIELDS, bar),
                _upsert(Movie, movies, ("id",), MOVIE_FIELDS, bar),
                _upsert(Rater, raters, ("id",), RATER_FIELDS, bar),
                _upsert(Rating, ratings, ("rater", "movie"), RATING_FIELDS, bar),
            ]
            links_changed = _sync_genre_links(movies.keys(), links)
    except IntegrityError as error:
        # Only rows edited by hand can clash, e.g. a genre renamed to another's name.
        raise LoadError(f"The database refused the data set ({error}).") from error
    return LoadSummary(
        genres=len(genres),
        movies=len(movies),
        raters=len(raters),
        ratings=len(ratings),
        genres_created=counts[0][0],
        movies_created=counts[1][0],
        raters_created=counts[2][0],
        ratings_created=counts[3][0],
        rows_updated=sum(updated for _, updated in counts),
        genre_links_changed=links_changed,
        seconds=time.perf_counter() - started,
    )


# --- Writing ---------------------------------------------------------------------------


def _upsert(model, rows: dict, unique_fields, update_fields, bar) -> tuple[int, int]:
    """Insert new rows and update changed ones, matched on `unique_fields`.

    Rows already equal are left alone, so a second run writes nothing; rows are updated
    in place (not deleted and re-inserted) so their ids and references survive.
    Returns (created, updated).
    """
    key_columns = [model._meta.get_field(name).attname for name in unique_fields]
    existing = {
        tuple(row[: len(key_columns)]): row[len(key_columns) :]
        for row in model.objects.order_by().values_list(*key_columns, *update_fields)
    }
    created = updated = 0
    changed = []
    for key, values in rows.items():
        key = key if isinstance(key, tuple) else (key,)
        old = existing.get(key)
        if old != values:
            names = (*key_columns, *update_fields)
            changed.append(model(**dict(zip(names, (*key, *values), strict=True))))
            created += old is None
            updated += old is not None
    bar.total = (bar.total or 0) + len(changed)
    for start in range(0, len(changed), BATCH_SIZE):
        batch = changed[start : start + BATCH_SIZE]
        model.objects.bulk_create(
            batch,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        bar.update(len(batch))
    return created, updated


def _sync_genre_links(movie_ids, links: set[tuple[int, int]]) -> int:
    """Make the loaded movies' genres match the flags: add missing links, delete extra.

    Links of movies that are not in this source are left alone.
    """
    link = Movie.genres.through
    loaded = set(movie_ids)
    existing = {
        (movie_id, genre_id): pk
        for pk, movie_id, genre_id in link.objects.values_list("pk", "movie_id", "genre_id")
        if movie_id in loaded
    }
    extra = [pk for pair, pk in existing.items() if pair not in links]
    for start in range(0, len(extra), BATCH_SIZE):
        link.objects.filter(pk__in=extra[start : start + BATCH_SIZE]).delete()
    missing = [link(movie_id=m, genre_id=g) for m, g in links if (m, g) not in existing]
    link.objects.bulk_create(missing, batch_size=BATCH_SIZE)
    return len(extra) + len(missing)


def feedback_record(
    *,
    age: int,
    gender: str,
    occupation: str,
    movie_id: int,
    rating: int | None = None,
    chose: bool = False,
    request_id: str = "",
    token_id: str = "",
) -> Feedback:
    """Store one piece of feedback (POST /api/feedback) for ``train_model --with-feedback``.

    One row per request_id and movie: a repeat updates it, a new rating replacing the old
    and a choice, once made, staying made.
    """
    person = {"age": age, "gender": gender, "occupation": occupation, "token_id": token_id}
    if not request_id:
        return Feedback.objects.create(movie_id=movie_id, rating=rating, chose=chose, **person)
    with transaction.atomic():
        feedback, created = Feedback.objects.select_for_update().get_or_create(
            request_id=request_id,
            movie_id=movie_id,
            defaults={"rating": rating, "chose": chose, **person},
        )
        if not created:
            feedback.rating = feedback.rating if rating is None else rating
            feedback.chose = feedback.chose or chose
            feedback.save(update_fields=["rating", "chose"])
    return feedback
