"""Fitting the onboarding interview: which movies to ask a new person about, and how far
their answers move the demographic ranking (served by scoring.InterviewScorer).

Model. Each training rater is a binary vector over the catalogue in four blocks
(scoring.RATING_BLOCKS): *seen* (rated at all), *liked* (rated >= 4), *loved* (5) and
*disliked* (1-2). A probabilistic-PCA model of those vectors (the top ``rank``
eigenvectors of the raters' Gram matrix) says how the entries co-vary; an answer observes
some entries, and the posterior of the latent factors predicts the liked block for every
movie (scoring.observations). Any subset of answers is conditioned on exactly, redundant
questions are not counted twice, and the state is four movies x rank matrices rather than
a movies x movies one. The loved and disliked blocks let an answer say how much, not only
whether, a person liked a movie; they ranked better after interviews, and worse after
first ratings, which observe seen and liked only.

Questions. A fixed list chosen greedily on the training raters: split them in thirds; for
each third fit the factor model on the other two and compute that third's demographic
prior; then repeatedly add the candidate whose simulated answers (the real rating, else
"not seen") most raise NDCG@10 over all three held-out thirds, with the asked movies
removed from the ranking and the relevant set as the evaluation does; then revise the list
once, replacing each question in turn by the candidate that most raises NDCG@10 after the
first 5 questions and after all of them, if any does (greedy chose it for the list so far
only). Greedy on the metric picks well-known but divisive movies: the most popular ones
are seen and liked by nearly everyone, say little, and use up relevant movies. An adaptive
(tree) choice built the same way scored no better on held-out raters, so the list is the
same for every profile.
After the list, movies follow by popularity.

Two blends. Answers to our own questions are a fair sample of taste; movies a person
chose to rate are not (ml-100k's first ratings come from MovieLens's sign-up page: popular
and mostly liked), and the blend best for interviews ranks worse than the prior when fed
first ratings. So (ridge, alpha, shrink) for interviews is tuned on simulated interviews
of 5 and 10 questions, and a second (ridge, alpha, shrink, offset) for any other answers
on the first 1, 3, 5, 10 ratings, keeping the best first-5 lift among settings whose lift
is >= 0 by one standard error at every k (alpha 0, the prior itself, is always allowed).
Both are tuned on the first third with the factor model fitted on the other two; the
factor model is then refitted on every rater.

Prefix regressions. Answers to exactly the first m questions of the list are also read by
a ridge regression made for those m questions: each answer's level (not seen, 1-2, 3, 4,
5) one-hot, regressed onto what the rater liked minus their prior (each rater's prior from
the third they were held out of). Unlike the factor model it reads the rating itself, not
only liked or not, and is not limited to a low rank. Its shift is mixed with the factor
model's: (1 - mix) * factor shift + mix * regression, with (ridge, mix) tuned by NDCG@10
after 5 and 10 questions over all three held-out thirds. The mix is measured better than
either alone; questions chosen greedily with the mix instead ranked better after 10
questions and worse after 5, at several times the fitting time, so the list is kept.

Volunteered regression. Movies a person chose to rate are read by a regression too, made
for them: each rated answer's (movie, level) one-hot, divided by the square root of the
number of rated answers, and the genre flags of the liked (rated >= 4) and of the other rated
answers, each summed over the number of rated answers (scoring.genre_shares: a taste shared
by movies too rarely given to be read one by one), regressed onto what the rater liked
beyond their prior among the most-rated movies (the given movies left out), with one
constant per number of answers.
It learns from the training raters' own first 1 to 10 ratings in time order, the sign-up
kind of answer it will read. Only (movie, level) pairs common among those first ratings are
read, and only the most-rated movies moved: the rest almost never reach a top 10, and the
table stays small. Its (ridge, mix, shrink) are tuned on the first 1, 3, 5, 10 ratings over
all three held-out thirds (each third's regression fitted on the other two), added to the
factor model's shift under the volunteered blend, by the same rule as that blend: the best
first-5 lift among settings whose lift is >= 0 by one standard error at every k (mix 0,
the factor model alone, is always allowed).
"""

from copy import copy
from itertools import product

import numpy as np

from coldstart.domain import FIRST_KS, INTERVIEW_KS, POSITIVE_SCORE, K
from coldstart.metrics import ndcg_at_k
from coldstart.scoring import (
    BLOCK_RATINGS,
    LIKED_BLOCK,
    N_LEVELS,
    RATING_BLOCKS,
    RATING_LEVEL,
    SEEN_BLOCK,
    VOLUNTEERED_BLOCKS,
    Interview,
    genre_shares,
    level_features,
    strength,
)

