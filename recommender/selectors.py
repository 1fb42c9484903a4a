"""Reads: the catalogue as numpy/pandas frames for training and evaluation, and the
served model's card.

pandas is imported by the functions that build frames, not here: serving workers import
this module for the model card, and pandas would be a large share of their memory.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import connection

from coldstart.serving import Recommender
from movies.models import Feedback, Movie, Rater, Rating

if TYPE_CHECKING:
    import pandas as pd

# Ratings' integers first (rater, movie, score, time as Unix seconds), then what is spread
# over them by index: the rater's demographics, the movie's title (the interview asks
# about one id per title; ml-100k lists some titles twice) and its genre names, joined by
# "|" (the interview reads the genres of the movies a person rated).
RATING_COLUMNS = [
    "rater_id",
    "movie_id",
    "score",
    "rated_at",
    "age",
    "gender",
    "occupation",
    "title",
    "genres",
]
# What a feedback row gives the training frame: RATING_COLUMNS' demographics and title.
FEEDBACK_FIELDS = (
    "id",
    "request_id",
    "token_id",
    "movie_id",
    "rating",
    "created_at",
    "age",
    "gender",
    "occupation",
    "movie__title",
)
# A choice without a rating counts as liking the movie (ratings >= 4 are the positives).
CHOSE_SCORE = 4
READ_CHUNK = 100_000  # ratings read at a time: a million never become one string at once
# Each chunk of ratings comes back as one row: its integers joined by commas into one
# string that numpy parses at C speed (a rating's rater, movie and score packed into one
# integer where the ids allow), and its times in a second string. A Python tuple per
# rating, and the database writing each number as text, were most of the read.
JOIN_SQL = {
    "sqlite": "group_concat({}, ',')",
    "postgresql": "string_agg(CAST({} AS TEXT), ',' ORDER BY id)",
}
# The times: PostgreSQL computes Unix seconds. SQLite stores them as UTC text,
# 'YYYY-MM-DD HH:MM:SS[.ffffff]', and its strftime was half of its read: the first 19
# characters come back side by side and numpy parses them (seconds truncated, as strftime).
SQLITE_TIME_WIDTH = 19
UNIX_SECONDS_SQL = "CAST(EXTRACT(EPOCH FROM rated_at) AS BIGINT)"
TIMES_SQL = {
    "sqlite": f"group_concat(substr(rated_at, 1, {SQLITE_TIME_WIDTH}), '')",
    "postgresql": JOIN_SQL["postgresql"].format(UNIX_SECONDS_SQL),
}
SCORE_BITS = 3  # scores are 1-5


def rating_frame() -> "pd.DataFrame":
    """One row per rating with the rater's demographics, ordered by rater then movie.

    Read in columns: the ratings' integers straight into numpy, chunk by chunk, and each
    rater's demographics and each movie's title once, spread over the ratings by index
    (the strings as pandas categoricals: one small code per rating).
    """
    import pandas as pd

    ratings = _rating_integers()
    # Narrow columns, the strings as categories: memory is what bounds training at scale.
    frame = pd.DataFrame(
        {
            "rater_id": ratings[:, 0].astype(np.int32),
            "movie_id": ratings[:, 1].astype(np.int32),
            "score": ratings[:, 2].astype(np.int8),
            "rated_at": ratings[:, 3],
        }
    )
    raters = pd.DataFrame.from_records(
        list(Rater.objects.order_by("id").values_list("id", "age", "gender", "occupation")),
        columns=["id", "age", "gender", "occupation"],
    )
    at = np.searchsorted(raters["id"].to_numpy(), ratings[:, 0])
    frame["age"] = raters["age"].to_numpy()[at]
    for column in ("gender", "occupation"):
        codes, values = pd.factorize(raters[column])
        frame[column] = pd.Categorical.from_codes(codes[at], values)  # one code per rating
    movies = list(Movie.objects.order_by("id").values_list("id", "title"))
    movie_ids = np.array([movie_id for movie_id, _ in movies], dtype=np.int64)
    genres = _joined_genres()
    at = np.searchsorted(movie_ids, ratings[:, 1])
    for column, labels in (
        ("title", [title for _, title in movies]),
        ("genres", [genres.get(movie_id, "") for movie_id, _ in movies]),
    ):
        codes, names = pd.factorize(np.array(labels, dtype=object))
        # one code per rating; pandas-stubs type the categories as an Index, not this array
        frame[column] = pd.Categorical.from_codes(codes[at], names)  # type: ignore[call-overload]
    return frame


def _joined_genres() -> dict:
    """Each movie's genre names joined by "|" (movies without any are absent)."""
    return {movie_id: "|".join(names) for movie_id, names in _genre_names().items()}


def _genre_names() -> dict:
    """Each movie's genre names, sorted (movies without any are absent)."""
    genres: dict[int, list[str]] = {}
    for movie_id, name in Movie.genres.through.objects.values_list("movie_id", "genre__name"):
        genres.setdefault(movie_id, []).append(name)
    return {movie_id: sorted(names) for movie_id, names in genres.items()}


