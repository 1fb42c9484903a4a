"""The factor model. Each training rater is a binary vector over the catalogue in four blocks
(answers.RATING_BLOCKS): *seen* (rated at all), *liked* (rated >= 4), *loved* (5) and
*disliked* (1-2). A probabilistic-PCA model of those vectors (the top ``rank``
eigenvectors of the raters' Gram matrix) says how the entries co-vary; an answer observes
some entries, and the posterior of the latent factors predicts the liked block for every
movie (answers.observations). Any subset of answers is conditioned on exactly, redundant
questions are not counted twice, and the state is four movies x rank matrices rather than
a movies x movies one. The loved and disliked blocks let an answer say how much, not only
whether, a person liked a movie; they ranked better after interviews, and worse after
first ratings, which observe seen and liked only.
"""

from collections.abc import Sequence

import numpy as np

from coldstart.answers import (
    BLOCK_RATINGS,
    RATING_BLOCKS,
    SEEN_BLOCK,
    VOLUNTEERED_BLOCKS,
    FactorModel,
)

# A held-out third of the training raters: their ratings, their demographic prior and the
# factor model, both fitted on the other two thirds.
HeldOut = tuple[np.ndarray, np.ndarray, FactorModel]


def rater_gram(ratings: np.ndarray, n_blocks: int = len(BLOCK_RATINGS)) -> np.ndarray:
    """The raters' uncentred Gram matrix over the first ``n_blocks`` blocks (raters x
    raters): how many entries each two raters share. Counts, exact in float32; any subset
    of raters centres its own part of it (fit_factors), so that the held-out thirds' factor
    models and the final one need only this one product."""
    gram = np.zeros((len(ratings), len(ratings)), dtype=np.float32)
    # Raters are fewer than the blocks' columns, so the Gram matrix is the cheap side,
    # summed block by block: the raters x (blocks x movies) matrix is never held at once.
    for block in range(n_blocks):
        x = _block(ratings, block)
        gram += x @ x.T
    return gram


def fit_factors(
    ratings: np.ndarray,
    rank: int,
    seed: int,
    n_blocks: int = len(BLOCK_RATINGS),
    raw: np.ndarray | None = None,
) -> FactorModel:
    """The PPCA means and loadings of the first ``n_blocks`` RATING_BLOCKS (what
    answers.observations reads) for a dense raters x movies matrix of scores; ``raw``:
    its raters' rater_gram over those blocks, when it is already known."""
    n_raters = len(ratings)
    if raw is None:
        raw = rater_gram(ratings, n_blocks)
    means = np.stack([_block(ratings, b).mean(axis=0) for b in range(n_blocks)])
    # Centred: (B - 1m')(B - 1m')' = BB' - Bm 1' - 1 (Bm)' + m'm, summed over the blocks.
    sums = sum((_block(ratings, b) @ means[b] for b in range(n_blocks)), np.zeros(n_raters))
    sums = sums.astype(np.float32)
    gram = raw - sums[:, None] - sums[None, :] + np.float32((means * means).sum())
    # Randomized subspace iteration finds its top eigenvectors faster than a full eigh.
    basis = np.random.default_rng(seed).standard_normal((n_raters, rank + 16))
    basis = basis.astype(np.float32)
    for _ in range(4):
        basis, _ = np.linalg.qr(gram @ basis)
    _, small = np.linalg.eigh(basis.T @ gram @ basis)
    vectors = basis @ small[:, ::-1][:, :rank]
    # V s / sqrt(n): the PPCA loadings
    loads = np.stack(
        [_centred(ratings, b, means[b]).T @ vectors for b in range(n_blocks)]
    ) / np.float32(np.sqrt(n_raters))
    return FactorModel(means=means, loads=loads)


def _centred(ratings: np.ndarray, block: int, mean: np.ndarray) -> np.ndarray:
    x = _block(ratings, block)
    x -= mean  # in place: one raters x movies array at a time
    return x


def _block(ratings: np.ndarray, block: int) -> np.ndarray:
    """The block's entries (answers.RATING_BLOCKS) of a raters x movies matrix, as float32.
    By comparisons, not a RATING_BLOCKS lookup: indexing by the matrix would hold an index
    array of 8 bytes an entry, twice the block itself."""
    low, high = BLOCK_RATINGS[block]
    return ((ratings >= low) & (ratings <= high)).astype(np.float32)


def simulated(
    cols: np.ndarray, ratings: np.ndarray, factors: FactorModel, ridge: float
) -> np.ndarray:
    """Posterior factors of many raters asked the same movies (raters x rank): each
    answers with their rating, else "not seen". ``cols`` may hold several lists of movies
    (lists x movies; ``ratings``: raters x lists x movies), solved at once (lists x raters
    x rank)."""
    n_blocks = len(factors.means)  # the blocks it models: the first n_blocks
    rows = block_rows(factors, cols, n_blocks)
    values = np.moveaxis(RATING_BLOCKS[ratings, :n_blocks], -1, 0) - factors.means[:, None, cols]
    values = np.moveaxis(values, 0, -2).reshape(*ratings.shape[:-1], -1)  # block by block
    return np.swapaxes(posteriors(rows, np.moveaxis(values, 0, -1), ridge), -1, -2)


def block_rows(factors: FactorModel, cols: np.ndarray, n_blocks: int) -> np.ndarray:
    """The loadings' rows of ``cols`` (... x movies) in the first ``n_blocks`` blocks, block
    by block (... x n_blocks * movies x rank)."""
    rows = np.moveaxis(factors.loads[:n_blocks, cols], 0, -3)
    return rows.reshape(*cols.shape[:-1], -1, rows.shape[-1])


def posteriors(rows: np.ndarray, values: np.ndarray, ridge: float) -> np.ndarray:
    """answers.posterior for a stack of problems at once (... x observed x rank rows)."""
    rows_t = np.swapaxes(rows, -1, -2)
    gram = rows_t @ rows
    diagonal = np.arange(gram.shape[-1])
    gram[..., diagonal, diagonal] += ridge
    return np.linalg.solve(gram, rows_t @ values)


def volunteered_posteriors(
    given: Sequence[np.ndarray], ratings: np.ndarray, factors: FactorModel, ridge: float
) -> np.ndarray:
    """Each rater's posterior factors (raters x rank) from their own ratings of the
    ``given`` movies (one list per rater; observed as answers.observations observes
    ratings), all solved at once: shorter lists are padded with rows and values of zero,
    which observe nothing."""
    lengths = np.array([len(cols) for cols in given])
    padded = np.arange(max(lengths.max(), 1)) < lengths[:, None]
    cols = np.zeros(padded.shape, dtype=np.intp)
    cols[padded] = np.concatenate(given)
    observed = np.tile(padded, VOLUNTEERED_BLOCKS)
    rows = block_rows(factors, cols, VOLUNTEERED_BLOCKS) * observed[..., None]
    answers = ratings[np.arange(len(cols))[:, None], cols]
    values = np.moveaxis(RATING_BLOCKS[answers, :VOLUNTEERED_BLOCKS], -1, 0)
    values[SEEN_BLOCK] = 1  # a given movie is seen, as serving observes a rated answer
    values -= factors.means[:VOLUNTEERED_BLOCKS, cols]
    values = np.moveaxis(values, 0, 1).reshape(len(cols), -1) * observed
    return posteriors(rows, values[..., None], ridge)[..., 0]