# Grids of the blends, tuned inside fit on the training raters.
RIDGES = (0.1, 0.3, 1.0)  # the first is the greedy search's, with alpha 1
ALPHAS = (0.5, 1.0, 1.5, 2.0)
SHRINKS = (0.0, 2.0)
VOLUNTEERED_RIDGES = (0.3, 1.0, 3.0)
VOLUNTEERED_SHRINKS = (0.0, 2.0, 5.0)
# Volunteered answers may be ignored until there are more than ``offset`` of them (a first
# rating is nearly always a popular sign-up movie).
OFFSETS = (0, 1, 2)
# Grids of the prefix regressions (see the module's docstring): their ridge, and the
# share of the shift they take from the factor model.
PREFIX_RIDGES = (3.0, 10.0, 30.0)
MIXES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
# The volunteered regression's grids (see the module's docstring), the most-rated movies it
# moves, and how many training raters' first ratings a (movie, level) needs to be read.
REGRESSION_RIDGES = (30.0, 100.0, 300.0)
REGRESSION_MIXES = (0.5, 1.0, 2.0, 4.0)
REGRESSION_SHRINKS = (0.0, 3.0, 10.0, 30.0)
REGRESSION_MOVIES = 400
REGRESSION_MIN_COUNT = 3
# It reads at most this many pairs, the most found (ml-100k's first ratings have 651 common
# ones, all read): its fit's memory and time grow with the square of this number.
REGRESSION_FEATURES = 700
# The greedy search ranks only the most-rated movies (relevant counts stay complete):
# the rest almost never reach a top 10, and it is what keeps fit within seconds.
RANKED_MOVIES = 150
# The blends' tuning ranks at most this many of the most-rated movies (ml-100k's 1,682 are
# all ranked), so that its cost stops growing with a larger catalogue.
TUNED_MOVIES = 2000
# Columns whose K-th best score bounds a row's top K from below (see _Asked.ndcgs).
LIKELY = 8 * K


class Factors:
    """PPCA means and loadings of the RATING_BLOCKS (what scoring.observations reads):
    ``means`` blocks x movies, ``loads`` blocks x movies x rank."""

    def __init__(self, ratings: np.ndarray, rank: int, seed: int):
        n_raters, n_blocks = len(ratings), len(BLOCK_RATINGS)
        self.means = np.empty((n_blocks, ratings.shape[1]), dtype=np.float32)
        # Raters are fewer than the blocks' columns, so the Gram matrix is the cheap side,
        # summed block by block: the raters x (blocks x movies) matrix is never held at once.
        gram = np.zeros((n_raters, n_raters), dtype=np.float32)
        for block in range(n_blocks):
            x = _block(ratings, block)
            self.means[block] = x.mean(axis=0)
            x -= self.means[block]
            gram += x @ x.T
        # Randomized subspace iteration finds its top eigenvectors faster than a full eigh.
        basis = np.random.default_rng(seed).standard_normal((n_raters, rank + 16))
        basis = basis.astype(np.float32)
        for _ in range(4):
            basis, _ = np.linalg.qr(gram @ basis)
        _, small = np.linalg.eigh(basis.T @ gram @ basis)
        vectors = basis @ small[:, ::-1][:, :rank]
        # V s / sqrt(n): the PPCA loadings
        self.loads = np.stack(
            [self._centred(ratings, b).T @ vectors for b in range(n_blocks)]
        ) / np.float32(np.sqrt(n_raters))

    def _centred(self, ratings, block) -> np.ndarray:
        x = _block(ratings, block)
        x -= self.means[block]  # in place: one raters x movies array at a time
        return x

    @property
    def load_liked(self) -> np.ndarray:
        return self.loads[LIKED_BLOCK]


def _block(ratings, block) -> np.ndarray:
    """The block's entries (scoring.RATING_BLOCKS) of a raters x movies matrix, as float32.
    By comparisons, not a RATING_BLOCKS lookup: indexing by the matrix would hold an index
    array of 8 bytes an entry, twice the block itself."""
    low, high = BLOCK_RATINGS[block]
    return ((ratings >= low) & (ratings <= high)).astype(np.float32)


