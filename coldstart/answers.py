"""What answers about movies say about taste, in numpy: the interview's fitted state as
serving reads it (``Interview``: fitted by coldstart/interview/, whose modules explain the
model), its hyper-parameters as named settings, and the encodings of answers that fitting
and serving share.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from coldstart.domain import POSITIVE_SCORE

# An answer observes entries of a rater's [seen, liked, loved, disliked] vector (see
# FactorModel).
RATED, NOT_SEEN, SEEN_ONLY = 0, 1, 2
# The ratings in each block of the factor model, inclusive: seen (rated at all), liked
# (>= 4, what is ranked), loved (5) and disliked (1-2). The last two let it read how much a
# person liked a movie, not only whether.
BLOCK_RATINGS = ((1, 5), (POSITIVE_SCORE, 5), (5, 5), (1, 2))
# What a rating (0: not seen, 1-5) says in each block (ratings x blocks).
RATING_BLOCKS = np.array(
    [[low <= rating <= high for low, high in BLOCK_RATINGS] for rating in range(6)],
    dtype=np.float32,
)
SEEN_BLOCK, LIKED_BLOCK = 0, 1
# Answers the person chose (not our questions) observe the first two only, seen and liked:
# reading their loved and disliked blocks too ranked worse after first ratings (sign-up
# choices, popular and mostly liked), and these blocks were added for the interview.
VOLUNTEERED_BLOCKS = 2


class GivenAnswer(Protocol):
    """What a person said about one movie (serving.Answer)."""

    @property
    def movie_id(self) -> int: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def seen(self) -> bool: ...


def answer_kinds(answers: Sequence[GivenAnswer]) -> tuple[np.ndarray, np.ndarray]:
    """Each answer's kind (RATED, NOT_SEEN, SEEN_ONLY) and rating (0 when there is none)."""
    kinds = [RATED if a.rating is not None else SEEN_ONLY if a.seen else NOT_SEEN for a in answers]
    ratings = [a.rating or 0 for a in answers]
    return np.array(kinds, dtype=np.int8), np.array(ratings, dtype=np.int8)


# The levels of an answer that the prefix tables tell apart, by rating (index 0 unused):
# 1-2, 3, 4, 5; "not seen" is none of them.
RATING_LEVEL = np.array([-1, 0, 0, 1, 2, 3])
N_LEVELS = 4


def level_onehot(ratings: np.ndarray) -> np.ndarray:
    """Each rating's level (RATING_LEVEL) one-hot, none for "not seen" (... x N_LEVELS)."""
    return RATING_LEVEL[ratings][..., None] == np.arange(N_LEVELS)


def level_features(ratings: np.ndarray) -> np.ndarray:
    """Raters x (1 + N_LEVELS * questions): a constant, then each answer's level one-hot
    (ratings: raters x questions, 0 for "not seen")."""
    flat = level_onehot(ratings).reshape(len(ratings), -1).astype(np.float32)
    return np.hstack([np.ones((len(ratings), 1), dtype=np.float32), flat])


