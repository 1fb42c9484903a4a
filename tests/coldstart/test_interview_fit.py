"""The interview's fitting shortcuts: each gives what the plain computation gives."""

import numpy as np
import pytest

from coldstart import estimators, interview
from coldstart.answers import (
    N_LEVELS,
    NOT_SEEN,
    RATED,
    RATING_BLOCKS,
    RATING_LEVEL,
    VOLUNTEERED_BLOCKS,
    genre_shares,
    observations,
    posterior,
    volunteered_rows,
)
from coldstart.baselines import NearestRaters
from coldstart.domain import POSITIVE_SCORE, K
from coldstart.interview import Parts, measure, questions, volunteered
from coldstart.interview.factors import (
    fit_factors,
    rater_gram,
    simulated,
    volunteered_posteriors,
)
from coldstart.interview.fit import CAPPED_CATALOGUE, search_candidates, tuning_thirds
from coldstart.interview.measure import Asked, ndcg_counted
from coldstart.interview.volunteered import REGRESSION_MIN_COUNT, Regression
from tests.coldstart.test_estimators import taste_groups


def reference_ndcg(scores, relevant, n_relevant) -> np.ndarray:
    """NDCG@10 from a full stable sort of every row: equal scores to the lower column."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :K]
    hits = np.take_along_axis(relevant, top, axis=1)
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    dcg = hits[:, : len(discounts)] @ discounts[: hits.shape[1]]
    ideal = np.cumsum(discounts)[np.clip(n_relevant, 1, K) - 1]
    return np.where(n_relevant > 0, dcg / ideal, np.nan)


def tied_scores(rng, n_rows, n_cols) -> np.ndarray:
    """Scores with many exact ties (a coarse grid) and a few movies out of the ranking."""
    scores = np.round(rng.random((n_rows, n_cols)) * 6).astype(np.float32)
    scores[rng.random((n_rows, n_cols)) < 0.05] = -np.inf
    return scores


@pytest.mark.parametrize("n_cols", [4, 10, 30, 400])
def test_ndcg_without_sorting_equals_a_full_sort_with_ties_to_the_lower_column(n_cols):
    rng = np.random.default_rng(n_cols)
    scores = tied_scores(rng, 200, n_cols)
    relevant = rng.random(scores.shape) < 0.2
    # relevant movies outside these columns count as misses
    n_relevant = relevant.sum(axis=1) + rng.integers(0, 3, len(scores))
    got = ndcg_counted(scores, np.nonzero(relevant), n_relevant)
    np.testing.assert_array_equal(got, reference_ndcg(scores, relevant, n_relevant))


def test_ranking_some_columns_counts_the_relevant_movies_elsewhere_as_misses():
    rng = np.random.default_rng(0)
    base, shift = rng.random((50, 40)), rng.random((50, 40))
    relevant = rng.random(base.shape) < 0.3
    asked = [rng.choice(40, 3, replace=False) for _ in range(50)]
    columns = np.sort(rng.choice(40, 25, replace=False))
    outside = np.setdiff1d(np.arange(40), columns)
    everything = Asked(np.where(np.isin(np.arange(40), outside), -np.inf, base), relevant,
                        asked, np.arange(40))  # fmt: skip
    some = Asked(base, relevant, asked, columns)
    np.testing.assert_array_equal(
        some.ndcgs({0.5}, shift[:, columns])[0.5], everything.ndcgs({0.5}, shift)[0.5]
    )


@pytest.mark.parametrize("rows_at_once", [7, 128])
def test_ranking_only_the_columns_that_can_reach_a_top_10_changes_no_ndcg(
    rows_at_once, monkeypatch
):
    monkeypatch.setattr(measure, "ROWS_AT_ONCE", rows_at_once)
    rng = np.random.default_rng(2)
    n_rows, n_cols = 80, 600
    # a long tail of movies that rarely reach a top 10, and answers that move some a lot
    base = (np.linspace(10, 0, n_cols) + rng.normal(0, 0.3, (n_rows, n_cols))).astype(np.float32)
    shift = rng.normal(0, 0.3, (n_rows, n_cols)).astype(np.float32)
    relevant = rng.random(base.shape) < 0.1
    asked = [rng.choice(n_cols, 5, replace=False) for _ in range(n_rows)]
    weights = {0.0, 0.5, 1.0, 2.0}
    prepared = Asked(base, relevant, asked, np.arange(n_cols))
    got = prepared.ndcgs(weights, shift)
    # most are left out, and more of them for fewer rows at once
    reachable = [len(prepared._reachable(weights, shift, slice(0, n))) for n in (80, 7)]
    assert reachable[1] < reachable[0] < n_cols / 2
    rows = np.repeat(np.arange(n_rows), 5)
    base[rows, np.concatenate(asked)] = -np.inf
    relevant[rows, np.concatenate(asked)] = False
    for weight in weights:
        expected = reference_ndcg(base + weight * shift, relevant, relevant.sum(axis=1))
        np.testing.assert_array_equal(got[weight], expected)


@pytest.fixture(scope="module")
def factors():
    rng = np.random.default_rng(1)
    ratings = (rng.random((60, 30)) < 0.4) * rng.integers(1, 6, (60, 30))
    return ratings.astype(np.int8), fit_factors(ratings.astype(np.int8), rank=4, seed=0)


def test_a_factor_model_from_every_raters_gram_is_the_one_fitted_on_its_raters_alone(factors):
    ratings, _ = factors
    rows = np.arange(0, 60, 3)
    alone = fit_factors(ratings[rows], rank=4, seed=0)
    shared = fit_factors(ratings[rows], rank=4, seed=0, raw=rater_gram(ratings)[np.ix_(rows, rows)])
    cols, kinds = np.array([1, 5, 8]), np.array([RATED, NOT_SEEN, RATED], np.int8)
    answers = np.array([5, 0, 2], np.int8)
    np.testing.assert_allclose(
        shared.liked(cols, kinds, answers, 4, 1.0), alone.liked(cols, kinds, answers, 4, 1.0),
        rtol=1e-4, atol=1e-5,
    )  # fmt: skip
    np.testing.assert_array_equal(shared.means, alone.means)


def test_candidates_solved_at_once_match_one_list_at_a_time(factors):
    ratings, model = factors
    lists = np.array([[3, 7, 0], [3, 7, 12], [3, 7, 25]])
    at_once = simulated(lists, ratings[:, lists], model, 0.3)
    for cols, solved in zip(lists, at_once, strict=True):
        np.testing.assert_allclose(solved, simulated(cols, ratings[:, cols], model, 0.3),
                                   rtol=1e-4, atol=1e-6)  # fmt: skip


def test_simulated_interviews_solved_at_once_match_what_serving_observes(factors):
    ratings, model = factors
    cols = np.array([2, 11, 5, 17])
    at_once = simulated(cols, ratings[:, cols], model, 0.3)
    for row in range(0, len(ratings), 7):
        answers = ratings[row, cols]
        kinds = np.where(answers > 0, RATED, NOT_SEEN).astype(np.int8)
        alone = posterior(*observations(model, cols, kinds, answers, len(model.means)), 0.3)
        np.testing.assert_allclose(at_once[row], alone, rtol=1e-4, atol=1e-6)


def test_the_factor_model_summed_block_by_block_is_the_model_of_all_blocks_at_once():
    """The loadings span the top principal directions of the [seen, liked, loved, disliked]
    matrix, centred, as a plain eigendecomposition of it finds them."""
    rng = np.random.default_rng(4)
    group = np.arange(80) % 4  # four tastes: what a rater rates, and how, follows theirs
    tastes = rng.integers(0, 6, (4, 30))
    ratings = np.where(rng.random((80, 30)) < 0.9, tastes[group], 0).astype(np.int8)
    model = fit_factors(ratings, rank=4, seed=0)
    x = np.hstack([RATING_BLOCKS[ratings, b] for b in range(RATING_BLOCKS.shape[1])])
    x -= x.mean(axis=0)
    _, vectors = np.linalg.eigh(x @ x.T)
    plain = x.T @ vectors[:, ::-1][:, :4] / np.sqrt(len(x))
    loads = np.concatenate(list(model.loads))  # blocks stacked as the columns of x
    np.testing.assert_allclose(model.means.ravel(), np.hstack([RATING_BLOCKS[ratings, b].mean(0)
                               for b in range(RATING_BLOCKS.shape[1])]), rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(loads @ loads.T, plain @ plain.T, atol=1e-3)


def test_revising_the_greedy_list_raises_what_it_weighs(factors, monkeypatch):
    """_revised weighs NDCG@10 after the first 5 questions and after all of them."""
    ratings, model = factors
    base = (ratings >= POSITIVE_SCORE).mean(axis=0) + np.zeros(ratings.shape, np.float32)
    parts = [(ratings[:30], base[:30], model), (ratings[30:], base[30:], model)]
    ranked, candidates = np.arange(ratings.shape[1]), np.arange(14)
    local, prepared = questions._prepared(parts, ranked)

    def weighed(cols):
        after = [questions._values(c[:-1], c[-1:], local, prepared)[0] for c in (cols[:5], cols)]
        return sum(after)

    revised = questions.choose_questions(parts, candidates, 8, ranked)
    monkeypatch.setattr(questions, "_revised", lambda chosen, *args: chosen)
    greedy = questions.choose_questions(parts, candidates, 8, ranked)
    assert len(set(revised.tolist())) == 8 and set(revised) <= set(candidates)
    assert not np.array_equal(revised, greedy)  # on these ratings it replaces a question
    assert weighed(revised) > weighed(greedy)


def test_candidates_scored_a_few_at_a_time_score_as_all_at_once(factors, monkeypatch):
    ratings, model = factors
    base = (ratings >= POSITIVE_SCORE).mean(axis=0) + np.zeros(ratings.shape, np.float32)
    parts = [(ratings[:30], base[:30], model), (ratings[30:], base[30:], model)]
    local, prepared = questions._prepared(parts, np.arange(20))
    chosen, pool = np.array([3, 9]), np.arange(10, 24)
    at_once = questions._values(chosen, pool, local, prepared)
    monkeypatch.setattr(questions, "SCORED_AT_ONCE", 30 * 20 * 3)  # 3 candidates a time
    np.testing.assert_array_equal(questions._values(chosen, pool, local, prepared), at_once)


def test_the_search_weighs_more_candidates_in_a_larger_catalogue_up_to_its_cap():
    assert search_candidates(1682, 50) == 50  # ml-100k's catalogue
    assert search_candidates(200, 50) == 50  # never fewer than asked for
    sizes = [search_candidates(n, 50) for n in (1682, 2500, 3000, 3883, CAPPED_CATALOGUE)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)  # it grows up to the cap
    assert search_candidates(100_000, 50) == search_candidates(CAPPED_CATALOGUE, 50)


def test_volunteered_answers_solved_at_once_match_what_serving_observes(factors):
    ratings, model = factors
    given = [np.array([1, 4, 9]), np.array([], dtype=np.intp), np.array([2]), np.arange(10)]
    at_once = volunteered_posteriors(given, ratings, model, 1.0)
    for row, cols in enumerate(given):
        kinds = np.full(len(cols), RATED, np.int8)
        observed = observations(model, cols, kinds, ratings[row, cols], VOLUNTEERED_BLOCKS)
        alone = posterior(*observed, 1.0)
        np.testing.assert_allclose(at_once[row], alone, rtol=1e-4, atol=1e-6)


def test_the_interview_learns_from_at_most_interview_raters(monkeypatch):
    shapes = []

    def recording(ratings, *args, **kwargs):
        shapes.append(ratings.shape)
        return interview.fit_interview(ratings, *args, **kwargs)

    monkeypatch.setattr(estimators, "fit_interview", recording)
    frame = taste_groups(n_raters=48)
    model = estimators.DemographicPopularity()
    model.interview_raters = 30
    fitted = model.fit(frame, frame["score"])
    assert shapes == [(30, frame["movie_id"].nunique())]
    assert len(fitted.scorer_.interview.questions)  # it still learns a list to ask


def test_one_rater_per_person_gives_the_seeds_permutation_in_thirds():
    thirds = tuning_thirds(np.arange(50), seed=7)
    expected = np.array_split(np.random.default_rng(7).permutation(50), 3)
    assert [t.tolist() for t in thirds] == [t.tolist() for t in expected]


def test_every_copy_of_a_person_is_in_one_third():
    person_of = np.random.default_rng(0).integers(0, 12, 60)  # 60 raters copying 12 people
    thirds = tuning_thirds(person_of, seed=7)
    assert sorted(np.concatenate(thirds).tolist()) == list(range(60))
    people = [set(person_of[third].tolist()) for third in thirds]
    assert all(people) and not (
        people[0] & people[1] or people[0] & people[2] or people[1] & people[2]
    )


def test_the_estimator_passes_each_raters_source_person_to_the_interview(monkeypatch):
    passed = []

    def recording(*args, person_of=None, **kwargs):
        passed.append(person_of)
        return interview.fit_interview(*args, person_of=person_of, **kwargs)

    monkeypatch.setattr(estimators, "fit_interview", recording)
    frame = taste_groups(n_raters=48)
    estimators.DemographicPopularity().fit(frame, frame["score"])
    frame["source"] = frame["rater_id"] // 3 + 100  # three copies of each person
    estimators.DemographicPopularity().fit(frame, frame["score"])
    assert passed[0] is None
    raters = np.unique(frame["rater_id"])
    np.testing.assert_array_equal(passed[1], raters // 3 + 100)


def first_rating_groups(n_raters=60):
    """Every rater's first rating is movie 0: fans (5) go on to like movie 3, the others
    (1) movie 4; everyone's second rating is movie 1 at 3. Movie 2 is rated 4 once, first."""
    ratings = np.zeros((n_raters, 6), dtype=np.int8)
    fans = np.arange(n_raters) % 2 == 0
    ratings[:, 0] = np.where(fans, 5, 1)
    ratings[:, 1] = 3
    ratings[fans, 3], ratings[~fans, 4] = 5, 5
    first_cols = [np.array([0, 1, 3 if fan else 4]) for fan in fans]
    ratings[0, 2], first_cols[0] = 4, np.array([2, 0, 1, 3])
    return ratings, first_cols