def fit_interview(ratings, first_cols, title_group, unknown, prior, genres, *, rank,
                  n_questions, n_candidates, seed) -> Interview:  # fmt: skip
    """The interview state for a dense raters x movies matrix of scores (0: not rated).

    ``first_cols``: each rater's first ten rated columns in time order; ``title_group``:
    equal values for one title; ``unknown``: columns never to ask about; ``genres``: each
    column's genre flags (movies x genres, possibly none);
    ``prior(fit_rows, rows)``: the demographic scores of ``rows`` from a prior fitted on
    ``fit_rows`` (raters x movies).
    """
    thirds = np.array_split(np.random.default_rng(seed).permutation(len(ratings)), 3)
    parts = []
    for i, held_out in enumerate(thirds):
        fit_rows = np.concatenate([t for j, t in enumerate(thirds) if j != i])
        factors = Factors(ratings[fit_rows], rank, seed)
        parts.append((ratings[held_out], prior(fit_rows, held_out), factors))
    most_rated = np.argsort(-(ratings > 0).sum(axis=0), kind="stable")
    candidates = _askable(most_rated, title_group, unknown)
    ranked = most_rated[:RANKED_MOVIES]
    greedy = _greedy(parts, candidates[:n_candidates], n_questions, ranked)
    tuned = np.sort(most_rated[:TUNED_MOVIES])
    val_ratings, val_prior, val_factors = parts[0]
    blend = _tune_interview(val_ratings, val_prior, val_factors, greedy, tuned) + _tune_volunteered(
        val_ratings, [first_cols[i] for i in thirds[0]], val_prior, val_factors, tuned
    )
    # Each rater's prior from the thirds it was held out of: what the regressions correct.
    residual = np.empty(ratings.shape, dtype=np.float32)
    for held_out, (_, base, _) in zip(thirds, parts, strict=True):
        residual[held_out] = -base
    residual += ratings >= POSITIVE_SCORE  # in place: a raters x movies array fewer at once
    prefix = _tune_prefix(ratings, residual, thirds, parts, greedy, blend[:4], ranked)
    prefix_tables = _prefix_tables(ratings[:, greedy], residual, prefix[0])
    regression = _Regression(
        ratings, first_cols, genres, np.sort(most_rated[:REGRESSION_MOVIES]), thirds
    )
    moments = regression.moments(residual)
    del residual  # the regression's tuning holds the most at scale: not this as well
    volunteered = regression.tune(moments, parts, blend[4:], tuned)
    ((table, offsets),) = regression.fit(moments, [volunteered[0]])
    del parts, val_ratings, val_prior, val_factors  # nor these during the last factor model
    factors = Factors(ratings, rank, seed)
    questions = np.concatenate([greedy, candidates[~np.isin(candidates, greedy)]])
    return Interview(
        means=factors.means, loads=factors.loads,
        blend=blend, questions=questions, title_group=title_group, prefix=prefix,
        prefix_tables=prefix_tables, seen_levels=_seen_levels(ratings[:, greedy]),
        volunteered=volunteered, volunteered_feature=regression.feature_of,
        volunteered_columns=regression.targets, volunteered_table=table,
        volunteered_offsets=offsets, volunteered_genres=genres,
    )  # fmt: skip


def _askable(most_rated, title_group, unknown) -> np.ndarray:
    """Every column, most rated first, one per title (its most rated id), never ``unknown``
    (``most_rated``: every column, most rated first)."""
    order = most_rated[~np.isin(most_rated, unknown)]
    _, first = np.unique(title_group[order], return_index=True)
    return order[np.sort(first)]


def _ndcg_counted(scores, relevant, n_relevant) -> np.ndarray:
    """NDCG@10 per row of ``scores``' columns (NaN where nothing is relevant; ties to the
    lower column), out of each row's ``n_relevant`` (which may count relevant movies
    outside these columns: they are misses). ``relevant``: the (rows, columns) of the
    relevant entries, as np.nonzero gives them.

    No row is sorted (sorting would be most of the interview's fitting time): a relevant
    entry's place is the number of its row's K best values above it, plus, where its score
    is not unique among them or is the K-th best, the equal scores in lower columns."""
    n_rows, n_cols = scores.shape
    k = min(K, n_cols)
    best = np.partition(scores, n_cols - k, axis=1)[:, n_cols - k :]  # K-th best first
    rows, cols = relevant
    values = scores[rows, cols]
    within = values >= best[rows, 0]
    rows, cols, values = rows[within], cols[within], values[within]
    place = (best[rows] > values[:, None]).sum(axis=1)
    shared = ((best[rows] == values[:, None]).sum(axis=1) > 1) | (values == best[rows, 0])
    if shared.any():
        tied = scores[rows[shared]] == values[shared, None]
        place[shared] += (tied & (np.arange(n_cols) < cols[shared, None])).sum(axis=1)
    hit = place < k
    hits = np.zeros((n_rows, K), dtype=bool)
    hits[rows[hit], place[hit]] = True
    return np.where(n_relevant > 0, ndcg_at_k(hits, np.clip(n_relevant, 1, K), K), np.nan)


def _simulated(cols, ratings, factors, ridge) -> np.ndarray:
    """Posterior factors of many raters asked the same movies (raters x rank): each
    answers with their rating, else "not seen". ``cols`` may hold several lists of movies
    (lists x movies; ``ratings``: raters x lists x movies), solved at once (lists x raters
    x rank)."""
    rows = _block_rows(factors, cols, len(factors.means))
    values = np.moveaxis(RATING_BLOCKS[ratings], -1, 0) - factors.means[:, None, cols]
    values = np.moveaxis(values, 0, -2).reshape(*ratings.shape[:-1], -1)  # block by block
    return np.swapaxes(_posteriors(rows, np.moveaxis(values, 0, -1), ridge), -1, -2)


