"""What every tuning of the interview measures: NDCG@10 of held-out raters after some
answers, with the answered movies out of the ranking and of the relevant set, as the
evaluation counts it."""

from collections.abc import Mapping, Sequence
from copy import copy

import numpy as np

from coldstart.domain import K
from coldstart.metrics import ndcg_at_k

# Columns whose K-th best score bounds a row's top K from below (see Asked.ndcgs).
LIKELY = 8 * K
# Rows ranked at once by Asked.ndcgs: the fewer the rows, the fewer the columns that may
# reach one of their top K, and the more of the catalogue is left out of the ranking.
ROWS_AT_ONCE = 128


def ndcg_counted(
    scores: np.ndarray, relevant: tuple[np.ndarray, ...], n_relevant: np.ndarray
) -> np.ndarray:
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


def mean_ndcg(values: np.ndarray) -> float:
    """Mean over the raters with something relevant (0 if none: no reason to prefer)."""
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else 0.0


class Asked:
    """Each row's ``asked`` columns out of the ranking and the relevant set, prepared once
    for the many blends scored on the same answers; only ``columns`` are ranked (the
    relevant movies outside them count as misses)."""

    def __init__(
        self,
        base: np.ndarray,
        relevant: np.ndarray,
        asked: Sequence[np.ndarray],
        columns: np.ndarray,
    ) -> None:
        rows = np.repeat(np.arange(len(asked)), [len(cols) for cols in asked])
        cols = np.concatenate([np.asarray(c, dtype=np.intp) for c in asked]) if asked else rows
        base, relevant = base.copy(), relevant.copy()
        base[rows, cols] = -np.inf
        relevant[rows, cols] = False
        self.n_relevant = relevant.sum(axis=1)
        self.base, self.relevant = base[:, columns], relevant[:, columns]
        self.likely = _likely(self.base)

    def moved(self, shift: np.ndarray) -> "Asked":
        """The same answers over the prior moved by ``shift`` (rows x the ranked columns)."""
        moved = copy(self)
        moved.base = self.base + shift
        moved.likely = _likely(moved.base)
        return moved

    def ndcgs(self, weights: set[float], shift: np.ndarray) -> dict[float, np.ndarray]:
        """NDCG@10 per row of the prior moved by ``weight * shift``, for each of ``weights``
        (>= 0). Only the columns that may reach a row's top K under one of them are ranked:
        most of the catalogue scores below a lower bound of every row's K-th best, whatever
        the weight, and changes no NDCG. Rows are ranked ROWS_AT_ONCE at a time, each
        group over its own such columns."""
        out: dict[float, list[np.ndarray]] = {w: [] for w in weights}
        for start in range(0, len(self.base), ROWS_AT_ONCE):
            rows = slice(start, start + ROWS_AT_ONCE)
            columns = self._reachable(weights, shift, rows)
            base, moved = self.base[rows, columns], shift[rows, columns]
            relevant = np.nonzero(self.relevant[rows, columns])
            for w in weights:
                out[w].append(ndcg_counted(base + w * moved, relevant, self.n_relevant[rows]))
        return {w: np.concatenate(values) for w, values in out.items()}

    def _reachable(self, weights: set[float], shift: np.ndarray, rows: slice) -> np.ndarray:
        """The columns that may enter some row's top K at one of ``weights``. A row's K-th
        best is at least the least, over the weights, of the K-th best among its LIKELY
        columns; a column whose best score over the weights (at the lowest or the highest:
        scores are linear in the weight) stays below that in every one of ``rows`` never
        counts."""
        if self.base.shape[1] <= LIKELY:
            return np.arange(self.base.shape[1])
        base, shift = self.base[rows], shift[rows]
        likely = base[:, self.likely], shift[:, self.likely]
        bound = np.min(
            [-np.partition(-(likely[0] + w * likely[1]), K - 1, axis=1)[:, K - 1] for w in weights],
            axis=0,
        )
        high = base + np.maximum(min(weights) * shift, max(weights) * shift)
        return np.flatnonzero((high >= bound[:, None]).any(axis=0))


def _likely(base: np.ndarray) -> np.ndarray:
    """The LIKELY columns with the best mean score (what Asked._reachable bounds with)."""
    typical = np.where(np.isfinite(base), base, 0.0).mean(axis=0)
    return np.argsort(-typical, kind="stable")[:LIKELY]


def low_and_first5(lifts: Mapping[int, np.ndarray]) -> tuple[float, float]:
    """Per-rater lifts by k (NaN: nothing relevant) to the least over k of (mean lift - its
    standard error), which must be >= 0 for a setting to be safe (not just on average), and
    the first-5 mean lift; (-inf, 0) when nobody is left to measure a lift on."""
    lifts = {k: d[~np.isnan(d)] for k, d in lifts.items()}
    if not all(len(d) for d in lifts.values()):
        return -np.inf, 0.0
    return min(d.mean() - d.std() / np.sqrt(len(d)) for d in lifts.values()), lifts[5].mean()
