"""Ranking metrics, each defined once: the evaluation protocol (coldstart/evaluation.py)
reports them, and the interview's fitting (coldstart/interview/) tunes on NDCG."""

import numpy as np
from numpy.typing import ArrayLike

# Metrics. ``hits`` is a boolean matrix (raters by ranks, best first) saying whether the
# movie at that rank is relevant; ``n_relevant`` counts each rater's relevant movies
# (≥ 1), including any the model does not know.


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def _at(hits: ArrayLike, k: int) -> np.ndarray:
    """The first k columns, padded with misses when the catalogue is shorter than k."""
    first = np.asarray(hits, dtype=bool)[:, :k]
    return np.pad(first, ((0, 0), (0, k - first.shape[1])))


def precision_at_k(hits: ArrayLike, k: int) -> np.ndarray:
    return _at(hits, k).sum(axis=1) / k


def recall_at_k(hits: ArrayLike, n_relevant: ArrayLike, k: int) -> np.ndarray:
    return _at(hits, k).sum(axis=1) / np.asarray(n_relevant)


def hit_rate_at_k(hits: ArrayLike, k: int) -> np.ndarray:
    return _at(hits, k).any(axis=1).astype(float)


def ndcg_at_k(hits: ArrayLike, n_relevant: ArrayLike, k: int) -> np.ndarray:
    """Binary gain, log2 discount, ideal DCG over min(k, |relevant|) hits."""
    discounts = _discounts(k)
    ideal = np.cumsum(discounts)[np.minimum(np.asarray(n_relevant), k) - 1]
    return (_at(hits, k) @ discounts) / ideal


def average_precision_at_k(hits: ArrayLike, n_relevant: ArrayLike, k: int) -> np.ndarray:
    """Mean of precision@i over the ranks i ≤ k that hit, divided by min(k, |relevant|)."""
    hits = _at(hits, k)
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return (precision * hits).sum(axis=1) / np.minimum(np.asarray(n_relevant), k)


def catalogue_coverage(top_ids: ArrayLike, n_movies: int) -> float:
    """Share of the catalogue that appears in at least one of the top lists."""
    return len(np.unique(top_ids)) / n_movies


def top_k(scores: ArrayLike, k: int) -> np.ndarray:
    """Column indices of the k best scores per row, best first; ties go to the lower
    column, which is the lower movie id since ``movie_ids_`` ascend."""
    return np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :k]
