"""``fit_interview``: the interview's parts fitted in order on three thirds of the training
raters (each part's module says what it is and how it is tuned), then the factor model
refitted on every rater."""

from collections.abc import Callable, Sequence

import numpy as np

from coldstart.answers import Interview, PrefixMix, PrefixRegressions, RegressionMix
from coldstart.domain import POSITIVE_SCORE
from coldstart.interview.blends import tune_interview, tune_volunteered
from coldstart.interview.factors import HeldOut, fit_factors, rater_gram
from coldstart.interview.parts import ALL_PARTS, Parts
from coldstart.interview.prefix import PREFIX_RIDGES, fit_prefix_tables, seen_levels, tune_prefix
from coldstart.interview.questions import askable, choose_questions
from coldstart.interview.volunteered import REGRESSION_MOVIES, REGRESSION_RIDGES, Regression

# The greedy search's candidates and the movies it ranks grow with the catalogue: with its
# square root (at least n_candidates; 50 for ml-100k's 1,682 movies), and
# RANKED_PER_CANDIDATE ranked movies per candidate, the most rated (relevant counts stay
# complete: the rest almost never reach a top 10). Its cost grows with their product
# times the raters, hence not linearly. They stop growing at CAPPED_CATALOGUE movies, as
# does the number the blends' tuning ranks (every movie below it).
CANDIDATES_PER_ROOT = 1.22
RANKED_PER_CANDIDATE = 3
CAPPED_CATALOGUE = 4000
# prior(fit_rows, rows): the demographic scores of ``rows`` from a prior fitted on
# ``fit_rows`` (raters x movies).
Prior = Callable[[np.ndarray, np.ndarray], np.ndarray]


def fit_interview(
    ratings: np.ndarray,
    first_cols: Sequence[np.ndarray],
    title_group: np.ndarray,
    unknown: np.ndarray,
    prior: Prior,
    genres: np.ndarray,
    *,
    rank: int,
    n_questions: int,
    n_candidates: int,
    seed: int,
    parts: Parts = ALL_PARTS,
    person_of: np.ndarray | None = None,
    questions: np.ndarray | None = None,
) -> Interview:
    """The interview state for a dense raters x movies matrix of scores (0: not rated).

    ``first_cols``: each rater's first ten rated columns in time order; ``title_group``:
    equal values for one title; ``unknown``: columns never to ask about; ``genres``: each
    column's genre flags (movies x genres, possibly none);
    ``prior(fit_rows, rows)``: the demographic scores of ``rows`` from a prior fitted on
    ``fit_rows`` (raters x movies); ``parts``: which parts to fit (all but to measure one);
    ``person_of``: each rater's person, where several raters copy one (a stand-in's
    resampled raters; None: each rater is their own); ``questions``: a list of columns to
    ask instead of the one the greedy search would choose (a part's ablation).
    """
    if person_of is None:
        person_of = np.arange(len(ratings))
    thirds = tuning_thirds(person_of, seed)
    # One Gram matrix of every rater for the final factor model and the thirds' (each
    # centres its own part), dropped before the tuning, which holds the most at scale.
    raw = rater_gram(ratings, parts.blocks)
    factors = fit_factors(ratings, rank, seed, parts.blocks, raw)
    held = _held_out(ratings, thirds, prior, rank, seed, parts.blocks, raw)
    del raw
    most_rated = np.argsort(-(ratings > 0).sum(axis=0), kind="stable")
    candidates = askable(most_rated, title_group, unknown)
    n_candidates = search_candidates(ratings.shape[1], n_candidates)
    ranked = most_rated[: RANKED_PER_CANDIDATE * n_candidates]
    greedy = questions
    if greedy is None:
        greedy = choose_questions(
            held, candidates[:n_candidates], n_questions, ranked, parts.revise
        )
    tuned = np.sort(most_rated[:CAPPED_CATALOGUE])
    val_ratings, val_prior, val_factors = held[0]
    interview_blend = tune_interview(val_ratings, val_prior, val_factors, greedy, tuned)
    volunteered_blend = tune_volunteered(
        val_ratings, [first_cols[i] for i in thirds[0]], val_prior, val_factors, tuned
    )
    residual = _residual(ratings, thirds, held)
    setting = PrefixMix(PREFIX_RIDGES[0], 0.0)  # off: the factor model's shift alone
    if parts.prefix:
        setting = tune_prefix(ratings, residual, thirds, held, greedy, interview_blend, ranked)
    prefix = PrefixRegressions(
        setting=setting,
        tables=fit_prefix_tables(ratings[:, greedy], residual, setting.ridge),
        seen_levels=seen_levels(ratings[:, greedy]),
    )
    genres = genres if parts.genres else genres[:, :0]
    regression = Regression(
        ratings, first_cols, genres, np.sort(most_rated[:REGRESSION_MOVIES]), thirds
    )
    moments = regression.moments(residual)
    del residual  # the regression's tuning holds the most at scale: not this as well
    mix = RegressionMix(REGRESSION_RIDGES[0], 0.0, 0.0)  # off: the factor model alone
    if parts.volunteered:
        mix = regression.tune(moments, held, volunteered_blend, tuned)
    volunteered = regression.fitted(moments, mix)
    del held, val_ratings, val_prior, val_factors
    questions = np.concatenate([greedy, candidates[~np.isin(candidates, greedy)]])
    return Interview(
        factors=factors,
        interview_blend=interview_blend,
        volunteered_blend=volunteered_blend,
        questions=questions.astype(np.int32),
        title_group=np.asarray(title_group, dtype=np.int32),
        prefix=prefix,
        volunteered=volunteered,
    )


