"""The protocol's folds: over raters, or over the people that several raters copy."""

import numpy as np
import pandas as pd

from coldstart.domain import SOURCE
from coldstart.evaluation import N_FOLDS, rater_folds


def ratings(raters=60, copies_of_each=None):
    """Two ratings per rater; with ``copies_of_each``, raters copy people in runs of that many."""
    frame = pd.DataFrame({"rater_id": np.repeat(np.arange(raters), 2), "movie_id": 1})
    if copies_of_each:
        frame[SOURCE] = frame["rater_id"] // copies_of_each + 1000
    return frame


def test_every_rater_is_held_out_once_with_every_copy_of_their_person():
    frame = ratings(copies_of_each=3)
    held = []
    for train, test in rater_folds(frame, seed=3):
        assert not set(train[SOURCE]) & set(test[SOURCE])
        assert len(train) + len(test) == len(frame)
        held += sorted(set(test["rater_id"]))
    assert sorted(held) == list(range(60))
    assert len(list(rater_folds(frame, seed=3))) == N_FOLDS


def test_raters_who_are_their_own_source_get_the_folds_over_raters():
    plain = [set(test["rater_id"]) for _, test in rater_folds(ratings(), seed=3)]
    own = [set(test["rater_id"]) for _, test in rater_folds(ratings(copies_of_each=1), seed=3)]
    assert plain == own
    assert plain != [set(test["rater_id"]) for _, test in rater_folds(ratings(), seed=4)]
