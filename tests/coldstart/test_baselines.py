"""The simple baseline the interview is measured against: a fixed list of questions and the
answer-weighted nearest raters."""

import numpy as np
import pytest

from coldstart import baselines
from coldstart.baselines import NearestRaters
from coldstart.serving import Answer

MOVIE_IDS = np.arange(1, 13)
UNKNOWN = 12  # the placeholder's column


def two_tastes(n_raters=60) -> np.ndarray:
    """Even raters love movies 1-4, odd raters 5-8 (columns 0-7), neither saw the other's;
    everyone loves movie 9; movie 10 splits them (5 for even raters, 1 for odd); movie 11
    repeats movie 10's title; the placeholder (12) is rated by all."""
    ratings = np.zeros((n_raters, len(MOVIE_IDS)), dtype=np.int8)
    for rater in range(n_raters):
        even = rater % 2 == 0
        ratings[rater, slice(0, 4) if even else slice(4, 8)] = 5
        ratings[rater, 8] = 5
        ratings[rater, 9 if rater % 3 else 10] = 5 if even else 1
        ratings[rater, 11] = 3
    return ratings


@pytest.fixture(scope="module")
def baseline():
    titles = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10])
    return NearestRaters(n_questions=3).fit(two_tastes(), MOVIE_IDS, titles, np.array([11]))


def test_without_answers_it_ranks_by_the_share_of_raters_who_liked_each_movie(baseline):
    scores = baseline.score({}, [])
    liked = (two_tastes() >= 4).mean(axis=0)
    np.testing.assert_allclose(scores, liked, rtol=1e-6)


def test_liking_the_divisive_movie_puts_the_raters_who_agree_on_top(baseline):
    answers = [Answer(movie_id=10, rating=5, seen=True)]
    scores = baseline.score({}, answers)
    assert scores[9] == -np.inf  # what was answered is never recommended
    assert scores[0:4].min() > scores[4:8].max()


def test_not_having_seen_a_groups_movie_points_to_the_other_group(baseline):
    answers = [Answer(movie_id=1, rating=None, seen=False)]
    scores = baseline.score({}, answers)
    assert scores[4:8].min() > scores[1:4].max()


def test_questions_skip_answered_titles_and_never_ask_about_the_placeholder(baseline):
    asked = baseline.next_questions({}, [], n=12)
    assert UNKNOWN not in asked
    assert len({10, 11} & set(asked.tolist())) == 1  # one per title
    answered = [Answer(movie_id=int(asked[0]), rating=4, seen=True)]
    assert baseline.next_questions({}, answered, n=1)[0] == asked[1]


def test_the_tuning_keeps_a_held_out_persons_copies_out_of_their_neighbours(monkeypatch):
    splits = []
    original = baselines._Split

    def recording(ratings, held, pool, ranked):
        splits.append((held, pool))
        return original(ratings, held, pool, ranked)

    monkeypatch.setattr(baselines, "_Split", recording)
    person_of = np.arange(60) // 4  # four copies of each of 15 people
    titles = np.arange(len(MOVIE_IDS))
    NearestRaters(n_questions=3).fit(two_tastes(), MOVIE_IDS, titles, np.array([11]), person_of)
    NearestRaters(n_questions=3).fit(two_tastes(), MOVIE_IDS, titles, np.array([11]))
    (held, pool), (alone_held, alone_pool) = splits
    assert len(held) == 20 and len(pool)
    assert not set(person_of[held]) & set(person_of[pool])
    assert sorted([*alone_held, *alone_pool]) == list(range(60))  # each rater their own person
