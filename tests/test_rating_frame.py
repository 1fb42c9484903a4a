"""rating_frame: every stored rating, read in columns, with its rater's demographics; every
algorithm fits it."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from coldstart.estimators import ALGORITHMS, make_estimator
from movies.models import Genre, Movie, Rater, Rating
from recommender import selectors
from recommender.selectors import rating_frame
from tests.coldstart.test_estimators import PROFILES

pytestmark = pytest.mark.django_db

LARGEST_ID = 2**31 - 1  # the ids are 32-bit columns on PostgreSQL


def store_ratings(rows):
    """Ratings from (rater_id, movie_id, score, Unix seconds), creating whom they name."""
    for rater_id in {row[0] for row in rows}:
        Rater.objects.create(id=rater_id, age=20 + rater_id % 50, gender="F", occupation="writer")
    for movie_id in {row[1] for row in rows}:
        Movie.objects.create(id=movie_id, title=f"Movie {movie_id} (1995)")
    Rating.objects.bulk_create(
        Rating(rater_id=r, movie_id=m, score=s, rated_at=datetime.fromtimestamp(t, UTC))
        for r, m, s, t in rows
    )


def frame_rows(frame):
    return [
        tuple(map(int, row))
        for row in frame[["rater_id", "movie_id", "score", "rated_at"]].to_numpy()
    ]


def test_every_rating_is_read_across_chunks_and_deleted_ids_ordered_by_rater_then_movie(
    monkeypatch,
):
    monkeypatch.setattr(selectors, "READ_CHUNK", 2)
    rows = [(7, 3, 5, 880000000), (2, 9, 1, 890000000), (7, 1, 3, 870000000),
            (2, 3, 4, 0), (5, 9, 2, 1700000000)]  # fmt: skip
    store_ratings(rows)
    Rating.objects.filter(rater_id=7, movie_id=3).delete()  # a gap in the ids

    frame = rating_frame()

    kept = sorted(row for row in rows if row[:2] != (7, 3))
    assert frame_rows(frame) == kept
    assert frame["age"].tolist() == [20 + rater % 50 for rater, *_ in kept]
    assert frame["title"].tolist() == [f"Movie {movie} (1995)" for _, movie, *_ in kept]


def test_ids_too_large_to_pack_together_are_read_as_they_are():
    rows = [(LARGEST_ID, LARGEST_ID, 5, 880000000), (LARGEST_ID, 1, 1, 870000000),
            (1, LARGEST_ID, 4, 890000000)]  # fmt: skip
    store_ratings(rows)

    assert frame_rows(rating_frame()) == sorted(rows)


def test_no_ratings_give_an_empty_frame():
    assert rating_frame().empty
    assert np.array_equal(rating_frame().columns, selectors.RATING_COLUMNS)


def test_each_rating_carries_its_movies_genre_names_sorted_and_joined():
    store_ratings([(1, 3, 5, 880000000), (1, 4, 2, 880000001), (2, 3, 4, 880000002)])
    drama = Genre.objects.create(id=8, name="Drama")
    Movie.objects.get(id=3).genres.set([drama, Genre.objects.create(id=5, name="Comedy")])

    assert rating_frame()["genres"].tolist() == ["Comedy|Drama", "", "Comedy|Drama"]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_keeps_the_serving_contract(loaded_catalogue, name):
    """The frame read from the database fits, scores and clones as scikit-learn expects."""
    frame = rating_frame()
    estimator = make_estimator(name)
    with pytest.raises(NotFittedError):
        estimator.score_profiles(PROFILES)
    assert estimator.fit(frame, frame["score"]) is estimator
    assert np.all(np.diff(estimator.movie_ids_) > 0)
    assert set(estimator.movie_ids_) == set(frame["movie_id"])
    from_dicts = estimator.score_profiles(PROFILES)
    from_frame = estimator.score_profiles(pd.DataFrame(PROFILES))
    assert from_dicts.shape == (2, len(estimator.movie_ids_))
    assert np.allclose(from_dicts, from_frame)
    assert np.all(np.isfinite(from_dicts))
    # scikit-learn conventions: parameters round-trip, clones are unfitted
    assert clone(estimator).get_params() == estimator.get_params()
    with pytest.raises(NotFittedError):
        clone(estimator).score_profiles(PROFILES)
