"""Ranking in serving: top-k, ties, duplicate titles, filters, and the per-profile cache.

A stub estimator with scores chosen by the test stands in for a fitted one: what is under
test is how serving turns any score row into a list, checked against a plain sort.
"""

import numpy as np
import pytest

from coldstart.serving import MAX_RECS, Answer, Profile, Recommender, all_profiles

PROFILE = Profile(30, "M", "programmer")


class StubEstimator:
    """score_profiles returns the same row for everyone, and counts its calls."""

    def __init__(self, scores):
        self.row = np.asarray(scores, dtype=np.float64)
        self.calls = 0

    def score_profiles(self, profiles):
        self.calls += 1
        return np.tile(self.row, (len(profiles), 1))


def make_recommender(scores, titles=None, genres=None, movie_ids=None) -> Recommender:
    n = len(scores)
    movie_ids = np.arange(1, n + 1) if movie_ids is None else np.asarray(movie_ids)
    return Recommender(
        {
            "scorer": StubEstimator(scores),
            "catalogue": {
                "movie_ids": movie_ids,
                "titles": titles or [f"Movie {i} (2000)" for i in movie_ids],
                "years": [2000] * n,
                "genres": genres or [["Drama"]] * n,
            },
            "algorithm": "stub",
            "trained_at": "2026-01-01T00:00:00+00:00",
        }
    )


def plain_ranking(scores, titles, limit, allowed=None):
    """The reference: sort by (-score, id), skip unservable and already served titles;
    movie ids are 1, 2, ... in catalogue order."""
    served, seen = [], set()
    for index in sorted(range(len(scores)), key=lambda i: (-scores[i], i)):
        title = titles[index]
        if title == "unknown" or title in seen or not np.isfinite(scores[index]):
            continue
        if allowed is not None and not allowed[index]:
            continue
        seen.add(title)
        served.append(index + 1)
    return served[:limit]


def ids(items):
    return [item["id"] for item in items]


def test_best_first_and_ties_go_to_the_lower_id():
    recommender = make_recommender([0.5, 0.9, 0.5, 0.1, 0.9])
    assert ids(recommender.recommend(PROFILE, 5)) == [2, 5, 1, 3, 4]


def test_duplicate_titles_are_served_once_under_the_best_id():
    titles = ["A (1990)", "B (1990)", "A (1990)", "unknown"]
    recommender = make_recommender([0.2, 0.5, 0.9, 1.0], titles=titles)
    assert ids(recommender.recommend(PROFILE, 10)) == [3, 2]


def test_scores_that_are_not_numbers_are_never_served():
    recommender = make_recommender([np.nan, 0.3, -np.inf, 0.1])
    assert ids(recommender.recommend(PROFILE, 10)) == [2, 4]


