"""The demographic scorer sums counts per (occupation, gender, age) cell: it must rank
exactly as the kernel over every single rater that defines it (estimators.py). What it
keeps between requests changes no score, and answers reach the blend meant for them."""

import pickle

import numpy as np
import pytest

from coldstart.answers import (
    N_LEVELS,
    NOT_SEEN,
    RATED,
    SEEN_ONLY,
    VOLUNTEERED_BLOCKS,
    Blend,
    FactorModel,
    Interview,
    PrefixMix,
    PrefixRegressions,
    RegressionMix,
    VolunteeredRegression,
    observations,
)
from coldstart.domain import OCCUPATIONS, POSITIVE_SCORE
from coldstart.scoring import DemographicScorer

PARAMS = {"age_bandwidth": 8.0, "gender_weight": 0.1, "occupation_weight": 0.2, "contrast": 1.5}
TOP = 100  # what serving keeps per profile
# float32 sums: scores closer than this are one tie, which either order may break
TIE = 1e-6


def read_ml100k(folder):
    """Raters' demographics and the positive ratings, as the estimator passes them."""
    data = np.loadtxt(folder / "u.data", dtype=np.int64)
    users = [line.split("|") for line in (folder / "u.user").read_text("latin-1").splitlines()]
    raters, rater_rows = np.unique(data[:, 0], return_inverse=True)
    by_id = {int(user[0]): user for user in users}
    movies, movie_cols = np.unique(data[:, 1], return_inverse=True)
    liked = data[:, 2] >= POSITIVE_SCORE
    return {
        "rater_age": np.array([int(by_id[r][1]) for r in raters]),
        "rater_gender": np.array([by_id[r][2] for r in raters]),
        "rater_occupation": np.array([by_id[r][3] for r in raters]),
        "liked_raters": rater_rows[liked],
        "liked_movies": movie_cols[liked],
        "n_movies": len(movies),
    }


def kernel_scores(data, profile) -> np.ndarray:
    """The definition, in float64: every rater weighted, the weighted share who liked."""
    weights = np.exp(-0.5 * ((profile["age"] - data["rater_age"]) / PARAMS["age_bandwidth"]) ** 2)
    same_gender = (data["rater_gender"] == profile["gender"]) | (profile["gender"] == "O")
    weights = weights * np.where(same_gender, 1.0, PARAMS["gender_weight"])
    same_occupation = data["rater_occupation"] == profile["occupation"]
    weights = weights * np.where(same_occupation, 1.0, PARAMS["occupation_weight"])
    liked = np.bincount(
        data["liked_movies"], weights=weights[data["liked_raters"]], minlength=data["n_movies"]
    )
    share = np.bincount(data["liked_movies"], minlength=data["n_movies"]) / len(weights)
    return share + PARAMS["contrast"] * (liked / weights.sum() - share)


def top(scores) -> np.ndarray:
    """Best first, equal scores to the lower column (as serving ranks)."""
    return np.lexsort((np.arange(len(scores)), -scores))[:TOP]


def assert_same_ranking(scores, expected):
    ours, theirs = top(scores), top(expected)
    differ = ours != theirs
    # where the orders differ, the definition's scores are a tie at float32 precision
    assert np.allclose(expected[ours[differ]], expected[theirs[differ]], rtol=TIE, atol=0)


@pytest.mark.dataset
def test_cells_rank_every_kind_of_profile_as_the_per_rater_kernel_on_ml100k(full_ml100k_dir):
    data = read_ml100k(full_ml100k_dir)
    scorer = DemographicScorer(**data, **PARAMS)
    assert len(scorer.cell_counts) < len(data["rater_age"])  # fewer cells than raters
    profiles = [
        {"age": age, "gender": gender, "occupation": occupation}
        for age in (0, 7, 19, 26, 33, 48, 61, 73, 120)
        for gender in ("M", "F", "O")
        for occupation in [*OCCUPATIONS, "astronaut"]  # one unseen: matches nobody
    ]
    batched = scorer.score_profiles(profiles)
    for profile, scores in zip(profiles, batched, strict=True):
        expected = kernel_scores(data, profile)
        assert np.allclose(scores, expected, rtol=1e-5, atol=1e-7), profile
        assert np.array_equal(scores, scorer.score_profiles([profile])[0]), profile
        assert_same_ranking(scores, expected)


