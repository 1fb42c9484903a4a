"""The two blends. Answers to our own questions are a fair sample of taste; movies a person
chose to rate are not (ml-100k's first ratings come from MovieLens's sign-up page: popular
and mostly liked), and the blend best for interviews ranks worse than the prior when fed
first ratings. So (ridge, alpha, shrink) for interviews is tuned on simulated interviews
of 5 and 10 questions, and a second (ridge, alpha, shrink, offset) for any other answers
on the first 1, 3, 5, 10 ratings, keeping the best first-5 lift among settings whose lift
is >= 0 by one standard error at every k (alpha 0, the prior itself, is always allowed).
Both are tuned on the first third with the factor model fitted on the other two; the
factor model is then refitted on every rater.
"""

from collections.abc import Sequence
from itertools import product

import numpy as np

from coldstart.answers import Blend, FactorModel, strength
from coldstart.domain import FIRST_KS, INTERVIEW_KS, POSITIVE_SCORE
from coldstart.interview.factors import simulated, volunteered_posteriors
from coldstart.interview.measure import Asked, low_and_first5, mean_ndcg
from coldstart.interview.questions import GREEDY_RIDGE

# Grids of the blends, tuned inside fit on the training raters.
RIDGES = (GREEDY_RIDGE, 0.3, 1.0)  # the first is the greedy search's
ALPHAS = (0.5, 1.0, 1.5, 2.0)
SHRINKS = (0.0, 2.0)
VOLUNTEERED_RIDGES = (0.3, 1.0, 3.0)
VOLUNTEERED_SHRINKS = (0.0, 2.0, 5.0)
# Volunteered answers may be ignored until there are more than ``offset`` of them (a first
# rating is nearly always a popular sign-up movie).
OFFSETS = (0, 1, 2)


def tune_interview(
    ratings: np.ndarray,
    base: np.ndarray,
    factors: FactorModel,
    questions: np.ndarray,
    columns: np.ndarray,
) -> Blend:
    """The blend (offset 0) with the best mean NDCG@10 after 5 and 10 questions, ranking
    ``columns``."""
    relevant = ratings >= POSITIVE_SCORE
    asked = {k: Asked(base, relevant, [questions[:k]] * len(base), columns) for k in INTERVIEW_KS}
    liked_loads = factors.load_liked[columns]
    best, chosen = -np.inf, Blend(RIDGES[0], ALPHAS[0], SHRINKS[0])
    for ridge in RIDGES:
        shifts: dict[int, np.ndarray] = {}
        for k in INTERVIEW_KS:
            cols = questions[:k]
            shifts[k] = simulated(cols, ratings[:, cols], factors, ridge) @ liked_loads.T
        blends = [Blend(ridge, alpha, shrink) for alpha, shrink in product(ALPHAS, SHRINKS)]
        ndcgs = {
            k: asked[k].ndcgs({blend.weight(k) for blend in blends}, shift)
            for k, shift in shifts.items()
        }
        for blend in blends:
            value = float(np.mean([mean_ndcg(ndcgs[k][blend.weight(k)]) for k in asked]))
            if value > best:
                best, chosen = value, blend
    return chosen


def tune_volunteered(
    ratings: np.ndarray,
    first_cols: Sequence[np.ndarray],
    base: np.ndarray,
    factors: FactorModel,
    columns: np.ndarray,
) -> Blend:
    """The blend for answers the person chose: the best first-5 lift among settings whose
    lift is >= 0 by one standard error at every k (ranking ``columns``)."""
    relevant = ratings >= POSITIVE_SCORE
    given = {k: [cols[:k] for cols in first_cols] for k in FIRST_KS}
    asked = {k: Asked(base, relevant, given[k], columns) for k in FIRST_KS}
    liked_loads = factors.load_liked[columns]
    settings = list(product(ALPHAS, VOLUNTEERED_SHRINKS, OFFSETS))
    weights = {k: {a * strength(k, s, o) for a, s, o in settings} for k in FIRST_KS}
    best_lift, chosen = 0.0, Blend(1.0, 0.0, 0.0)  # alpha 0: the prior's own ranking
    for ridge in VOLUNTEERED_RIDGES:
        # per rater, over the prior's own ranking (weight 0)
        lifts: dict[tuple[int, float], np.ndarray] = {}
        for k in FIRST_KS:
            shift = volunteered_posteriors(given[k], ratings, factors, ridge) @ liked_loads.T
            ndcgs = asked[k].ndcgs(weights[k] | {0.0}, shift)
            for weight, ndcg in ndcgs.items():
                lifts[k, weight] = ndcg - ndcgs[0.0]
        for alpha, shrink, offset in settings:
            blend = Blend(ridge, alpha, shrink, float(offset))
            low, lift = low_and_first5({k: lifts[k, blend.weight(k)] for k in FIRST_KS})
            if low >= 0 and lift > best_lift:
                best_lift, chosen = lift, blend
    return chosen