@pytest.mark.parametrize("seed", range(20))
def test_ranking_matches_a_plain_sort(seed):
    """Random scores with many ties and many duplicate titles, filtered and not."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    scores = rng.integers(0, 20, n) / 4.0
    titles = [f"T{t}" if t else "unknown" for t in rng.integers(0, max(2, n // 2), n)]
    genres = [["Comedy"] if g else ["Drama", "War"] for g in rng.integers(0, 2, n)]
    recommender = make_recommender(scores, titles=titles, genres=genres)
    limit = int(rng.integers(1, MAX_RECS + 1))
    assert ids(recommender.recommend(PROFILE, limit)) == plain_ranking(scores, titles, limit)

    exclude = [int(i) for i in rng.integers(1, n + 1, 5)]
    excluded_titles = {titles[i - 1] for i in exclude}
    allowed = np.array(
        [("War" in g) and t not in excluded_titles for g, t in zip(genres, titles, strict=True)]
    )
    filtered = recommender.recommend(PROFILE, limit, genres=["War"], exclude=exclude)
    assert ids(filtered) == plain_ranking(scores, titles, limit, allowed)


def test_items_carry_the_catalogue_fields_and_rounded_scores():
    recommender = make_recommender([0.1234567891], genres=[["Comedy", "Drama"]])
    assert recommender.recommend(PROFILE, 1) == [
        {
            "id": 1,
            "title": "Movie 1 (2000)",
            "year": 2000,
            "genres": ["Comedy", "Drama"],
            "score": 0.123457,
        }
    ]


def test_genres_keep_movies_having_any_of_them():
    genres = [["Comedy"], ["Drama"], ["Comedy", "War"], ["Horror"]]
    recommender = make_recommender([0.4, 0.3, 0.2, 0.1], genres=genres)
    assert ids(recommender.recommend(PROFILE, 10, genres=["War", "Drama"])) == [2, 3]
    assert recommender.genre_names == ("Comedy", "Drama", "Horror", "War")


def test_a_duplicate_title_can_qualify_by_its_other_id():
    """ml-100k lists Chasing Amy twice with different genres: either id may be served."""
    titles = ["Chasing Amy (1997)", "Chasing Amy (1997)", "Fargo (1996)"]
    genres = [["Drama"], ["Comedy", "Drama"], ["Crime"]]
    recommender = make_recommender([0.9, 0.1, 0.5], titles=titles, genres=genres)
    assert ids(recommender.recommend(PROFILE, 10)) == [1, 3]
    assert ids(recommender.recommend(PROFILE, 10, genres=["Comedy"])) == [2]


def test_excluding_one_id_of_a_title_excludes_the_title():
    titles = ["Chasing Amy (1997)", "Fargo (1996)", "Chasing Amy (1997)"]
    recommender = make_recommender([0.9, 0.5, 0.1], titles=titles, movie_ids=[246, 100, 268])
    assert ids(recommender.recommend(PROFILE, 10, exclude=[268])) == [100]


def test_unknown_ids_in_exclude_are_ignored():
    recommender = make_recommender([0.9, 0.5], movie_ids=[10, 20])
    assert ids(recommender.recommend(PROFILE, 10, exclude=[5, 15, 25, 2**31 - 1])) == [10, 20]


def test_filters_that_leave_nothing_give_an_empty_list():
    recommender = make_recommender([0.9, 0.5], genres=[["Drama"], ["Drama"]])
    assert recommender.recommend(PROFILE, 10, genres=["Western"]) == []
    assert recommender.recommend(PROFILE, 10, exclude=[1, 2]) == []


def test_unfiltered_lists_come_from_the_cache_and_filtered_ones_do_not():
    recommender = make_recommender([0.1, 0.2, 0.3], genres=[["Drama"], ["War"], ["Drama"]])
    estimator = recommender.scorer
    for max_recs in (1, 3, 2):
        recommender.recommend(PROFILE, max_recs)
    assert estimator.calls == 1
    assert ids(recommender.recommend(PROFILE, 3, genres=["War"])) == [2]
    assert ids(recommender.recommend(PROFILE, 3, exclude=[3])) == [2, 1]
    assert estimator.calls == 3
    assert ids(recommender.recommend(PROFILE, 3)) == [3, 2, 1]  # the cache is untouched
    assert estimator.calls == 3
    recommender.recommend(Profile(31, "M", "programmer"), 3)
    assert estimator.calls == 4  # each profile has its own entry


def test_all_profiles_are_every_accepted_demographic():
    profiles = all_profiles()
    assert len(profiles) == len(set(profiles)) == 121 * 3 * 21
    assert Profile(0, "O", "writer") in profiles and Profile(120, "M", "none") in profiles


def test_warm_up_ranks_ahead_so_requests_do_not_score():
    recommender = make_recommender([0.1, 0.2, 0.3])
    profiles = all_profiles()
    assert recommender.warm_up(profiles, seconds=60) == len(profiles)
    calls = recommender.scorer.calls
    assert ids(recommender.recommend(Profile(44, "F", "artist"), 2)) == [3, 2]
    assert recommender.scorer.calls == calls
    assert calls < len(profiles) / 10  # profiles are scored in batches


def test_warm_up_stops_when_out_of_time():
    recommender = make_recommender([0.1, 0.2, 0.3])
    assert recommender.warm_up(all_profiles(), seconds=0) < len(all_profiles())


class StubRegressor(StubEstimator):
    """As seed-rf: a scikit-learn regressor, whose ``score(X, y)`` is its R², not a ranking."""

    def score(self, X, y):
        raise AssertionError("a regressor's score(X, y) is not a ranking")


def test_a_model_without_an_interview_ranks_answers_out_by_its_own_scores():
    recommender = make_recommender([0.1, 0.4, 0.3, 0.2])
    recommender.scorer = StubRegressor(recommender.scorer.row)
    assert ids(recommender.recommend(PROFILE, 3)) == [2, 3, 4]
    assert ids(recommender.recommend(PROFILE, 3, answers=[Answer(2, 4, True)])) == [3, 4, 1]


def test_a_model_without_an_interview_asks_about_its_best_guesses():
    recommender = make_recommender([0.1, 0.4, 0.3, 0.2], titles=["A", "B", "unknown", "D"])
    assert ids(recommender.questions(PROFILE, (), 3)) == [2, 4, 1]
    assert ids(recommender.questions(PROFILE, [Answer(2, rating=4, seen=True)], 3)) == [4, 1]