def _block_rows(factors, cols, n_blocks) -> np.ndarray:
    """The loadings' rows of ``cols`` (... x movies) in the first ``n_blocks`` blocks, block
    by block (... x n_blocks * movies x rank)."""
    rows = np.moveaxis(factors.loads[:n_blocks, cols], 0, -3)
    return rows.reshape(*cols.shape[:-1], -1, rows.shape[-1])


def _posteriors(rows, values, ridge) -> np.ndarray:
    """scoring.posterior for a stack of problems at once (... x observed x rank rows)."""
    rows_t = np.swapaxes(rows, -1, -2)
    gram = rows_t @ rows
    diagonal = np.arange(gram.shape[-1])
    gram[..., diagonal, diagonal] += ridge
    return np.linalg.solve(gram, rows_t @ values)


def _greedy(parts, candidates, n_questions, ranked) -> np.ndarray:
    """Add, n_questions times, the candidate whose simulated answers give the best mean
    NDCG@10 over every held-out rater (ridge and alpha: the grids' first and 1); then
    revise the list once (_revised)."""
    local, prepared = _prepared(parts, ranked)
    chosen, pool = np.zeros(0, dtype=np.int64), np.asarray(candidates, dtype=np.int64)
    for _ in range(min(n_questions, len(pool))):
        best = int(np.argmax(_values(chosen, pool, local, prepared)))  # ties: the more rated
        chosen, pool = np.append(chosen, pool[best]), np.delete(pool, best)
    return _revised(chosen, pool, local, prepared)


def _prepared(parts, ranked) -> tuple:
    """Each ranked column's place among ``ranked`` (-1: not ranked), and what
    _candidates_ndcg reads of each held-out third."""
    local = np.full(parts[0][0].shape[1], -1)
    local[ranked] = np.arange(len(ranked))
    prepared = []
    for ratings, base, f in parts:
        relevant = ratings >= POSITIVE_SCORE
        prepared.append((ratings, relevant.sum(1), np.nonzero(relevant[:, ranked]), base[:, ranked],
                         f.load_liked[ranked], f))  # fmt: skip
    return local, prepared


def _revised(chosen, pool, local, prepared) -> np.ndarray:
    """One pass over the list: each question in turn is replaced by the candidate that
    most raises the mean NDCG@10 after 5 (when it is among the first 5) and after all the
    questions, if any does. Greedy picks each question for the list so far only; answers
    are conditioned on as a set, so a question's place within its prefix does not matter."""
    first = min(INTERVIEW_KS[0], len(chosen))
    for i in range(len(chosen)):
        trial = np.append(pool, chosen[i])  # the current question last: kept on ties
        values = _values(np.delete(chosen, i), trial, local, prepared)
        if i < first:
            values = (values + _values(np.delete(chosen[:first], i), trial, local, prepared)) / 2
        best = int(np.argmax(values))
        if values[best] > values[-1]:
            chosen[i], pool[best] = pool[best], chosen[i]
    return chosen


def _values(chosen, pool, local, prepared) -> np.ndarray:
    """Mean NDCG@10 over every held-out rater after the ``chosen`` questions and each
    candidate of ``pool``."""
    per_third = [_candidates_ndcg(chosen, pool, local, *part) for part in prepared]
    return np.array([_mean(np.concatenate(rows)) for rows in zip(*per_third, strict=True)])


def _candidates_ndcg(chosen, pool, local, ratings, n_relevant, ranked_relevant, base,
                     liked_loads, factors) -> np.ndarray:  # fmt: skip
    """NDCG@10 of each held-out rater (pool x raters) after the ``chosen`` questions and
    each candidate of ``pool``, all candidates at once."""
    cols = np.column_stack([np.broadcast_to(chosen, (len(pool), len(chosen))), pool])
    answers = ratings[:, cols]
    scores = base + _simulated(cols, answers, factors, RIDGES[0]) @ liked_loads.T
    # asked movies leave the ranking and the counts
    scores[:, :, local[chosen][local[chosen] >= 0]] = -np.inf
    ranked_pool = np.flatnonzero(local[pool] >= 0)
    scores[ranked_pool, :, local[pool[ranked_pool]]] = -np.inf
    n_left = n_relevant - (answers >= POSITIVE_SCORE).sum(axis=2).T
    n_rows = len(ratings)
    rows, cols = ranked_relevant
    stacked = (
        (rows + n_rows * np.arange(len(pool))[:, None]).ravel(),
        np.broadcast_to(cols, (len(pool), len(cols))).ravel(),
    )
    ndcg = _ndcg_counted(scores.reshape(-1, scores.shape[-1]), stacked, n_left.ravel())
    return ndcg.reshape(len(pool), n_rows)