def no_genres(ratings) -> np.ndarray:
    return np.zeros((ratings.shape[1], 0))


def fitted_regression(ratings, first_cols, ridge=1.0, genres=None):
    """The regression over every rater (one third), its table and offsets."""
    movies = np.arange(ratings.shape[1])  # every movie moved
    genres = no_genres(ratings) if genres is None else genres
    regression = Regression(ratings, first_cols, genres, movies, [np.arange(len(ratings))])
    residual = (ratings >= POSITIVE_SCORE) - (ratings >= POSITIVE_SCORE).mean(axis=0)
    ((table, offsets),) = regression.fit(regression.moments(residual), [ridge])
    return regression, table, offsets


def test_the_volunteered_regression_learns_what_first_ratings_say():
    ratings, first_cols = first_rating_groups()
    regression, table, offsets = fitted_regression(ratings, first_cols)
    row = regression.feature_of[np.arange(6) * N_LEVELS + RATING_LEVEL[[5, 3, 4, 0, 0, 0]]]
    fan, neutral, once = row[0], row[1], row[2]
    assert once == -1  # one first rating is too rare to be read
    assert neutral >= 0 and fan >= 0
    column = {movie: at for at, movie in enumerate(regression.targets.tolist())}
    assert table[fan, column[3]] > 0.1 > -0.1 > table[fan, column[4]]
    assert offsets.shape == (10, len(regression.targets))


