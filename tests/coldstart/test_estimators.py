"""The estimators' contract with serving and scikit-learn, and what the default learns."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from coldstart import estimators
from coldstart.answers import level_features
from coldstart.estimators import (
    DEFAULT_ALGORITHM,
    DemographicPopularity,
    make_estimator,
    movie_genres,
)
from coldstart.interview import fit_interview
from coldstart.serving import Answer

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


# The interview: what the default learns from answers about movies.

STUDENT = {"age": 22, "gender": "F", "occupation": "student"}


def taste_groups(n_raters=48) -> pd.DataFrame:
    """Look-alike raters in two taste groups the demographics cannot tell apart: even raters
    love movies 1-4 and dislike 5-8, odd raters the reverse; everyone saw 9 and liked it.
    Movies 246 and 268 share a title, and 267 is the `unknown` placeholder, rated often."""
    rows, titles = [], {267: "unknown", 246: "Chasing Amy (1997)", 268: "Chasing Amy (1997)"}
    for rater in range(1, n_raters + 1):
        loved = range(1, 5) if rater % 2 == 0 else range(5, 9)
        for movie in range(1, 10):
            score = 5 if movie in loved or movie == 9 else 2
            rows.append((rater, movie, score, 20 + rater % 5, "MF"[rater % 3 == 0], "student"))
        rows += [(rater, 267, 4, 20 + rater % 5, "MF"[rater % 3 == 0], "student")]
        rows += [(rater, 246 if rater % 4 else 268, 3, 20 + rater % 5, "M", "student")]
    frame = ratings(rows)
    frame["rated_at"] += pd.to_timedelta(frame.index, unit="s")
    frame["title"] = [titles.get(movie, f"Movie {movie} (1999)") for movie in frame["movie_id"]]
    return frame


@pytest.fixture(scope="module")
def interviewer():
    frame = taste_groups()
    return DemographicPopularity().fit(frame, frame["score"])


def test_without_answers_the_scores_are_exactly_the_cold_start_ones(interviewer):
    frame = taste_groups()
    cold = DemographicPopularity(n_questions=0).fit(frame, frame["score"]).scorer_
    assert not hasattr(cold, "score")
    for profile in [STUDENT, *PROFILES]:
        today = cold.score_profiles([profile])[0]
        np.testing.assert_array_equal(interviewer.scorer_.score(profile, ()), today)
        np.testing.assert_array_equal(interviewer.score_profiles([profile])[0], today)


def test_liking_a_movie_raises_what_its_fans_liked_and_lowers_the_rest(interviewer):
    scorer = interviewer.scorer_
    (first,) = scorer.next_questions(STUDENT, (), 1)
    assert first in range(1, 9)  # the movies that split the raters are the ones worth asking
    liked = scorer.score(STUDENT, [Answer(int(first), rating=5, seen=True)])
    disliked = scorer.score(STUDENT, [Answer(int(first), rating=1, seen=True)])
    column = {movie: at for at, movie in enumerate(interviewer.movie_ids_.tolist())}
    fans_movies = [m for m in range(1, 9) if (m < 5) == (first < 5) and m != first]
    others = [m for m in range(1, 9) if (m < 5) != (first < 5)]
    assert all(liked[column[m]] > disliked[column[m]] for m in fans_movies)
    assert all(liked[column[m]] < disliked[column[m]] for m in others)
    assert liked[column[first]] == disliked[column[first]] == -np.inf  # never recommended


def test_answers_to_the_questions_count_the_same_in_any_order(interviewer):
    scorer = interviewer.scorer_
    asked = scorer.next_questions(STUDENT, (), 4).tolist()
    said = [(5, True), (2, True), (None, False), (1, True)]
    answers = [
        Answer(movie, rating, seen) for movie, (rating, seen) in zip(asked, said, strict=True)
    ]
    np.testing.assert_allclose(
        scorer.score(STUDENT, answers[::-1]), scorer.score(STUDENT, answers), rtol=1e-6
    )


def test_seen_without_an_opinion_says_less_than_a_rating_either_way(interviewer):
    scorer = interviewer.scorer_
    (first,) = scorer.next_questions(STUDENT, (), 1).tolist()
    liked, seen, disliked = (
        scorer.score(STUDENT, [Answer(first, rating, True)]) for rating in (5, None, 1)
    )
    column = {movie: at for at, movie in enumerate(interviewer.movie_ids_.tolist())}
    fans_movies = [column[m] for m in range(1, 9) if (m < 5) == (first < 5) and m != first]
    assert np.all(liked[fans_movies] > seen[fans_movies])
    assert np.all(seen[fans_movies] > disliked[fans_movies])


def test_seen_without_an_opinion_of_a_movie_all_its_raters_rated_alike_counts_as_that(
    interviewer,
):
    scorer = interviewer.scorer_
    every = scorer.next_questions(STUDENT, (), 100).tolist()
    (amy,) = {246, 268} & set(every)  # everyone who saw Chasing Amy rated it a 3
    before = [Answer(movie, 5 if movie < 5 else 2, True) for movie in every[: every.index(amy)]]
    rated = scorer.score(STUDENT, [*before, Answer(amy, 3, True)])
    seen = scorer.score(STUDENT, [*before, Answer(amy, None, True)])
    np.testing.assert_allclose(seen, rated, atol=1e-6)
    # Not vacuous where the answer carries no signal: what the regression reads for it is a 3.
    three = level_features(np.array([[3]]))[0, 1:]
    np.testing.assert_array_equal(scorer.interview.prefix.seen_levels[every.index(amy)], three)


def test_questions_never_repeat_an_answered_title_nor_ask_about_the_placeholder(interviewer):
    scorer = interviewer.scorer_
    every = scorer.next_questions(STUDENT, (), 100).tolist()
    assert 267 not in every
    assert len({246, 268} & set(every)) == 1  # one id per title
    assert len(every) == len(set(every)) == 9 + 1
    twin = 268 if 246 in every else 246
    answers = [Answer(twin, rating=None, seen=True), Answer(every[0], rating=4, seen=True)]
    rest = scorer.next_questions(STUDENT, answers, 100).tolist()
    assert set(rest) == set(every) - {246, 268, every[0]}
    assert rest == [movie for movie in every if movie in rest]  # the order holds


def test_answers_about_movies_the_model_never_saw_are_ignored(interviewer):
    scorer = interviewer.scorer_
    unseen = [Answer(99_999, rating=5, seen=True)]
    np.testing.assert_array_equal(scorer.score(STUDENT, unseen), scorer.score(STUDENT, ()))
    assert scorer.next_questions(STUDENT, unseen, 3).tolist() == (
        scorer.next_questions(STUDENT, (), 3).tolist()
    )


def test_the_interview_is_fitted_on_one_blas_thread(monkeypatch):
    seen = []

    def recording(*args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return fit_interview(*args, **kwargs)

    monkeypatch.setattr(estimators, "fit_interview", recording)
    frame = taste_groups()
    DemographicPopularity().fit(frame, frame["score"])
    assert seen and set(seen) == {1}


def test_the_scorer_imports_numpy_only():
    """Serving unpickles it: scikit-learn, SciPy or pandas would be most of a worker."""
    code = (
        "import sys, coldstart.scoring;"
        "print(sorted({'sklearn', 'scipy', 'pandas'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_genre_flags_are_read_per_movie_by_ascending_id_and_absent_without_the_column():
    frame = ratings([(1, 9, 5, 30, "F", "writer"), (1, 2, 4, 30, "F", "writer"),
                     (2, 9, 3, 40, "M", "writer"), (2, 5, 1, 40, "M", "writer")])  # fmt: skip
    by_movie = {2: "Comedy|Drama", 5: "", 9: "Drama"}
    frame["genres"] = frame["movie_id"].map(by_movie).astype("category")
    firsts = np.unique(frame["movie_id"], return_index=True)[1]  # as fit finds them
    flags = movie_genres(frame, firsts)  # movies 2, 5, 9 x (Comedy, Drama)
    assert flags.tolist() == [[1, 1], [0, 0], [0, 1]]
    assert movie_genres(frame.drop(columns="genres"), firsts).shape == (3, 0)