def _mean(values) -> float:
    """Mean over the raters with something relevant (0 if none: no reason to prefer)."""
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else 0.0


class _Asked:
    """Each row's ``asked`` columns out of the ranking and the relevant set, prepared once
    for the many blends scored on the same answers; only ``columns`` are ranked (the
    relevant movies outside them count as misses)."""

    def __init__(self, base, relevant, asked, columns):
        rows = np.repeat(np.arange(len(asked)), [len(cols) for cols in asked])
        cols = np.concatenate([np.asarray(c, dtype=np.intp) for c in asked]) if asked else rows
        base, relevant = base.copy(), relevant.copy()
        base[rows, cols] = -np.inf
        relevant[rows, cols] = False
        self.n_relevant = relevant.sum(axis=1)
        self.base, self.relevant = base[:, columns], relevant[:, columns]
        self.likely = _likely(self.base)

    def moved(self, shift) -> "_Asked":
        """The same answers over the prior moved by ``shift`` (rows x the ranked columns)."""
        moved = copy(self)
        moved.base = self.base + shift
        moved.likely = _likely(moved.base)
        return moved

    def ndcgs(self, weights, shift) -> dict:
        """NDCG@10 per row of the prior moved by ``weight * shift``, for each of ``weights``
        (>= 0). Only the columns that may reach a row's top K under one of them are ranked:
        most of the catalogue scores below a lower bound of every row's K-th best, whatever
        the weight, and changes no NDCG."""
        columns = self._reachable(weights, shift)
        base, shift = self.base[:, columns], shift[:, columns]
        relevant = np.nonzero(self.relevant[:, columns])
        return {w: _ndcg_counted(base + w * shift, relevant, self.n_relevant) for w in weights}

    def _reachable(self, weights, shift) -> np.ndarray:
        """The columns that may enter some row's top K at one of ``weights``. A row's K-th
        best is at least the least, over the weights, of the K-th best among its LIKELY
        columns; a column whose best score over the weights (at the lowest or the highest:
        scores are linear in the weight) stays below that in every row never counts."""
        if self.base.shape[1] <= LIKELY:
            return np.arange(self.base.shape[1])
        likely = self.base[:, self.likely], shift[:, self.likely]
        bound = np.min(
            [-np.partition(-(likely[0] + w * likely[1]), K - 1, axis=1)[:, K - 1] for w in weights],
            axis=0,
        )
        high = self.base + np.maximum(min(weights) * shift, max(weights) * shift)
        return np.flatnonzero((high >= bound[:, None]).any(axis=0))


def _likely(base) -> np.ndarray:
    """The LIKELY columns with the best mean score (what _Asked._reachable bounds with)."""
    typical = np.where(np.isfinite(base), base, 0.0).mean(axis=0)
    return np.argsort(-typical, kind="stable")[:LIKELY]


def _tune_interview(ratings, base, factors, questions, columns) -> tuple:
    """(ridge, alpha, shrink, offset 0) with the best mean NDCG@10 after 5 and 10 questions,
    ranking ``columns``."""
    relevant = ratings >= POSITIVE_SCORE
    asked = {k: _Asked(base, relevant, [questions[:k]] * len(base), columns) for k in INTERVIEW_KS}
    liked_loads = factors.load_liked[columns]
    best, chosen = -np.inf, None
    for ridge in RIDGES:
        shifts = {}
        for k in INTERVIEW_KS:
            cols = questions[:k]
            shifts[k] = _simulated(cols, ratings[:, cols], factors, ridge) @ liked_loads.T
        settings = list(product(ALPHAS, SHRINKS))
        ndcgs = {
            k: asked[k].ndcgs({alpha * strength(k, shrink, 0) for alpha, shrink in settings}, shift)
            for k, shift in shifts.items()
        }
        for alpha, shrink in settings:
            value = np.mean([_mean(ndcgs[k][alpha * strength(k, shrink, 0)]) for k in asked])
            if value > best:
                best, chosen = value, (ridge, alpha, shrink, 0.0)
    return chosen