def tuning_thirds(person_of: np.ndarray, seed: int) -> list[np.ndarray]:
    """The raters (rows) in three parts of shuffled people, every copy of a person in one:
    a third's raters with copies of themselves in the other two would flatter every choice
    tuned on it, as twins flatter a nearest-raters method. One rater per person gives the
    seed's plain permutation of the raters, split in three."""
    order, place = by_person(person_of, seed)
    ends = np.cumsum([len(part) for part in np.array_split(np.arange(place.max() + 1), 3)])
    return np.split(order, np.searchsorted(place[order], ends[:-1]))


def by_person(person_of: np.ndarray, seed: int | list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows in an order of people shuffled by ``seed``, each person's rows together
    (one row per person: the seed's permutation of the rows), and each row's person's
    place in that order."""
    people, of_row = np.unique(person_of, return_inverse=True)
    shuffled = np.random.default_rng(seed).permutation(len(people))
    place = np.empty_like(shuffled)
    place[shuffled] = np.arange(len(people))
    return np.argsort(place[of_row], kind="stable"), place[of_row]


def search_candidates(n_movies: int, at_least: int) -> int:
    """How many of the most-rated titles the greedy search weighs for a catalogue of
    ``n_movies``: CANDIDATES_PER_ROOT x its square root, at least ``at_least``, growing
    up to CAPPED_CATALOGUE movies."""
    return max(at_least, int(CANDIDATES_PER_ROOT * np.sqrt(min(n_movies, CAPPED_CATALOGUE))))


def _held_out(
    ratings: np.ndarray,
    thirds: Sequence[np.ndarray],
    prior: Prior,
    rank: int,
    seed: int,
    n_blocks: int,
    raw: np.ndarray,
) -> list[HeldOut]:
    """Per third: its ratings, its demographic prior and the factor model, both fitted on
    the other two thirds (of ``n_blocks`` blocks; ``raw``: every rater's rater_gram)."""
    parts = []
    for i, held_out in enumerate(thirds):
        fit_rows = np.concatenate([t for j, t in enumerate(thirds) if j != i])
        raw_part = raw[np.ix_(fit_rows, fit_rows)]
        factors = fit_factors(ratings[fit_rows], rank, seed, n_blocks, raw_part)
        parts.append((ratings[held_out], prior(fit_rows, held_out), factors))
    return parts


def _residual(
    ratings: np.ndarray, thirds: Sequence[np.ndarray], parts: Sequence[HeldOut]
) -> np.ndarray:
    """What each rater liked minus their prior from the third they were held out of: what
    the regressions correct."""
    residual = np.empty(ratings.shape, dtype=np.float32)
    for held_out, (_, base, _) in zip(thirds, parts, strict=True):
        residual[held_out] = -base
    residual += ratings >= POSITIVE_SCORE  # in place: a raters x movies array fewer at once
    return residual
