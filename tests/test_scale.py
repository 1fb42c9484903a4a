"""A million ratings, for correctness: load, reload, change 1%, reload; train and serve.

bench/scale.py measures how long each step takes; this only checks what it does, on a
data set of MovieLens 1M's size written by harness/generate.py.
"""

import numpy as np
import pytest
from django.db.models import Max, Min, Sum

from coldstart.serving import Profile, Recommender
from harness.generate import change_ratings, write_dataset
from movies.models import Rating
from movies.services import movies_load
from recommender.model_file import load_artifact
from recommender.selectors import rating_frame
from recommender.services import model_train

pytestmark = [pytest.mark.django_db, pytest.mark.scale]

MILLION = {"ratings": 1_000_000, "raters": 6040, "movies": 3900}


def file_ratings(folder):
    """u.data's columns, ordered by rater then movie as rating_frame orders them."""
    data = np.loadtxt(folder / "u.data", dtype=np.int64, delimiter="\t")
    return data[np.lexsort((data[:, 1], data[:, 0]))]


def assert_stored_as_in(folder):
    data, frame = file_ratings(folder), rating_frame()
    for index, column in enumerate(["rater_id", "movie_id", "score"]):
        assert np.array_equal(frame[column].to_numpy(), data[:, index]), column
    times = Rating.objects.aggregate(first=Min("rated_at"), last=Max("rated_at"))
    assert [int(t.timestamp()) for t in times.values()] == [data[:, 3].min(), data[:, 3].max()]


def test_a_million_ratings_load_reload_and_change(tmp_path):
    data = write_dataset(tmp_path / "data", **MILLION, seed=0)

    first = movies_load(source=str(data), progress=False)
    assert (first.raters, first.movies, first.ratings) == (6040, 3900, 1_000_000)
    assert (first.ratings_created, first.rows_updated) == (1_000_000, 0)
    assert_stored_as_in(data)
    ids = Rating.objects.aggregate(Sum("id"), Max("id"))

    again = movies_load(source=str(data), progress=False)
    assert (again.created, again.rows_updated, again.genre_links_changed) == (0, 0, 0)

    changed = change_ratings(data, fraction=0.01, seed=1)
    third = movies_load(source=str(data), progress=False)
    assert (third.created, third.rows_updated, third.genre_links_changed) == (0, changed, 0)
    assert changed == 10_000
    assert_stored_as_in(data)  # the changed rows, and nothing else: counts and values agree
    assert Rating.objects.aggregate(Sum("id"), Max("id")) == ids  # updated in place


@pytest.mark.fit
def test_the_default_model_trains_and_serves_on_a_million_ratings(tmp_path):
    movies_load(source=str(write_dataset(tmp_path / "data", **MILLION, seed=0)), progress=False)
    artifact = model_train(output=tmp_path / "model.joblib", progress=False)
    assert artifact["data"]["ratings"] == 1_000_000
    assert artifact["data"]["raters"] == 6040
    recommender = Recommender(load_artifact(tmp_path / "model.joblib"))
    assert len(recommender.recommend(Profile(30, "F", "engineer"), 10)) == 10
