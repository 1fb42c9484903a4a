"""The question list. A fixed list chosen greedily on the training raters: split them in thirds; for
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
"""

from collections.abc import Sequence

import numpy as np

from coldstart.answers import FactorModel
from coldstart.domain import INTERVIEW_KS, POSITIVE_SCORE
from coldstart.interview.factors import HeldOut, simulated
from coldstart.interview.measure import mean_ndcg, ndcg_counted

# The ridge of the greedy search's posteriors (its blend: alpha 1, no shrink), also the
# first of the interview blend's grid (blends.RIDGES).
GREEDY_RIDGE = 0.1
# The greedy search's scores held at once (entries of float32): a bound on its memory.
SCORED_AT_ONCE = 2**24
# What _candidates_ndcg reads of a held-out third after ``local`` and ``pool``.
_Third = tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...], np.ndarray, np.ndarray, FactorModel]


def askable(most_rated: np.ndarray, title_group: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Every column, most rated first, one per title (its most rated id), never ``unknown``
    (``most_rated``: every column, most rated first)."""
    order = most_rated[~np.isin(most_rated, unknown)]
    _, first = np.unique(title_group[order], return_index=True)
    return order[np.sort(first)]


def choose_questions(
    parts: Sequence[HeldOut],
    candidates: np.ndarray,
    n_questions: int,
    ranked: np.ndarray,
    revise: bool = True,
) -> np.ndarray:
    """Add, n_questions times, the candidate whose simulated answers give the best mean
    NDCG@10 over every held-out rater (ridge and alpha: the grids' first and 1); then
    revise the list once (_revised) unless ``revise`` is off."""
    local, prepared = _prepared(parts, ranked)
    chosen, pool = np.zeros(0, dtype=np.int64), np.asarray(candidates, dtype=np.int64)
    for _ in range(min(n_questions, len(pool))):
        best = int(np.argmax(_values(chosen, pool, local, prepared)))  # ties: the more rated
        chosen, pool = np.append(chosen, pool[best]), np.delete(pool, best)
    return _revised(chosen, pool, local, prepared) if revise else chosen


def _prepared(parts: Sequence[HeldOut], ranked: np.ndarray) -> tuple[np.ndarray, list[_Third]]:
    """Each ranked column's place among ``ranked`` (-1: not ranked), and what
    _candidates_ndcg reads of each held-out third."""
    local = np.full(parts[0][0].shape[1], -1)
    local[ranked] = np.arange(len(ranked))
    prepared = []
    for ratings, base, f in parts:
        relevant = ratings >= POSITIVE_SCORE
        prepared.append(
            (
                ratings,
                relevant.sum(1),
                np.nonzero(relevant[:, ranked]),
                base[:, ranked],
                f.load_liked[ranked],
                f,
            )
        )
    return local, prepared


def _revised(
    chosen: np.ndarray, pool: np.ndarray, local: np.ndarray, prepared: list[_Third]
) -> np.ndarray:
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


def _values(
    chosen: np.ndarray, pool: np.ndarray, local: np.ndarray, prepared: list[_Third]
) -> np.ndarray:
    """Mean NDCG@10 over every held-out rater after the ``chosen`` questions and each
    candidate of ``pool``."""
    per_third = [_chunked(chosen, pool, local, part) for part in prepared]
    return np.array([mean_ndcg(np.concatenate(rows)) for rows in zip(*per_third, strict=True)])


def _chunked(chosen: np.ndarray, pool: np.ndarray, local: np.ndarray, part: _Third) -> np.ndarray:
    """_candidates_ndcg over ``pool`` a few candidates at a time: its scores (candidates x
    raters x ranked movies) stay within SCORED_AT_ONCE entries, whatever the size."""
    n_raters, n_ranked = part[3].shape
    size = max(1, SCORED_AT_ONCE // (n_raters * n_ranked))
    chunks = [pool[i : i + size] for i in range(0, len(pool), size)]
    return np.vstack([_candidates_ndcg(chosen, chunk, local, *part) for chunk in chunks])


def _candidates_ndcg(
    chosen: np.ndarray,
    pool: np.ndarray,
    local: np.ndarray,
    ratings: np.ndarray,
    n_relevant: np.ndarray,
    ranked_relevant: tuple[np.ndarray, ...],
    base: np.ndarray,
    liked_loads: np.ndarray,
    factors: FactorModel,
) -> np.ndarray:
    """NDCG@10 of each held-out rater (pool x raters) after the ``chosen`` questions and
    each candidate of ``pool``, all candidates at once."""
    cols = np.column_stack([np.broadcast_to(chosen, (len(pool), len(chosen))), pool])
    answers = ratings[:, cols]
    scores = base + simulated(cols, answers, factors, GREEDY_RIDGE) @ liked_loads.T
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
    ndcg = ndcg_counted(scores.reshape(-1, scores.shape[-1]), stacked, n_left.ravel())
    return ndcg.reshape(len(pool), n_rows)
