"""Reads: the catalogue as numpy/pandas frames for training and evaluation, and the
served model's card.

pandas is imported by the functions that build frames, not here: serving workers import
this module for the model card, and pandas would be a large share of their memory.
"""

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from movies.models import Feedback, Movie, Rating
from recommender.serving import Recommender

if TYPE_CHECKING:
    import pandas as pd

# The movie's title lets the interview ask about one id per title (ml-100k has duplicates).
RATING_COLUMNS = [
    "rater_id", "movie_id", "score", "rated_at", "age", "gender", "occupation", "title"
]  # fmt: skip
# A choice without a rating counts as liking the movie (ratings >= 4 are the positives).
CHOSE_SCORE = 4


def rating_frame() -> "pd.DataFrame":
    """One row per rating with the rater's demographics, ordered by rater then movie."""
    import pandas as pd

    rows = Rating.objects.order_by("rater_id", "movie_id").values_list(
        "rater_id", "movie_id", "score", "rated_at", "rater__age", "rater__gender",
        "rater__occupation", "movie__title",
    )  # fmt: skip
    return pd.DataFrame.from_records(list(rows), columns=RATING_COLUMNS)


def feedback_rating_frame(*, first_rater_id: int) -> "pd.DataFrame":
    """The API's feedback as extra rows shaped like rating_frame's.

    Each feedback person becomes one synthetic rater, numbered from ``first_rater_id``:
    the rows sharing a request_id and demographics; without a request_id, the rows sharing
    an access token and demographics (a row from before tokens were kept stands alone).
    Per person and movie one row is kept: the latest rating, else the latest choice,
    which counts as CHOSE_SCORE.
    """
    import pandas as pd

    rows = Feedback.objects.order_by("id").values_list(
        "id", "request_id", "token_id", "movie_id", "rating", "created_at", "age", "gender",
        "occupation", "movie__title",
    )  # fmt: skip
    columns = [
        "id", "request_id", "token_id", "movie_id", "rating", "rated_at", *RATING_COLUMNS[4:]
    ]  # fmt: skip
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    if frame.empty:
        return pd.DataFrame(columns=RATING_COLUMNS)
    alone = "#" + frame["id"].astype(str)
    token = ("token " + frame["token_id"]).where(frame["token_id"] != "", alone)
    frame["person"] = (
        frame["request_id"].where(frame["request_id"] != "", token)
        + "|" + frame["age"].astype(str) + "|" + frame["gender"] + "|" + frame["occupation"]
    )  # fmt: skip
    rating = pd.to_numeric(frame["rating"])
    frame["explicit"] = rating.notna()
    frame["score"] = rating.fillna(CHOSE_SCORE).astype(np.int64)
    frame = frame.sort_values(["explicit", "id"]).drop_duplicates(
        ["person", "movie_id"], keep="last"
    )
    frame = frame.sort_values("id")  # raters numbered in order of their first feedback kept
    frame["rater_id"] = first_rater_id + pd.factorize(frame["person"])[0]
    return frame.sort_values(["rater_id", "movie_id"])[RATING_COLUMNS].reset_index(drop=True)


def data_fingerprint(frame: "pd.DataFrame") -> str:
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