def _rating_integers() -> np.ndarray:
    """(rater, movie, score, Unix seconds) of every rating as an int64 array, ordered by
    rater then movie."""
    table = Rating._meta.db_table
    with connection.cursor() as cursor:
        # Each maximum its own query: SQLite reads one from an index only when alone.
        cursor.execute(
            f"SELECT (SELECT max(rater_id) FROM {table}), (SELECT max(movie_id) FROM {table})"
        )
        max_rater, max_movie = (int(value or 0) for value in cursor.fetchone())
        shift = max_movie.bit_length() + SCORE_BITS
        movie_score = f"CAST(movie_id AS BIGINT) * {2**SCORE_BITS} + score"
        packs_rater = max_rater.bit_length() + shift < 63  # fits a signed 64-bit integer
        # BIGINT: on PostgreSQL the ids are 32-bit and would overflow once shifted.
        fields = (
            [f"CAST(rater_id AS BIGINT) * {2**shift} + {movie_score}"]
            if packs_rater
            else ["rater_id", movie_score]
        )
        columns, seconds = _joined_integers(cursor, table, fields)
    if packs_rater:
        rater, rest = columns[:, 0] >> shift, columns[:, 0] & (2**shift - 1)
    else:
        rater, rest = columns[:, 0], columns[:, 1]
    order = np.lexsort((rest, rater))
    rater, rest = rater[order], rest[order]
    movie, score = rest >> SCORE_BITS, rest & (2**SCORE_BITS - 1)
    return np.column_stack([rater, movie, score, seconds[order]])


def _joined_integers(cursor, table: str, fields: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The integer SQL expressions ``fields`` of every rating as an int64 array, one
    column each, and its time as Unix seconds, READ_CHUNK ratings a query (keyset on the
    primary key, so deleted ids cost nothing)."""
    joined_fields = " || ',' || ".join(f"({field})" for field in fields)
    vendor = connection.vendor
    sql = (
        f"SELECT {JOIN_SQL[vendor].format(joined_fields)}, {TIMES_SQL[vendor]}, max(id) FROM "
        f"(SELECT * FROM {table} WHERE id > %s ORDER BY id LIMIT %s) chunk"
    )
    chunks, times, last_id = [], [], 0
    while True:
        cursor.execute(sql, [last_id, READ_CHUNK])
        joined, joined_times, last_id = cursor.fetchone()
        if joined is None:
            break
        chunks.append(np.fromstring(joined, dtype=np.int64, sep=","))
        times.append(_unix_seconds(joined_times, vendor))
    empty = [np.empty(0, np.int64)]
    return (
        np.concatenate(chunks or empty).reshape(-1, len(fields)),
        np.concatenate(times or empty),
    )


def _unix_seconds(joined: str, vendor: str) -> np.ndarray:
    if vendor == "sqlite":
        texts = np.frombuffer(joined.encode("ascii"), f"S{SQLITE_TIME_WIDTH}")
        return texts.astype("datetime64[s]").astype(np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def feedback_rating_frame(*, first_rater_id: int) -> "pd.DataFrame":
    """The API's feedback as extra rows shaped like rating_frame's.

    Each feedback person becomes one synthetic rater, numbered from ``first_rater_id``:
    the rows sharing a request_id and demographics; without a request_id, the rows sharing
    an access token and demographics (a row from before tokens were kept stands alone).
    Per person and movie one row is kept: the latest rating, else the latest choice,
    which counts as CHOSE_SCORE.
    """
    import pandas as pd

    rows = Feedback.objects.order_by("id").values_list(*FEEDBACK_FIELDS)
    columns = [field.removeprefix("movie__") for field in FEEDBACK_FIELDS]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    if frame.empty:
        return pd.DataFrame(columns=RATING_COLUMNS)
    frame["rated_at"] = [int(created.timestamp()) for created in frame["created_at"]]
    frame["genres"] = frame["movie_id"].map(_joined_genres()).fillna("")
    alone = "#" + frame["id"].astype(str)
    token = ("token " + frame["token_id"]).where(frame["token_id"] != "", alone)
    frame["person"] = (
        frame["request_id"].where(frame["request_id"] != "", token)
        + "|"
        + frame["age"].astype(str)
        + "|"
        + frame["gender"]
        + "|"
        + frame["occupation"]
    )
    rating = pd.to_numeric(frame["rating"])
    frame["explicit"] = rating.notna()
    frame["score"] = rating.fillna(CHOSE_SCORE).astype(np.int64)
    frame = frame.sort_values(["explicit", "id"]).drop_duplicates(
        ["person", "movie_id"], keep="last"
    )
    frame = frame.sort_values("id")  # raters numbered in order of their first feedback kept
    frame["rater_id"] = first_rater_id + pd.factorize(frame["person"])[0]
    return frame.sort_values(["rater_id", "movie_id"])[RATING_COLUMNS].reset_index(drop=True)


def movie_catalogue(movie_ids) -> dict:
    """Titles, years and genre names of the given movies, in the same order."""
    movies = Movie.objects.in_bulk(list(map(int, movie_ids)))
    genres = _genre_names()
    ordered = [movies[int(i)] for i in movie_ids]
    return {
        "movie_ids": np.asarray(movie_ids, dtype=np.int64),
        "titles": [m.title for m in ordered],
        "years": [m.year for m in ordered],
        "genres": [genres.get(m.id, []) for m in ordered],
    }


def model_card(*, recommender: Recommender) -> dict:
    """The artifact's own account of itself, plus its file's name and size.

    The file's directory is left out: clients have no business knowing server paths.
    """
    artifact = recommender.artifact
    path = Path(settings.ML_MODEL_PATH)
    try:
        size = path.stat().st_size
    except OSError:  # replaced or removed since it was loaded
        size = None
    return {
        "model_version": recommender.version,
        "algorithm": artifact["algorithm"],
        "params": artifact["params"],
        "trained_at": artifact["trained_at"],
        "fit_seconds": artifact.get("fit_seconds"),
        "data": artifact["data"],
        "versions": artifact["versions"],
        "metrics": artifact.get("metrics", {}),
        "file": {"name": path.name, "size_bytes": size},
    }
