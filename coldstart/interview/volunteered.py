"""The volunteered regression. Movies a person chose to rate are read by a regression too, made
for them: each rated answer's (movie, level) one-hot, divided by the square root of the
number of rated answers, and the genre flags of the liked (rated >= 4) and of the other rated
answers, each summed over the number of rated answers (answers.genre_shares: a taste shared
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

from collections.abc import Sequence
from itertools import product

import numpy as np

from coldstart.answers import (
    N_LEVELS,
    RATING_LEVEL,
    Blend,
    RegressionMix,
    VolunteeredRegression,
    genre_shares,
    strength,
)
from coldstart.domain import FIRST_KS, POSITIVE_SCORE
from coldstart.interview.factors import HeldOut, volunteered_posteriors
from coldstart.interview.measure import Asked, low_and_first5

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
# A third's sums (Regression.moments): per k its raters, sum of features and sum of
# targets; over every k the features' Gram and features x targets.
_Moments = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Regression:
    """The volunteered answers' regression (see the module's docstring) over the training
    raters: which (movie, level) pairs it reads, which movies (``targets``) it moves, and
    the sums it is fitted from, kept per third so that each third's fit and the final one
    add them up."""

    def __init__(
        self,
        ratings: np.ndarray,
        first_cols: Sequence[np.ndarray],
        genres: np.ndarray,
        targets: np.ndarray,
        thirds: Sequence[np.ndarray],
    ) -> None:
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

    def features(self, rows: np.ndarray, k: int) -> np.ndarray:
        """What serving reads (answers.VolunteeredRegression.add_to) from each of ``rows``'
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

    def moments(self, residual: np.ndarray) -> list[_Moments]:
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
            sums.append(
                (
                    np.array(counts),
                    np.array(x_sums),
                    np.array(y_sums),
                    gram.astype(np.float32),
                    cross.astype(np.float32),
                )
            )
        return sums

    def fit(
        self, moments: Sequence[_Moments], ridges: Sequence[float]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(table, offsets) per ridge from the summed ``moments`` of some thirds: table
        (features x moved movies), offsets (one row per number of answers, 1 to 10)."""
        n, x_sum, y_sum, gram, cross = (
            sum((part[i].astype(np.float64) for part in moments), np.zeros(())) for i in range(5)
        )
        # One constant per k: centre each k's rows; the constant is then its means.
        x_means, y_means = x_sum / n[:, None], y_sum / n[:, None]
        gram = gram - (x_means.T * n) @ x_means
        cross = cross - (x_means.T * n) @ y_means
        values, vectors = np.linalg.eigh(gram)  # one decomposition for every ridge
        projected = vectors.T @ cross
        tables = [vectors @ (projected / (values + ridge)[:, None]) for ridge in ridges]
        return [(t.astype(np.float32), (y_means - x_means @ t).astype(np.float32)) for t in tables]

    def fitted(self, moments: Sequence[_Moments], setting: RegressionMix) -> VolunteeredRegression:
        """The regression over every rater under ``setting`` (``tune``'s, for serving)."""
        ((table, offsets),) = self.fit(moments, [setting.ridge])
        return VolunteeredRegression(
            setting=setting,
            feature_of=self.feature_of,
            columns=self.targets,
            table=table,
            offsets=offsets,
            genres=self.genres,
        )

    def tune(
        self,
        moments: Sequence[_Moments],
        parts: Sequence[HeldOut],
        blend: Blend,
        columns: np.ndarray,
    ) -> RegressionMix:
        """The setting chosen by the volunteered blend's rule, each third read by the
        regression fitted on the other two, on top of the factor model's shift under the
        volunteered ``blend``."""
        if not self.n_features:
            return RegressionMix(REGRESSION_RIDGES[0], 0.0, 0.0)  # nothing common enough to read
        settings = list(product(REGRESSION_MIXES, REGRESSION_SHRINKS))
        ranked = np.full(self.ratings.shape[1], -1)
        ranked[columns] = np.arange(len(columns))
        moved_ranked = ranked[self.targets] >= 0  # the moved movies among the ranked ones
        lifts: dict[tuple[object, ...], list[np.ndarray]] = {}
        for i, (held_ratings, base, factors) in enumerate(parts):
            held_out = self.thirds[i]
            fitted = self.fit([m for j, m in enumerate(moments) if j != i], REGRESSION_RIDGES)
            relevant = held_ratings >= POSITIVE_SCORE
            for k in FIRST_KS:
                given = [self.given[row, : min(k, self.n_given[row])] for row in held_out]
                factor = volunteered_posteriors(given, held_ratings, factors, blend.ridge)
                factor = blend.weight(k) * (factor @ factors.load_liked.T)
                asked = Asked(base, relevant, given, columns)
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


def _safest(
    lifts: dict[tuple[object, ...], list[np.ndarray]], settings: Sequence[tuple[float, float]]
) -> RegressionMix:
    """The setting with the best first-5 lift among those >= 0 by one standard error at
    every k; mix 0 (the factor model alone) if none is better."""
    pooled = {key: np.concatenate(parts) for key, parts in lifts.items()}
    factor = low_and_first5({k: pooled["factor", k] for k in FIRST_KS})
    chosen, best = RegressionMix(REGRESSION_RIDGES[0], 0.0, 0.0), max(factor[1], 0.0)
    for ridge, (mix, shrink) in product(REGRESSION_RIDGES, settings):
        setting = RegressionMix(ridge, mix, shrink)
        low, lift = low_and_first5({k: pooled[ridge, k, setting.weight(k)] for k in FIRST_KS})
        if low >= 0 and lift > best:
            best, chosen = lift, setting
    return chosen