def _tune_volunteered(ratings, first_cols, base, factors, columns) -> tuple:
    """(ridge, alpha, shrink, offset) for answers the person chose: the best first-5 lift
    among settings whose lift is >= 0 by one standard error at every k (ranking
    ``columns``)."""
    relevant = ratings >= POSITIVE_SCORE
    given = {k: [cols[:k] for cols in first_cols] for k in FIRST_KS}
    asked = {k: _Asked(base, relevant, given[k], columns) for k in FIRST_KS}
    liked_loads = factors.load_liked[columns]
    settings = list(product(ALPHAS, VOLUNTEERED_SHRINKS, OFFSETS))
    weights = {k: {a * strength(k, s, o) for a, s, o in settings} for k in FIRST_KS}
    best_lift, chosen = 0.0, (1.0, 0.0, 0.0, 0.0)  # alpha 0: the prior's own ranking
    for ridge in VOLUNTEERED_RIDGES:
        lifts = {}  # per rater, over the prior's own ranking (weight 0)
        for k in FIRST_KS:
            shift = _volunteered(given[k], ratings, factors, ridge) @ liked_loads.T
            ndcgs = asked[k].ndcgs(weights[k] | {0.0}, shift)
            for weight, ndcg in ndcgs.items():
                lifts[k, weight] = ndcg - ndcgs[0.0]
        for alpha, shrink, offset in settings:
            low, lift = _low_and_first5(
                {k: lifts[k, alpha * strength(k, shrink, offset)] for k in FIRST_KS}
            )
            if low >= 0 and lift > best_lift:
                best_lift, chosen = lift, (ridge, alpha, shrink, float(offset))
    return chosen


def _volunteered(given, ratings, factors, ridge) -> np.ndarray:
    """Each rater's posterior factors (raters x rank) from their own ratings of the
    ``given`` movies (one list per rater; observed as scoring.observations observes
    ratings), all solved at once: shorter lists are padded with rows and values of zero,
    which observe nothing."""
    lengths = np.array([len(cols) for cols in given])
    padded = np.arange(max(lengths.max(), 1)) < lengths[:, None]
    cols = np.zeros(padded.shape, dtype=np.intp)
    cols[padded] = np.concatenate(given)
    observed = np.tile(padded, VOLUNTEERED_BLOCKS)
    rows = _block_rows(factors, cols, VOLUNTEERED_BLOCKS) * observed[..., None]
    given = ratings[np.arange(len(cols))[:, None], cols]
    values = np.moveaxis(RATING_BLOCKS[given, :VOLUNTEERED_BLOCKS], -1, 0)
    values[SEEN_BLOCK] = 1  # a given movie is seen, as serving observes a rated answer
    values -= factors.means[:VOLUNTEERED_BLOCKS, cols]
    values = np.moveaxis(values, 0, 1).reshape(len(cols), -1) * observed
    return _posteriors(rows, values[..., None], ridge)[..., 0]


def _prefix_table(answers, residual, ridge) -> np.ndarray:
    """Ridge regression of ``residual`` (raters x movies) on the answers' level_features
    (answers: raters x questions, 0 for "not seen"); the constant is not penalised."""
    features = level_features(answers).astype(np.float64)
    penalty = np.full(features.shape[1], ridge)
    penalty[0] = 0.0
    gram = features.T @ features + np.diag(penalty)
    # In float32, as ``residual`` is: in float64 it would be copied whole (the features are
    # 0 or 1, and a sum over raters loses nothing that shows in a ranking).
    cross = features.T.astype(np.float32) @ residual
    return np.linalg.solve(gram, cross.astype(np.float64)).astype(np.float32)


def _prefix_tables(answers, residual, ridge) -> np.ndarray:
    """One table per prefix of the list (questions x features x movies, zero-padded)."""
    n = answers.shape[1]
    tables = np.zeros((n, 1 + N_LEVELS * n, residual.shape[1]), dtype=np.float32)
    for m in range(1, n + 1):
        tables[m - 1, : 1 + N_LEVELS * m] = _prefix_table(answers[:, :m], residual, ridge)
    return tables


def _seen_levels(answers) -> np.ndarray:
    """Each question's level shares among the raters who rated it (questions x N_LEVELS)."""
    onehot = RATING_LEVEL[answers][..., None] == np.arange(N_LEVELS)
    return onehot.sum(axis=0) / np.maximum((answers > 0).sum(axis=0), 1)[:, None]


def _tune_prefix(ratings, residual, thirds, parts, questions, blend, ranked) -> tuple:
    """(ridge, mix) with the best mean NDCG@10 after 5 and 10 questions over all held-out
    thirds, each third's regression fitted on the other two and mixed with the factor
    model's shift under the interview blend (ranking the most-rated movies, as _greedy)."""
    factor_ridge, alpha, shrink, _ = blend
    local = np.full(ratings.shape[1], -1)
    local[ranked] = np.arange(len(ranked))
    values = {}
    for held_out, (held_ratings, base, factors) in zip(thirds, parts, strict=True):
        fit_rows = np.setdiff1d(np.arange(len(ratings)), held_out)
        fit_ratings, fit_residual = ratings[fit_rows], residual[fit_rows][:, ranked]
        relevant = held_ratings >= POSITIVE_SCORE
        ranked_relevant = np.nonzero(relevant[:, ranked])
        for k in INTERVIEW_KS:
            cols = questions[:k]
            shift = _simulated(cols, held_ratings[:, cols], factors, factor_ridge)
            shift = alpha * strength(len(cols), shrink, 0) * (shift @ factors.load_liked[ranked].T)
            features = level_features(held_ratings[:, cols])
            asked = local[cols][local[cols] >= 0]
            n_left = relevant.sum(1) - relevant[:, cols].sum(1)
            for ridge in PREFIX_RIDGES:
                table = _prefix_table(fit_ratings[:, cols], fit_residual, ridge)
                regression = features @ table
                for mix in MIXES:
                    scores = base[:, ranked] + (1 - mix) * shift + mix * regression
                    scores[:, asked] = -np.inf  # asked movies leave the ranking and the counts
                    ndcgs = _ndcg_counted(scores, ranked_relevant, n_left)
                    values.setdefault((ridge, mix), []).append(ndcgs)
    return max(values, key=lambda setting: _mean(np.concatenate(values[setting])))


