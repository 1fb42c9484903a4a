"""The estimators' contract with serving and scikit-learn, and what the default learns."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from recommender.estimators import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    DemographicPopularity,
    make_estimator,
)
from recommender.selectors import rating_frame

PROFILES = [
    {"age": 25, "gender": "F", "occupation": "student"},
    {"age": 60, "gender": "O", "occupation": "retired"},
]


def ratings(rows) -> pd.DataFrame:
    """A ratings frame like selectors.rating_frame from (rater, movie, score, age, gender,
    occupation) tuples."""
    frame = pd.DataFrame(
        rows, columns=["rater_id", "movie_id", "score", "age", "gender", "occupation"]
    )
    frame["rated_at"] = pd.Timestamp("1998-01-01", tz="UTC")
    return frame


# Two groups that agree on movie 1 and split on 2 and 3: women aged ~20 like movie 2,
# men aged ~50 like movie 3, and movie 4 is liked by one person only.
GROUPS = ratings(
    [(r, 1, 5, 20 + r % 3, "F", "student") for r in range(1, 7)]
    + [(r, 2, 4, 20 + r % 3, "F", "student") for r in range(1, 7)]
    + [(r, 3, 2, 20 + r % 3, "F", "student") for r in range(1, 7)]
    + [(r, 1, 4, 50 + r % 3, "M", "engineer") for r in range(7, 12)]
    + [(r, 3, 5, 50 + r % 3, "M", "engineer") for r in range(7, 12)]
    + [(r, 2, 1, 50 + r % 3, "M", "engineer") for r in range(7, 12)]
    + [(12, 4, 5, 35, "M", "writer")]
)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_keeps_the_serving_contract(loaded_catalogue, name):
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


def test_default_ranks_what_look_alikes_liked():
    model = make_estimator(DEFAULT_ALGORITHM).fit(GROUPS, GROUPS["score"])
    young_woman, older_man = model.score_profiles(
        [
            {"age": 21, "gender": "F", "occupation": "student"},
            {"age": 51, "gender": "M", "occupation": "engineer"},
        ]
    )
    ids = list(model.movie_ids_)
    assert young_woman[ids.index(2)] > young_woman[ids.index(3)]
    assert older_man[ids.index(3)] > older_man[ids.index(2)]
    # liked by everyone beats liked by one stranger, for both
    for scores in (young_woman, older_man):
        assert scores[ids.index(1)] > scores[ids.index(4)]


def test_gender_o_weighs_men_and_women_alike():
    """ml-100k has no gender O: such a person is compared with everyone, gender aside."""
    model = DemographicPopularity(gender_weight=0.1).fit(GROUPS, GROUPS["score"])
    blind = DemographicPopularity(gender_weight=1.0).fit(GROUPS, GROUPS["score"])
    other = {"age": 35, "gender": "O", "occupation": "writer"}
    assert np.allclose(model.score_profiles([other]), blind.score_profiles([other]))
    assert np.allclose(
        model.score_profiles([other]), blind.score_profiles([{**other, "gender": "F"}])
    )


def test_contrast_zero_is_positive_popularity_and_more_contrast_favours_the_group():
    people = [{"age": 21, "gender": "F", "occupation": "student"}]
    flat = DemographicPopularity(contrast=0.0).fit(GROUPS, GROUPS["score"])
    liked = GROUPS[GROUPS["score"] >= 4].groupby("movie_id").size()
    expected = liked.reindex(flat.movie_ids_, fill_value=0) / GROUPS["rater_id"].nunique()
    assert np.allclose(flat.score_profiles(people)[0], expected)

    ids = list(flat.movie_ids_)
    gaps = []
    for contrast in (1.0, 2.0):
        scores = DemographicPopularity(contrast=contrast).fit(GROUPS, GROUPS["score"])
        scores = scores.score_profiles(people)[0]
        gaps.append(scores[ids.index(2)] - scores[ids.index(1)])
    assert gaps[1] > gaps[0]


def test_an_occupation_unseen_in_training_is_scored_not_refused():
    model = make_estimator(DEFAULT_ALGORITHM).fit(GROUPS, GROUPS["score"])
    scores = model.score_profiles([{"age": 30, "gender": "M", "occupation": "lawyer"}])
    assert np.all(np.isfinite(scores))