def test_the_genres_of_first_ratings_carry_a_taste_no_single_movie_is_common_enough_for():
    """Each rater's first rating is a movie nobody else gave first (no row of its own): of
    genre 0 for fans, who go on to like movie 0, of genre 1 for the others, who like 1."""
    n_raters = 40
    ratings = np.zeros((n_raters, 2 + n_raters), dtype=np.int8)
    genres = np.zeros((ratings.shape[1], 2))
    fans = np.arange(n_raters) % 2 == 0
    first = 2 + np.arange(n_raters)
    ratings[np.arange(n_raters), first] = 5
    genres[first, np.where(fans, 0, 1)] = 1
    ratings[fans, 0], ratings[~fans, 1] = 5, 5
    regression, table, _ = fitted_regression(ratings, [[col] for col in first], genres=genres)
    assert regression.n_pairs == 0 and regression.n_features == 4  # liked, then not: 2 each
    liked_genre_0 = table[0]
    assert liked_genre_0[0] > 0.1 > -0.1 > liked_genre_0[1]


def test_a_pair_needs_min_count_first_ratings_to_be_read():
    ratings, first_cols = first_rating_groups(n_raters=2 * REGRESSION_MIN_COUNT - 2)
    regression, _, _ = fitted_regression(ratings, first_cols)
    fan_row = regression.feature_of[0 * N_LEVELS + RATING_LEVEL[5]]
    assert fan_row == -1 and regression.feature_of[1 * N_LEVELS + RATING_LEVEL[3]] >= 0