class _Regression:
    """The volunteered answers' regression (see the module's docstring) over the training
    raters: which (movie, level) pairs it reads, which movies (``targets``) it moves, and
    the sums it is fitted from, kept per third so that each third's fit and the final one
    add them up."""

    def __init__(self, ratings, first_cols, genres, targets, thirds):
        self.ratings, self.genres = ratings, np.asarray(genres, dtype=np.float32)
        n_raters, n_movies = ratings.shape
        ks = max(FIRST_KS)
        self.given = np.zeros((n_raters, ks), dtype=np.intp)  # first columns, padded
        self.n_given = np.array([min(len(cols), ks) for cols in first_cols])
        padded = np.arange(ks) < self.n_given[:, None]
        self.given[padded] = np.concatenate([cols[:ks] for cols in first_cols] + [[]])
        levels = RATING_LEVEL[ratings[np.arange(n_raters)[:, None], self.given]]
        pairs = self.given * N_LEVELS + levels
        pairs[~padded] = -1
        found = np.bincount(pairs[padded], minlength=n_movies * N_LEVELS)
        most = np.argsort(-found, kind="stable")[:REGRESSION_FEATURES]
        common = np.zeros(len(found), dtype=bool)
        common[most] = found[most] >= REGRESSION_MIN_COUNT
        self.feature_of = np.where(common, np.cumsum(common) - 1, -1).astype(np.int32)
        self.n_pairs = int(common.sum())
        self.n_features = self.n_pairs + 2 * self.genres.shape[1]
        self.pair_rows = np.where(pairs >= 0, self.feature_of[pairs.clip(min=0)], -1)
        self.targets = targets  # the columns it moves
        self.thirds = thirds

    def features(self, rows, k) -> np.ndarray:
        """What serving reads (scoring.Interview._add_volunteered) from each of ``rows``'
        first ``k`` ratings (rows x features), all at once: the (movie, level) pairs'
        one-hot over the square root of their number, then the genre shares."""
        m = np.minimum(self.n_given[rows], k)
        pairs = np.zeros((len(rows), self.n_pairs + 1), dtype=np.float32)  # + a bin
        ids = self.pair_rows[rows, :k].copy()
        given = np.arange(ids.shape[1]) < m[:, None]
        ids[(ids < 0) | ~given] = self.n_pairs
        values = np.where(m > 0, 1 / np.sqrt(np.maximum(m, 1)), 0).astype(np.float32)
        pairs[np.arange(len(rows))[:, None], ids] = values[:, None]
        cols = self.given[rows, :k]
        liked = self.ratings[rows[:, None], cols] >= POSITIVE_SCORE
        return np.hstack([pairs[:, :-1], genre_shares(self.genres[cols], liked, given)])

    def moments(self, residual) -> list:
        """Per third: each k's (raters, sum of features, sum of targets), and over every k
        the features' Gram and features x targets; targets are ``residual`` on the moved
        movies with the given movies left out (they leave what is predicted). Sums over k,
        not one per k: a third's sums stay two matrices however many k there are."""
        local = np.full(self.ratings.shape[1] + 1, -1)
        local[self.targets] = np.arange(len(self.targets))
        sums = []
        for rows in self.thirds:
            target = residual[np.ix_(rows, self.targets)].astype(np.float32)
            counts, x_sums, y_sums = [], [], []
            gram = np.zeros((self.n_features, self.n_features))
            cross = np.zeros((self.n_features, len(self.targets)))
            for k in range(1, max(FIRST_KS) + 1):
                given = np.where(np.arange(k) < self.n_given[rows, None], self.given[rows, :k], -1)
                y = target.copy()
                at = local[given]
                y[np.nonzero(at >= 0)[0], at[at >= 0]] = 0.0
                x = self.features(rows, k)
                counts.append(len(rows))
                x_sums.append(x.sum(axis=0, dtype=np.float64))
                y_sums.append(y.sum(axis=0, dtype=np.float64))
                gram += x.T.astype(np.float64) @ x
                cross += x.T @ y
            # kept in float32: three thirds' sums would otherwise double the fit's peak memory
            sums.append((np.array(counts), np.array(x_sums), np.array(y_sums),
                         gram.astype(np.float32), cross.astype(np.float32)))  # fmt: skip
        return sums

    def fit(self, moments, ridges) -> list:
        """(table, offsets) per ridge from the summed ``moments`` of some thirds: table
        (features x moved movies), offsets (one row per number of answers, 1 to 10)."""
        n, x_sum, y_sum, gram, cross = (
            sum(part[i].astype(np.float64) for part in moments) for i in range(5)
        )
        # One constant per k: centre each k's rows; the constant is then its means.
        x_means, y_means = x_sum / n[:, None], y_sum / n[:, None]
        gram = gram - (x_means.T * n) @ x_means
        cross = cross - (x_means.T * n) @ y_means
        values, vectors = np.linalg.eigh(gram)  # one decomposition for every ridge
        projected = vectors.T @ cross
        tables = [vectors @ (projected / (values + ridge)[:, None]) for ridge in ridges]
        return [(t.astype(np.float32), (y_means - x_means @ t).astype(np.float32)) for t in tables]

    def tune(self, moments, parts, blend, columns) -> tuple:
        """(ridge, mix, shrink) by the volunteered blend's rule, each third read by the
        regression fitted on the other two, on top of the factor model's shift."""
        if not self.n_features:
            return (REGRESSION_RIDGES[0], 0.0, 0.0)  # nothing common enough to read
        factor_ridge, alpha, shrink, offset = blend
        settings = list(product(REGRESSION_MIXES, REGRESSION_SHRINKS))
        ranked = np.full(self.ratings.shape[1], -1)
        ranked[columns] = np.arange(len(columns))
        moved_ranked = ranked[self.targets] >= 0  # the moved movies among the ranked ones
        lifts = {}
        for i, (held_ratings, base, factors) in enumerate(parts):
            held_out = self.thirds[i]
            fitted = self.fit([m for j, m in enumerate(moments) if j != i], REGRESSION_RIDGES)
            relevant = held_ratings >= POSITIVE_SCORE
            for k in FIRST_KS:
                given = [self.given[row, : min(k, self.n_given[row])] for row in held_out]
                factor = _volunteered(given, held_ratings, factors, factor_ridge)
                factor = alpha * strength(k, shrink, offset) * (factor @ factors.load_liked.T)
                asked = _Asked(base, relevant, given, columns)
                prior = asked.ndcgs({0.0, 1.0}, factor[:, columns])
                moved = asked.moved(factor[:, columns])
                features = self.features(held_out, k)
                weights = {mix * strength(k, s, 0) for mix, s in settings}
                regression = np.zeros((len(held_out), len(columns)), dtype=np.float32)
                for ridge, (table, offsets) in zip(REGRESSION_RIDGES, fitted, strict=True):
                    read = features @ table[:, moved_ranked] + offsets[k - 1, moved_ranked]
                    regression[:, ranked[self.targets[moved_ranked]]] = read
                    for weight, ndcg in moved.ndcgs(weights, regression).items():
                        lifts.setdefault((ridge, k, weight), []).append(ndcg - prior[0.0])
                lifts.setdefault(("factor", k), []).append(prior[1.0] - prior[0.0])
        return _safest(lifts, settings)