def volunteered_rows(feature_of: np.ndarray, cols: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """The volunteered regression's rows read by rated answers (columns and their
    ratings): each answer's (movie, level) row of ``feature_of``, where it has one. Each row
    is weighted 1 / sqrt(number of rated answers)."""
    rows = feature_of[np.asarray(cols, dtype=np.intp) * N_LEVELS + RATING_LEVEL[ratings]]
    return rows[rows >= 0]


def genre_shares(genres: np.ndarray, liked: np.ndarray, given: np.ndarray) -> np.ndarray:
    """The volunteered regression's genre features of rated answers: the liked ones' genre
    flags (``genres``: ... x answers x genres) summed, then the others', each over the number
    of answers (``liked``: rated >= 4, ``given``: a real answer, not padding; ... x answers).
    Genres carry what one movie's row cannot: a taste shared by movies too rarely given to
    have a row of their own."""
    n = np.maximum(given.sum(axis=-1), 1)[..., None]
    liked, other = (given & liked)[..., None], (given & ~liked)[..., None]
    return np.concatenate([(genres * liked).sum(axis=-2), (genres * other).sum(axis=-2)], -1) / n


def observations(
    model: "FactorModel", cols: np.ndarray, kinds: np.ndarray, ratings: np.ndarray, n_blocks: int
) -> tuple[np.ndarray, np.ndarray]:
    """The loadings' rows and centred values that answers observe in the first ``n_blocks``
    blocks: a rating observes each (RATING_BLOCKS); "not seen" observes 0 in each (it
    carries taste and says which movies cannot be relevant); "seen, no opinion" observes
    seen = 1 only."""
    values = RATING_BLOCKS[ratings, :n_blocks].T  # blocks x answers
    values[SEEN_BLOCK] = kinds != NOT_SEEN
    observed = np.ones(values.shape, dtype=bool)
    observed[SEEN_BLOCK + 1 :, kinds == SEEN_ONLY] = False
    means, loads = model.means[:n_blocks, cols], model.loads[:n_blocks, cols]
    return loads[observed], (values - means)[observed]


def posterior(rows: np.ndarray, values: np.ndarray, ridge: float) -> np.ndarray:
    """The latent factors' posterior mean given the observed entries (a ridge solve)."""
    gram = rows.T @ rows
    # The diagonal, as a view (no index arrays); the ridge is added in float64, then
    # rounded to the rows' float32.
    gram.ravel()[:: len(gram) + 1] += np.float64(ridge)
    return np.linalg.solve(gram, rows.T @ values)


def strength(m: int, shrink: float, offset: float) -> float:
    """How far m answers move the ranking: (m - offset) / (m - offset + shrink), >= 0, so
    that one answer cannot overturn the demographic prior."""
    left = max(m - offset, 0)
    return left / (left + shrink) if left else 0.0


@dataclass(frozen=True)
class Blend:
    """How far the factor model's reading of m answers moves the prior: the latent factors'
    posterior solved with ``ridge``, the liked block it predicts weighted by ``alpha`` times
    strength(m, shrink, offset)."""

    ridge: float
    alpha: float
    shrink: float
    offset: float = 0.0

    def weight(self, m: int) -> float:
        return self.alpha * strength(m, self.shrink, self.offset)


@dataclass(frozen=True)
class PrefixMix:
    """The prefix regressions' ridge, and the share ``mix`` of the shift they take from the
    factor model's: (1 - mix) * the factor model's shift + mix * the regression's."""

    ridge: float
    mix: float


@dataclass(frozen=True)
class RegressionMix:
    """The volunteered regression's ridge, and its weight for m rated answers, ``mix`` times
    strength(m, shrink, 0), on top of the factor model's shift."""

    ridge: float
    mix: float
    shrink: float

    def weight(self, m: int) -> float:
        return self.mix * strength(m, self.shrink, 0)


@dataclass(frozen=True, eq=False)
class FactorModel:
    """A rank-r probabilistic-PCA model of each training rater's [seen, liked, loved,
    disliked] vector over the catalogue (RATING_BLOCKS; ``means``: blocks x movies,
    ``loads``: blocks x movies x rank, float32): answers observe some entries, and the
    posterior of the latent factors predicts the liked block for every movie."""

    means: np.ndarray
    loads: np.ndarray

    @property
    def load_liked(self) -> np.ndarray:
        return self.loads[LIKED_BLOCK]

    def liked(
        self, cols: np.ndarray, kinds: np.ndarray, ratings: np.ndarray, n_blocks: int, ridge: float
    ) -> np.ndarray:
        """The liked block predicted from answers observed in the first ``n_blocks``."""
        rows, values = observations(self, cols, kinds, ratings, n_blocks)
        factors = posterior(rows, values, ridge).astype(np.float32)
        return self.load_liked @ factors


@dataclass(frozen=True, eq=False)
class PrefixRegressions:
    """Answers to exactly the first m questions of the list (m up to len(tables)) read by a
    regression made for those questions: ``tables[m - 1]`` maps their level_features to
    what they add to the prior (zero-padded); ``seen_levels`` are each question's level
    shares among the raters who rated it: what "seen, no opinion" stands for there."""

    setting: PrefixMix
    tables: np.ndarray
    seen_levels: np.ndarray

    def mixed(
        self, factor_shift: np.ndarray, at: np.ndarray, kinds: np.ndarray, ratings: np.ndarray
    ) -> np.ndarray:
        """The factor model's shift mixed with this regression's (``at``: each answer's
        question)."""
        mix = np.float32(self.setting.mix)
        return (1 - mix) * factor_shift + mix * self._shift(at, kinds, ratings)

    def _shift(self, at: np.ndarray, kinds: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        m = len(at)
        by_question = np.zeros(m, dtype=np.int8)
        by_question[at] = ratings
        features = level_features(by_question[None])[0]
        seen_only = at[kinds == SEEN_ONLY]
        features[1:].reshape(m, N_LEVELS)[seen_only] = self.seen_levels[seen_only]  # a view
        return features @ self.tables[m - 1, : len(features)]


@dataclass(frozen=True, eq=False)
class VolunteeredRegression:
    """What the ratings of movies a person chose say, learned from first ratings: ``table``
    has a row per (column, level) it reads (``feature_of``: each one's row, or -1; see
    volunteered_rows), then a row per genre_shares feature (``genres``: each column's genre
    flags): what they add to ``columns``, plus ``offsets[m - 1]`` for m rated answers (the
    last row for more), weighted as ``setting`` says."""

    setting: RegressionMix
    feature_of: np.ndarray
    columns: np.ndarray
    table: np.ndarray
    offsets: np.ndarray
    genres: np.ndarray

    def add_to(self, shift: np.ndarray, cols: np.ndarray, ratings: np.ndarray) -> None:
        """Add the regression's shift for these rated answers to ``shift``."""
        weight = self.setting.weight(len(cols))
        if weight:
            rows = volunteered_rows(self.feature_of, cols, ratings)
            read = self.table[rows].sum(axis=0) / np.float32(np.sqrt(len(cols)))
            liked = ratings >= POSITIVE_SCORE
            shares = genre_shares(self.genres[cols], liked, np.ones(len(cols), bool))
            shares = shares.astype(np.float32)
            read += shares @ self.table[len(self.table) - len(shares) :]
            offset = self.offsets[min(len(cols), len(self.offsets)) - 1]
            shift[self.columns] += np.float32(weight) * (read + offset)


@dataclass(frozen=True, eq=False)
class Interview:
    """What answers about movies say about taste. ``interview_blend`` reads answers to our
    own questions in order (a fair sample of taste), ``volunteered_blend`` any other set
    (movies a person chose to rate: popular and mostly liked, which say less), which the
    ``volunteered`` regression also reads; answers to the first questions are also read by
    the ``prefix`` regressions. ``questions`` are catalogue columns in asking order, one per
    title and never the placeholder; ``title_group`` numbers the titles."""

    factors: FactorModel
    interview_blend: Blend
    volunteered_blend: Blend
    questions: np.ndarray
    title_group: np.ndarray
    prefix: PrefixRegressions
    volunteered: VolunteeredRegression

    @cached_property
    def question_rank(self) -> np.ndarray:
        """Each catalogue column's place in ``questions``; columns never asked come after
        them all. Lookups by index: np.isin costs more than a request on arrays this small."""
        rank = np.full(self.factors.means.shape[1], len(self.questions), dtype=np.intp)
        rank[self.questions] = np.arange(len(self.questions))
        return rank

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "question_rank"}

    def _answers_first_questions(self, cols: np.ndarray) -> bool:
        """Whether the answers cover the first len(cols) questions of the list (all of it,
        when there are more answers than questions)."""
        first = min(len(cols), len(self.questions))
        return sum(rank < first for rank in set(self.question_rank[cols].tolist())) == first

    def shift(self, cols: np.ndarray, kinds: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """What the answers add to the prior's scores."""
        asked = self._answers_first_questions(cols)
        blend = self.interview_blend if asked else self.volunteered_blend
        weight = blend.weight(len(cols))
        if weight:
            n_blocks = len(self.factors.means) if asked else VOLUNTEERED_BLOCKS
            liked = self.factors.liked(cols, kinds, ratings, n_blocks, blend.ridge)
            shift = np.float32(weight) * liked
        else:
            shift = np.zeros(self.factors.means.shape[1], dtype=np.float32)
        if asked and len(cols) <= len(self.prefix.tables):
            shift = self.prefix.mixed(shift, self.question_rank[cols], kinds, ratings)
        elif not asked:
            rated = kinds == RATED
            self.volunteered.add_to(shift, cols[rated], ratings[rated])
        return shift

    def next_questions(self, cols: np.ndarray, n: int) -> np.ndarray:
        """The next ``n`` columns of the list, skipping every title already answered."""
        if len(cols):
            answered = np.zeros(len(self.title_group), dtype=bool)  # by title
            answered[self.title_group[cols]] = True
            return self.questions[~answered[self.title_group[self.questions]]][:n]
        return self.questions[:n]
