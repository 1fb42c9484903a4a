"""Reads of the catalogue that training and evaluation need, as numpy/pandas frames."""

import hashlib

import numpy as np
import pandas as pd

from movies.models import Movie, Rating


def rating_frame() -> pd.DataFrame:
    """One row per rating with the rater's demographics, ordered by rater then movie."""
    rows = Rating.objects.order_by("rater_id", "movie_id").values_list(
        "rater_id", "movie_id", "score", "rated_at", "rater__age", "rater__gender",
        "rater__occupation",
    )  # fmt: skip
    columns = ["rater_id", "movie_id", "score", "rated_at", "age", "gender", "occupation"]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def data_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the ratings and demographics a model was trained on."""
    digest = hashlib.sha256()
    for column in ["rater_id", "movie_id", "score", "age"]:
        digest.update(frame[column].to_numpy(np.int64).tobytes())
    for column in ["gender", "occupation"]:
        digest.update("|".join(frame[column]).encode())
    return digest.hexdigest()


def movie_catalogue(movie_ids) -> dict:
    """Titles, years and genre names of the given movies, in the same order."""
    movies = Movie.objects.in_bulk(list(map(int, movie_ids)))
    genres = {}
    for movie_id, name in Movie.genres.through.objects.values_list("movie_id", "genre__name"):
        genres.setdefault(movie_id, []).append(name)
    ordered = [movies[int(i)] for i in movie_ids]
    return {
        "movie_ids": np.asarray(movie_ids, dtype=np.int64),
        "titles": [m.title for m in ordered],
        "years": [m.year for m in ordered],
        "genres": [sorted(genres.get(m.id, [])) for m in ordered],
    }
