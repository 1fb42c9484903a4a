"""The prefix regressions. Answers to exactly the first m questions of the list are also read by
a ridge regression made for those m questions: each answer's level (not seen, 1-2, 3, 4,
5) one-hot, regressed onto what the rater liked minus their prior (each rater's prior from
the third they were held out of). Unlike the factor model it reads the rating itself, not
only liked or not, and is not limited to a low rank. Its shift is mixed with the factor
model's: (1 - mix) * factor shift + mix * regression, with (ridge, mix) tuned by NDCG@10
after 5 and 10 questions over all three held-out thirds. The mix is measured better than
either alone; questions chosen greedily with the mix instead ranked better after 10
questions and worse after 5, at several times the fitting time, so the list is kept.
"""

from collections.abc import Sequence

import numpy as np

from coldstart.answers import N_LEVELS, Blend, PrefixMix, level_features, level_onehot
from coldstart.domain import INTERVIEW_KS, POSITIVE_SCORE
from coldstart.interview.factors import HeldOut, simulated
from coldstart.interview.measure import mean_ndcg, ndcg_counted

# Grids of the prefix regressions (see the module's docstring): their ridge, and the
# share of the shift they take from the factor model.
PREFIX_RIDGES = (3.0, 10.0, 30.0)
MIXES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def _prefix_table(answers: np.ndarray, residual: np.ndarray, ridge: float) -> np.ndarray:
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


def fit_prefix_tables(answers: np.ndarray, residual: np.ndarray, ridge: float) -> np.ndarray:
    """One table per prefix of the list (questions x features x movies, zero-padded)."""
    n = answers.shape[1]
    tables = np.zeros((n, 1 + N_LEVELS * n, residual.shape[1]), dtype=np.float32)
    for m in range(1, n + 1):
        tables[m - 1, : 1 + N_LEVELS * m] = _prefix_table(answers[:, :m], residual, ridge)
    return tables


def seen_levels(answers: np.ndarray) -> np.ndarray:
    """Each question's level shares among the raters who rated it (questions x N_LEVELS)."""
    shares = level_onehot(answers).sum(axis=0) / np.maximum((answers > 0).sum(axis=0), 1)[:, None]
    return shares.astype(np.float32)


def tune_prefix(
    ratings: np.ndarray,
    residual: np.ndarray,
    thirds: Sequence[np.ndarray],
    parts: Sequence[HeldOut],
    questions: np.ndarray,
    blend: Blend,
    ranked: np.ndarray,
) -> PrefixMix:
    """The setting with the best mean NDCG@10 after 5 and 10 questions over all held-out
    thirds, each third's regression fitted on the other two and mixed with the factor
    model's shift under the interview ``blend`` (ranking the most-rated movies, as
    choose_questions does)."""
    local = np.full(ratings.shape[1], -1)
    local[ranked] = np.arange(len(ranked))
    values: dict[tuple[float, float], list[np.ndarray]] = {}
    for held_out, (held_ratings, base, factors) in zip(thirds, parts, strict=True):
        fit_rows = np.setdiff1d(np.arange(len(ratings)), held_out)
        fit_ratings, fit_residual = ratings[fit_rows], residual[fit_rows][:, ranked]
        relevant = held_ratings >= POSITIVE_SCORE
        ranked_relevant = np.nonzero(relevant[:, ranked])
        for k in INTERVIEW_KS:
            cols = questions[:k]
            shift = simulated(cols, held_ratings[:, cols], factors, blend.ridge)
            shift = blend.weight(len(cols)) * (shift @ factors.load_liked[ranked].T)
            features = level_features(held_ratings[:, cols])
            asked = local[cols][local[cols] >= 0]
            n_left = relevant.sum(1) - relevant[:, cols].sum(1)
            for ridge in PREFIX_RIDGES:
                table = _prefix_table(fit_ratings[:, cols], fit_residual, ridge)
                regression = features @ table
                for mix in MIXES:
                    scores = base[:, ranked] + (1 - mix) * shift + mix * regression
                    scores[:, asked] = -np.inf  # asked movies leave the ranking and the counts
                    ndcgs = ndcg_counted(scores, ranked_relevant, n_left)
                    values.setdefault((ridge, mix), []).append(ndcgs)
    best = max(values, key=lambda setting: mean_ndcg(np.concatenate(values[setting])))
    return PrefixMix(*best)