def _safest(lifts, settings) -> tuple:
    """(ridge, mix, shrink) with the best first-5 lift among those >= 0 by one standard
    error at every k; mix 0 (the factor model alone) if none is better."""
    pooled = {key: np.concatenate(parts) for key, parts in lifts.items()}
    factor = _low_and_first5({k: pooled["factor", k] for k in FIRST_KS})
    chosen, best = (REGRESSION_RIDGES[0], 0.0, 0.0), max(factor[1], 0.0)
    for ridge, (mix, shrink) in product(REGRESSION_RIDGES, settings):
        low, lift = _low_and_first5(
            {k: pooled[ridge, k, mix * strength(k, shrink, 0)] for k in FIRST_KS}
        )
        if low >= 0 and lift > best:
            best, chosen = lift, (ridge, mix, shrink)
    return chosen


def _low_and_first5(lifts) -> tuple:
    """Per-rater lifts by k (NaN: nothing relevant) to the least over k of (mean lift - its
    standard error), which must be >= 0 for a setting to be safe (not just on average), and
    the first-5 mean lift; (-inf, 0) when nobody is left to measure a lift on."""
    lifts = {k: d[~np.isnan(d)] for k, d in lifts.items()}
    if not all(len(d) for d in lifts.values()):
        return -np.inf, 0.0
    return min(d.mean() - d.std() / np.sqrt(len(d)) for d in lifts.values()), lifts[5].mean()