def test_raters_of_one_cell_count_as_many_raters():
    """Two raters of one cell weigh twice one rater: ties of cells are sums, not votes."""
    data = {
        "rater_age": [30, 30, 30], "rater_gender": ["F", "F", "M"],
        "rater_occupation": ["writer", "writer", "writer"],
        "liked_raters": [0, 1, 2], "liked_movies": [0, 0, 1], "n_movies": 2,
    }  # fmt: skip
    scorer = DemographicScorer(**data, **PARAMS)
    assert len(scorer.cell_counts) == 2
    for profile in ({"age": 30, "gender": "O", "occupation": "writer"},
                    {"age": 55, "gender": "M", "occupation": "doctor"}):  # fmt: skip
        scores = scorer.score_profiles([profile])[0]
        assert np.allclose(scores, kernel_scores(_arrays(data), profile), rtol=1e-6)


def _arrays(data):
    return {key: np.asarray(value) for key, value in data.items()}


# --- What a scorer keeps between requests --------------------------------------------------


def small_data(seed=0, *, raters=60, movies=25) -> dict:
    """Raters of a few ages, both genders and three occupations, each liking a few movies."""
    rng = np.random.default_rng(seed)
    liked_raters = rng.integers(0, raters, size=raters * 4)
    return {
        "rater_age": rng.choice([19, 25, 33, 47, 60], size=raters),
        "rater_gender": rng.choice(["M", "F"], size=raters),
        "rater_occupation": rng.choice(["writer", "doctor", "student"], size=raters),
        "liked_raters": liked_raters,
        "liked_movies": rng.integers(0, movies, size=len(liked_raters)),
        "n_movies": movies,
    }


def test_a_profile_scores_the_same_whoever_was_scored_before():
    """A scorer keeps each age and gender's share of the sums: reusing it changes nothing."""
    profile = {"age": 33, "gender": "F", "occupation": "doctor"}
    alone = DemographicScorer(**small_data(), **PARAMS).score_profiles([profile])[0]
    busy = DemographicScorer(**small_data(), **PARAMS)
    for occupation in [*OCCUPATIONS, "astronaut"]:  # the same age and gender first
        busy.score_profiles([{**profile, "occupation": occupation}])
    assert np.array_equal(busy.score_profiles([profile])[0], alone)
    assert np.array_equal(busy.score_profile(profile), alone)
    assert np.array_equal(busy.score_profiles([profile, profile])[1], alone)


def test_a_saved_scorer_holds_nothing_of_the_profiles_it_scored():
    scorer = DemographicScorer(**small_data(), **PARAMS)
    fresh = pickle.dumps(scorer)
    scorer.score_profiles([{"age": age, "gender": "M", "occupation": "writer"} for age in range(9)])
    assert pickle.dumps(scorer) == fresh


# --- Which blend reads the answers (Interview.shift) ---------------------------------------

QUESTIONS = [5, 2, 9, 0]


VOLUNTEERED_COLUMNS = [1, 5, 7, 8]
N_GENRES = 2


def small_interview(seed=0, *, movies=12, rank=3, mix=0.0) -> Interview:
    """Random loadings and tables; answers to other movies than the first questions move
    nothing (the second blend's alpha is 0) unless the volunteered regression has a
    ``mix``, so each regression's use shows."""
    rng = np.random.default_rng(seed)
    n = len(QUESTIONS)
    feature_of = np.full(movies * N_LEVELS, -1)
    feature_of[[7 * N_LEVELS + 3, 3 * N_LEVELS + 0, 11 * N_LEVELS + 2]] = [0, 1, 2]
    factors = FactorModel(
        means=float32(rng.random((4, movies)) / 2),
        loads=float32(rng.normal(size=(4, movies, rank))),
    )
    prefix = PrefixRegressions(
        setting=PrefixMix(ridge=1.0, mix=0.5),
        tables=float32(rng.normal(size=(n, 1 + N_LEVELS * n, movies))),
        seen_levels=float32(rng.dirichlet(np.ones(N_LEVELS), size=n)),
    )
    volunteered = VolunteeredRegression(
        setting=RegressionMix(ridge=1.0, mix=mix, shrink=2.0),
        feature_of=feature_of.astype(np.int32),
        columns=np.array(VOLUNTEERED_COLUMNS),
        table=float32(rng.normal(size=(3 + 2 * N_GENRES, 4))),  # 3 pairs, then genres
        offsets=float32(rng.normal(size=(2, 4))),
        genres=float32(rng.random((movies, N_GENRES)) < 0.5),
    )
    return Interview(
        factors=factors,
        interview_blend=Blend(ridge=0.5, alpha=1.0, shrink=1.0),
        volunteered_blend=Blend(ridge=1.0, alpha=0.0, shrink=1.0),
        questions=np.array(QUESTIONS, dtype=np.int32),
        title_group=np.arange(movies, dtype=np.int32),
        prefix=prefix,
        volunteered=volunteered,
    )