@pytest.mark.parametrize("k", [1, 3, 10])
def test_first_ratings_read_at_once_match_what_serving_reads(factors, k):
    ratings, _ = factors
    rng = np.random.default_rng(2)
    first_cols = [rng.permutation(np.flatnonzero(row))[: rng.integers(0, 12)] for row in ratings]
    genres = rng.random((ratings.shape[1], 3)) < 0.4
    regression = Regression(ratings, first_cols, genres, np.arange(ratings.shape[1]), [])
    assert regression.n_pairs > 5 and regression.n_features == regression.n_pairs + 6
    at_once = regression.features(np.arange(len(ratings)), k)
    for row, cols in enumerate(first_cols):
        cols = cols[:k]
        pairs = np.zeros(regression.n_pairs, dtype=np.float32)
        pairs[volunteered_rows(regression.feature_of, cols, ratings[row, cols])] = (
            1 / np.sqrt(len(cols)) if len(cols) else 0
        )
        liked = ratings[row, cols] >= POSITIVE_SCORE
        shares = genre_shares(genres[cols].astype(np.float32), liked, np.ones(len(cols), bool))
        np.testing.assert_allclose(at_once[row], np.concatenate([pairs, shares]), rtol=1e-6)


def test_the_moments_of_thirds_add_up_to_one_fit_over_all_raters():
    ratings, first_cols = first_rating_groups(n_raters=90)
    rng = np.random.default_rng(3)
    ratings[rng.random(ratings.shape) < 0.2] = 4
    residual = (ratings >= POSITIVE_SCORE) - (ratings >= POSITIVE_SCORE).mean(axis=0)
    thirds = np.array_split(rng.permutation(len(ratings)), 3)
    movies = np.arange(ratings.shape[1])
    genres = rng.random((len(movies), 2)) < 0.5
    in_thirds = Regression(ratings, first_cols, genres, movies, thirds)
    whole = Regression(ratings, first_cols, genres, movies, [np.arange(len(ratings))])
    ((table, offsets),) = in_thirds.fit(in_thirds.moments(residual), [3.0])
    ((one_table, one_offsets),) = whole.fit(whole.moments(residual), [3.0])
    np.testing.assert_allclose(table, one_table, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(offsets, one_offsets, rtol=1e-4, atol=1e-5)


def test_the_regression_reads_at_most_its_number_of_pairs_the_most_found(monkeypatch):
    monkeypatch.setattr(volunteered, "REGRESSION_FEATURES", 2)
    ratings, first_cols = first_rating_groups()  # movie 1 at 3: 60; 0 at 5 and 0 at 1: 30
    regression, _, _ = fitted_regression(ratings, first_cols)
    read = np.flatnonzero(regression.feature_of >= 0)
    assert regression.n_pairs == 2
    assert read.tolist() == [0 * N_LEVELS + RATING_LEVEL[1], 1 * N_LEVELS + RATING_LEVEL[3]]


def test_without_its_own_list_the_interview_asks_the_baselines(monkeypatch):
    expected = []

    def recording(ratings, first_cols, title_group, unknown, *args, **kwargs):
        baseline = NearestRaters(n_questions=kwargs["n_questions"], seed=kwargs["seed"])
        baseline.fit(ratings, np.arange(ratings.shape[1]), title_group, unknown)
        expected.append(baseline.questions_[: kwargs["n_questions"]])
        return interview.fit_interview(ratings, first_cols, title_group, unknown, *args, **kwargs)

    monkeypatch.setattr(estimators, "fit_interview", recording)
    frame = taste_groups(n_raters=48)
    model = estimators.DemographicPopularity(n_questions=4)
    model.parts = Parts(own_list=False)
    asked = model.fit(frame, frame["score"]).scorer_.interview.questions[:4]
    own = estimators.DemographicPopularity(n_questions=4).fit(frame, frame["score"])
    np.testing.assert_array_equal(asked, expected[0])
    assert asked.tolist() != own.scorer_.interview.questions[:4].tolist()
