"""Write side of the catalogue: load MovieLens 100K into the database, record feedback.

`movies_load` takes the data set parsed and checked by `movies.ml100k`, then upserts it
in one transaction, so a bad file or a killed process leaves the database as it was and
a second run changes nothing. Ratings, the bulk of it, go through SQL in bulk: a million
of them never become Python objects one by one.
"""

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from tqdm import tqdm

from coldstart.ml100k import (
    LoadError,
    Ratings,
    parse_genres,
    parse_movies,
    parse_raters,
    parse_ratings,
)
from movies.ml100k import OFFICIAL_SHA256, OFFICIAL_URL, read_source
from movies.models import CatalogueStamp, Feedback, Genre, Movie, Rater, Rating

BATCH_SIZE = 2000
GENRE_FIELDS = ("name",)
MOVIE_FIELDS = ("title", "release_date", "video_release_date", "imdb_url", "year")
RATER_FIELDS = ("age", "gender", "occupation", "zip_code")
RATING_CHUNK = 50_000  # rows turned into Python tuples at a time, to bound memory
# How each database turns u.data's unix time into the stored rated_at; on SQLite the
# text Django itself writes for a UTC datetime without microseconds.
RATED_AT_SQL = {"sqlite": "datetime(ts, 'unixepoch')", "postgresql": "to_timestamp(ts)"}


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
                _upsert_ratings(ratings, bar),
            ]
            if any(counts[3]):
                movie_ratings_summarise()
            links_changed = _sync_genre_links(movies.keys(), links)
            if any(counts[0]) or any(counts[1]) or links_changed:
                catalogue_changed()
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


def _upsert_ratings(ratings: Ratings, bar) -> tuple[int, int]:
    """Insert new ratings and update changed ones, matched on (rater, movie).

    The rows go into a temporary table (by COPY on PostgreSQL), then one INSERT ... ON
    CONFLICT DO UPDATE writes the new rows and only those whose score or time differ,
    in place, so ids survive. Returns (created, updated).
    """
    table = connection.ops.quote_name(Rating._meta.db_table)
    # In the unique index's order: new rows append to it instead of landing at random.
    order = np.lexsort((ratings.movie_id, ratings.rater_id))
    columns = [column[order] for column in (ratings.rater_id, ratings.movie_id)]
    columns += [ratings.score[order], ratings.timestamp[order]]
    with connection.cursor() as cursor:
        before = _count(cursor, table)
        cursor.execute(
            "CREATE TEMPORARY TABLE rating_source (rater_id integer NOT NULL, "
            "movie_id integer NOT NULL, score smallint NOT NULL, ts bigint NOT NULL)"
        )
        _fill_rating_source(cursor, _rows(columns))
        with _indexes_built_after(Rating, cursor, rebuild=before == 0):
            cursor.execute(
                f"INSERT INTO {table} (rater_id, movie_id, score, rated_at) "
                f"SELECT rater_id, movie_id, score, {RATED_AT_SQL[connection.vendor]} "
                "FROM rating_source WHERE true "  # WHERE: SQLite's parser needs it before ON
                "ON CONFLICT (rater_id, movie_id) DO UPDATE "
                "SET score = excluded.score, rated_at = excluded.rated_at "
                f"WHERE {table}.score <> excluded.score OR {table}.rated_at <> excluded.rated_at"
            )
            written = cursor.rowcount
        cursor.execute("DROP TABLE rating_source")
        created = _count(cursor, table) - before
    bar.update(len(ratings))
    return created, written - created


def movie_ratings_summarise(*, movie_ids=None) -> None:
    """Store the count and mean of each movie's ratings (all movies, or ``movie_ids``):
    whatever writes ratings calls it in the same transaction. One UPDATE; each movie's
    figures come from its own entries of the (movie, score) index."""
    ratings = Rating.objects.filter(movie=OuterRef("pk")).order_by().values("movie")
    movies = Movie.objects.all() if movie_ids is None else Movie.objects.filter(pk__in=movie_ids)
    movies.update(
        rating_count=Coalesce(Subquery(ratings.annotate(n=Count("pk")).values("n")), 0),
        mean_rating=Subquery(ratings.annotate(mean=Avg("score")).values("mean")),
    )
    catalogue_changed()


def catalogue_changed() -> None:
    """Tell every process that the movies, their genres or their summaries changed: a
    new stamp, written in the caller's transaction (movies.selectors reads it). Random,
    not a counter: a rolled-back change never leaves a stamp that another change reuses."""
    CatalogueStamp.objects.update_or_create(id=1, defaults={"stamp": uuid.uuid4().hex})


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    return cursor.fetchone()[0]


def _rows(columns: list[np.ndarray]):
    """Tuples of the columns' values, made a chunk at a time."""
    for start in range(0, len(columns[0]), RATING_CHUNK):
        chunk = (column[start : start + RATING_CHUNK].tolist() for column in columns)
        yield from zip(*chunk, strict=True)


def _fill_rating_source(cursor, rows) -> None:
    """Through the driver itself: Django's SQLite cursor would hold every row at once
    (to peek at the first), and its debug cursor would log them."""
    if connection.vendor == "postgresql":
        with cursor.cursor.copy("COPY rating_source FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection.connection.executemany("INSERT INTO rating_source VALUES (?, ?, ?, ?)", rows)


@contextmanager
def _indexes_built_after(model, cursor, *, rebuild: bool):
    """Drop ``model``'s Meta.indexes for the block and build them again after it, when
    ``rebuild``: into an empty table, one sort beats a million inserts at random places.
    DDL is transactional in SQLite and PostgreSQL: a failure puts the indexes back."""
    indexes = model._meta.indexes if rebuild else []
    for index in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(index.name)}")
    with _foreign_keys_checked_after(model, cursor, rebuild=rebuild):
        yield
    editor = connection.schema_editor()  # only to write SQL: not entered, runs nothing
    for index in indexes:
        cursor.execute(str(index.create_sql(model, editor)))
    if rebuild and connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextmanager
def _foreign_keys_checked_after(model, cursor, *, rebuild: bool):
    """On PostgreSQL, when ``rebuild``: drop the table's foreign keys for the block and add
    them back after it, which checks every row in one join instead of queueing a deferred
    trigger per row and key (PostgreSQL's own advice for bulk loads). Same names, same
    deferrable constraints; a row that breaks one fails the load as before."""
    if not (rebuild and connection.vendor == "postgresql"):
        yield
        return
    table = model._meta.db_table
    constraints = connection.introspection.get_constraints(cursor, table)
    keys = {name: c for name, c in constraints.items() if c["foreign_key"]}
    quote = connection.ops.quote_name
    for name in keys:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    for name, constraint in keys.items():
        (column,), (target_table, target_column) = constraint["columns"], constraint["foreign_key"]
        cursor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} FOREIGN KEY "
            f"({quote(column)}) REFERENCES {quote(target_table)} ({quote(target_column)}) "
            "DEFERRABLE INITIALLY DEFERRED"
        )


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