def float32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def shift(interview, answers: dict) -> np.ndarray:
    """answers: {column: rating, 0 for "not seen", None for "seen, no opinion"}."""
    cols = np.array(list(answers), dtype=np.intp)
    kinds = [RATED if r else NOT_SEEN if r == 0 else SEEN_ONLY for r in answers.values()]
    ratings = [r or 0 for r in answers.values()]
    return interview.shift(cols, np.array(kinds, np.int8), np.array(ratings, np.int8))


def test_answers_to_the_first_questions_are_read_in_any_order():
    interview = small_interview()
    in_order = shift(interview, {5: 4, 2: 0, 9: None})
    assert np.abs(in_order).max() > 0.01
    assert np.allclose(shift(interview, {9: None, 5: 4, 2: 0}), in_order, atol=1e-5)


def test_answers_to_the_whole_list_and_more_are_read_as_an_interview():
    assert np.abs(shift(small_interview(), {1: 5, 5: 4, 2: 3, 9: 1, 0: 5, 7: 5})).max() > 0.01


@pytest.mark.parametrize(
    "answers",
    [{5: 4, 9: 2}, {2: 4}, {7: 3}, {5: 4, 2: 3, 9: 1, 7: 5}],
    ids=["skips-one", "not-the-first", "not-a-question", "one-short-of-the-list"],
)
def test_answers_to_other_movies_are_read_by_the_other_blend(answers):
    assert not shift(small_interview(), answers).any()


def test_rated_answers_to_other_movies_are_also_read_by_the_volunteered_regression():
    """Two ratings (7 at 5: row 0; 3 at 1: row 1), a "not seen" that the regression does not
    read, and an answer whose (movie, level) it has no row for (6 at 4)."""
    interview = small_interview(mix=1.5)
    moved = shift(interview, {7: 5, 3: 1, 4: 0, 6: 4})
    pairs = np.array([1, 1, 0]) / np.sqrt(3)  # three rated answers, two read
    genres = interview.volunteered.genres
    liked, other = genres[7] + genres[6], genres[3]  # every rated answer's genres count
    features = np.concatenate([pairs, liked / 3, other / 3])
    weight = 1.5 * 3 / (3 + 2.0)
    expected = np.zeros(12)
    expected[VOLUNTEERED_COLUMNS] = weight * (features @ interview.volunteered.table
                                              + interview.volunteered.offsets[-1])  # fmt: skip
    np.testing.assert_allclose(moved, expected, rtol=1e-5, atol=1e-6)


def test_answers_to_the_first_questions_never_reach_the_volunteered_regression():
    answers = {5: 4, 2: 0, 9: 3}
    np.testing.assert_array_equal(
        shift(small_interview(mix=1.5), answers), shift(small_interview(mix=0.0), answers)
    )


def test_only_unrated_answers_to_other_movies_move_nothing_through_the_regression():
    assert not shift(small_interview(mix=1.5), {7: 0, 3: None}).any()


def test_each_kind_of_answer_observes_its_blocks_seen_liked_loved_disliked():
    interview = small_interview()
    cols = np.array([3, 4, 5, 6, 7])
    kinds = np.array([RATED, RATED, RATED, NOT_SEEN, SEEN_ONLY], np.int8)
    ratings = np.array([5, 4, 2, 0, 0], np.int8)
    rows, values = observations(interview.factors, cols, kinds, ratings, 4)
    observed = {  # column: its blocks' values (seen, liked, loved, disliked; None: unobserved)
        3: [1, 1, 1, 0],
        4: [1, 1, 0, 0],
        5: [1, 0, 0, 1],
        6: [0, 0, 0, 0],
        7: [1, None, None, None],
    }
    expected_rows, expected_values = [], []
    for block in range(4):  # block by block
        for col, says in observed.items():
            if says[block] is not None:
                expected_rows.append(interview.factors.loads[block, col])
                expected_values.append(says[block] - interview.factors.means[block, col])
    np.testing.assert_allclose(rows, expected_rows)
    np.testing.assert_allclose(values, expected_values, rtol=1e-6)


def test_answers_the_person_chose_observe_only_seen_and_liked():
    interview = small_interview()
    cols, kinds = np.array([3, 5]), np.array([RATED, RATED], np.int8)
    rows, values = observations(interview.factors, cols, kinds, np.array([5, 2], np.int8), 4)
    fewer_rows, fewer_values = observations(
        interview.factors, cols, kinds, np.array([5, 2], np.int8), VOLUNTEERED_BLOCKS
    )
    assert VOLUNTEERED_BLOCKS == 2
    np.testing.assert_array_equal(fewer_rows, rows[:4])  # seen and liked of both answers
    np.testing.assert_array_equal(fewer_values, values[:4])
