"""Ranking state for serving: what a fitted model needs to score the catalogue, in numpy.

The estimators (coldstart/estimators.py) are fitted with scikit-learn, scipy and pandas,
but a serving worker needs none of them, and importing them would be most of its memory
(scikit-learn alone is about 100 MiB). So an estimator keeps its ranking state in a scorer
from this module, the artifact stores that scorer, and serving imports numpy only.

A scorer's ``score_profiles(profiles)`` takes a pandas frame or dicts with age, gender and
occupation and returns one row of scores per profile over the catalogue, higher is better.
The default's scorer also folds in a person's answers about movies (``score``) and says
which movies to ask about next (``next_questions``): see ``Interview``.
"""

from functools import cached_property

import numpy as np

from coldstart.domain import DEMOGRAPHICS, OCCUPATIONS, POSITIVE_SCORE

# (age, gender) pairs whose share of a profile's sum a scorer keeps: every pair the API
# accepts (121 ages x 3 genders), about 9 kB each on ml-100k and 22 kB at a million ratings.
AGE_GENDER_KEPT = 512
_OCCUPATION_CODES = {name: code for code, name in enumerate(OCCUPATIONS)}


def occupation_codes(values) -> np.ndarray:
    """Occupations as small integers; an unknown one is -1 and matches nobody."""
    return np.array([_OCCUPATION_CODES.get(value, -1) for value in values], dtype=np.int8)


def profile_columns(profiles) -> dict[str, np.ndarray]:
    """One array per demographic field. A frame is read by column (without importing
    pandas); dicts are what a request has, and cheaper than building a frame for one."""
    if hasattr(profiles, "columns"):
        return {name: profiles[name].to_numpy() for name in DEMOGRAPHICS}
    profiles = list(profiles)
    return {name: np.array([profile[name] for profile in profiles]) for name in DEMOGRAPHICS}


class FixedScores:
    """The same scores for everyone: the popularity baselines."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float32)

    def score_profiles(self, profiles):
        return np.tile(self.scores, (len(profile_columns(profiles)["age"]), 1))


class DemographicScorer:
    """Popularity of positive ratings among the training raters who resemble a profile
    (see estimators.DemographicPopularity for the meaning of the parameters).

    A rater's weight depends only on their cell (occupation, gender, age), so the positive
    ratings are kept as counts per cell and movie, and a profile costs a weighted sum over
    cells, not over ratings: the same sums, at a cost that does not grow with the ratings.
    The occupation factor is ``ow + (1 - ow) * same occupation``, which splits each sum in
    two: every (gender, age) group of cells weighted by ``ow``, plus the cells of the
    profile's own occupation weighted by ``1 - ow``; a profile reads those rows only. A
    row's last column counts its raters: the kernel's total weight is summed with the rest.
    """

    def __init__(
        self,
        *,
        rater_age,
        rater_gender,
        rater_occupation,
        liked_raters,
        liked_movies,
        n_movies: int,
        age_bandwidth: float,
        gender_weight: float,
        occupation_weight: float,
        contrast: float,
    ):
        raters = np.rec.fromarrays(
            [
                occupation_codes(rater_occupation),
                np.asarray(rater_gender).astype("U1"),
                np.asarray(rater_age, dtype=np.float32),
            ],
            names=["occupation", "gender", "age"],
        )
        cells, cell_of_rater = np.unique(raters, return_inverse=True)  # by occupation first
        self.cell_counts = _counts(cell_of_rater, len(cells), liked_raters, liked_movies, n_movies)
        self.cell_gender, self.cell_age = cells["gender"], cells["age"]
        self.occupation_starts = np.searchsorted(
            cells["occupation"], np.arange(len(OCCUPATIONS) + 1)
        )
        groups, group_of_cell = np.unique(cells[["gender", "age"]], return_inverse=True)
        self.group_gender, self.group_age = groups["gender"], groups["age"]
        by_group = np.argsort(group_of_cell, kind="stable")
        starts = np.searchsorted(group_of_cell[by_group], np.arange(len(groups)))
        self.group_counts = np.add.reduceat(self.cell_counts[by_group], starts, axis=0)
        liked = np.bincount(np.asarray(liked_movies, dtype=np.intp), minlength=n_movies)
        self.global_share = liked / len(raters)
        self.age_bandwidth = age_bandwidth
        self.gender_weight = gender_weight
        self.occupation_weight = occupation_weight
        self.contrast = contrast

    def _weights(self, age, gender, row_age, row_gender) -> np.ndarray:
        """Similarity of a profile to rows of counts: a Gaussian kernel on age times a
        weight for a different gender; ``O`` counts as either gender."""
        weights = np.exp(-0.5 * ((age - row_age) / self.age_bandwidth) ** 2)
        same_gender = (gender == row_gender) | (gender == "O")
        return (weights * np.where(same_gender, 1.0, self.gender_weight)).astype(np.float32)

    def score_profiles(self, profiles):
        columns = profile_columns(profiles)
        age = columns["age"].astype(np.float32)
        gender = columns["gender"].astype("U1")
        occupation = occupation_codes(columns["occupation"])
        return np.array(
            [self._score(*profile) for profile in zip(age, gender, occupation, strict=True)]
        )

    def score_profile(self, profile) -> np.ndarray:
        """``score_profiles([profile])[0]``, without building columns for one profile."""
        occupation = _OCCUPATION_CODES.get(profile["occupation"], -1)
        return self._score(np.float32(profile["age"]), str(profile["gender"])[:1], occupation)

    def _score(self, age, gender, occupation) -> np.ndarray:
        """One profile's scores. Profiles are summed one at a time, so that a profile's
        scores do not depend on the batch it came in (a matrix product's rounding does)."""
        sums, cell_weights = self._by_age_gender(age, gender)
        if occupation >= 0:  # an unknown occupation matches nobody
            cells = slice(*self.occupation_starts[occupation : occupation + 2])
            sums = sums + cell_weights[cells] @ self.cell_counts[cells]
        local = sums[:-1] / sums[-1]
        return self.global_share + self.contrast * (local - self.global_share)

    def _by_age_gender(self, age, gender) -> tuple[np.ndarray, np.ndarray]:
        """What a profile's sum takes from its age and gender alone, kept per pair (most of
        a profile's cost, paid once for its 21 occupations; read-only, never pickled): the
        sum over every (gender, age) group weighted by ``ow``, and each cell's weight as a
        cell of the profile's own occupation, ``1 - ow`` times its similarity."""
        kept = self.__dict__.setdefault("_kept", {})
        entry = kept.get((age, gender))
        if entry is None:
            weights = self._weights(age, gender, self.group_age, self.group_gender)
            sums = (np.float32(self.occupation_weight) * weights) @ self.group_counts
            own = np.float32(1.0 - self.occupation_weight)
            cell_weights = own * self._weights(age, gender, self.cell_age, self.cell_gender)
            sums.flags.writeable = cell_weights.flags.writeable = False
            entry = sums, cell_weights
            if len(kept) < AGE_GENDER_KEPT:
                kept[age, gender] = entry
        return entry

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key != "_kept"}


def _counts(cell_of_rater, n_cells, liked_raters, liked_movies, n_movies) -> np.ndarray:
    """Positive ratings per cell (rows) and movie (columns), then the cell's raters."""
    liked_cells = cell_of_rater[np.asarray(liked_raters, dtype=np.intp)]
    counts = np.zeros((n_cells, n_movies + 1), dtype=np.float32)
    np.add.at(counts, (liked_cells, np.asarray(liked_movies, dtype=np.intp)), 1)
    counts[:, -1] = np.bincount(cell_of_rater, minlength=n_cells)
    return counts


# An answer observes entries of a rater's [seen, liked, loved, disliked] vector (see
# Interview).
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


def answer_kinds(answers) -> tuple[np.ndarray, np.ndarray]:
    """Each answer's kind (RATED, NOT_SEEN, SEEN_ONLY) and rating (0 when there is none)."""
    kinds = [RATED if a.rating is not None else SEEN_ONLY if a.seen else NOT_SEEN for a in answers]
    ratings = [a.rating or 0 for a in answers]
    return np.array(kinds, dtype=np.int8), np.array(ratings, dtype=np.int8)


# The levels of an answer that the prefix tables tell apart, by rating (index 0 unused):
# 1-2, 3, 4, 5; "not seen" is none of them.
RATING_LEVEL = np.array([-1, 0, 0, 1, 2, 3])
N_LEVELS = 4


def level_features(ratings: np.ndarray) -> np.ndarray:
    """Raters x (1 + N_LEVELS * questions): a constant, then each answer's level one-hot
    (ratings: raters x questions, 0 for "not seen")."""
    onehot = RATING_LEVEL[ratings][..., None] == np.arange(N_LEVELS)
    flat = onehot.reshape(len(ratings), -1).astype(np.float32)
    return np.hstack([np.ones((len(ratings), 1), dtype=np.float32), flat])


def volunteered_rows(feature_of, cols, ratings) -> np.ndarray:
    """The volunteered regression's rows read by rated answers (columns and their
    ratings): each answer's (movie, level) row of ``feature_of``, where it has one. Each row
    is weighted 1 / sqrt(number of rated answers)."""
    rows = feature_of[np.asarray(cols, dtype=np.intp) * N_LEVELS + RATING_LEVEL[ratings]]
    return rows[rows >= 0]


def genre_shares(genres, liked, given) -> np.ndarray:
    """The volunteered regression's genre features of rated answers: the liked ones' genre
    flags (``genres``: ... x answers x genres) summed, then the others', each over the number
    of answers (``liked``: rated >= 4, ``given``: a real answer, not padding; ... x answers).
    Genres carry what one movie's row cannot: a taste shared by movies too rarely given to
    have a row of their own."""
    n = np.maximum(given.sum(axis=-1), 1)[..., None]
    liked, other = (given & liked)[..., None], (given & ~liked)[..., None]
    return np.concatenate([(genres * liked).sum(axis=-2), (genres * other).sum(axis=-2)], -1) / n


def observations(model, cols, kinds, ratings, n_blocks: int):
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


def posterior(rows, values, ridge: float) -> np.ndarray:
    """The latent factors' posterior mean given the observed entries (a ridge solve)."""
    gram = rows.T @ rows
    gram.ravel()[:: len(gram) + 1] += ridge  # the diagonal, as a view: no index arrays
    return np.linalg.solve(gram, rows.T @ values)


def strength(m: int, shrink: float, offset: float) -> float:
    """How far m answers move the ranking: (m - offset) / (m - offset + shrink), >= 0, so
    that one answer cannot overturn the demographic prior."""
    m = max(m - offset, 0)
    return m / (m + shrink) if m else 0.0


class Interview:
    """What answers about movies say about taste, as numpy arrays (fitted by
    coldstart/interview.py, which explains the model).

    A rank-r probabilistic-PCA model of each training rater's [seen, liked, loved,
    disliked] vector over the catalogue (RATING_BLOCKS; ``means``: blocks x movies,
    ``loads``: blocks x movies x rank): answers observe some entries, and the posterior of
    the latent factors predicts the liked block for every movie. ``blend`` holds
    (ridge, alpha, shrink, offset) twice: for answers to our own questions in order (a fair
    sample of taste), then for any other set (movies a person chose to rate: popular and
    mostly liked, which say less). ``questions`` are catalogue columns in asking order,
    one per title and never the placeholder; ``title_group`` numbers the titles.

    Answers to the first m questions of the list (m up to the length of ``prefix_tables``)
    are also read by a regression made for exactly those questions:
    ``prefix_tables[m - 1]`` maps their level_features to what they add to the prior, and
    ``prefix`` is (its ridge, the share ``mix`` it takes from the factor model's shift).
    ``seen_levels`` are each question's level shares among the raters who rated it: what
    "seen, no opinion" stands for there.

    Any other answers' ratings are also read by a regression learned from first ratings:
    ``volunteered_table`` has a row per (column, level) it reads (``volunteered_feature``:
    each one's row, or -1; see volunteered_rows), then a row per genre_shares feature
    (``volunteered_genres``: each column's genre flags): what they add to
    ``volunteered_columns``, plus ``volunteered_offsets[m - 1]`` for m rated answers (the
    last row for more), weighted by mix * m / (m + shrink) from ``volunteered`` (ridge,
    mix, shrink).
    """

    def __init__(self, *, means, loads, blend, questions,
                 title_group, prefix, prefix_tables, seen_levels, volunteered,
                 volunteered_feature, volunteered_columns, volunteered_table,
                 volunteered_offsets, volunteered_genres):  # fmt: skip
        self.means = np.asarray(means, dtype=np.float32)
        self.loads = np.asarray(loads, dtype=np.float32)
        self.blend = np.asarray(blend, dtype=np.float64)
        self.questions = np.asarray(questions, dtype=np.int32)
        self.title_group = np.asarray(title_group, dtype=np.int32)
        self.prefix = np.asarray(prefix, dtype=np.float64)
        self.prefix_tables = np.asarray(prefix_tables, dtype=np.float32)
        self.seen_levels = np.asarray(seen_levels, dtype=np.float32)
        self.volunteered = np.asarray(volunteered, dtype=np.float64)
        self.volunteered_feature = np.asarray(volunteered_feature, dtype=np.int32)
        self.volunteered_columns = np.asarray(volunteered_columns, dtype=np.intp)
        self.volunteered_table = np.asarray(volunteered_table, dtype=np.float32)
        self.volunteered_offsets = np.asarray(volunteered_offsets, dtype=np.float32)
        self.volunteered_genres = np.asarray(volunteered_genres, dtype=np.float32)

    @cached_property
    def question_rank(self) -> np.ndarray:
        """Each catalogue column's place in ``questions``; columns never asked come after
        them all. Lookups by index: np.isin costs more than a request on arrays this small."""
        rank = np.full(self.means.shape[1], len(self.questions), dtype=np.intp)
        rank[self.questions] = np.arange(len(self.questions))
        return rank

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key != "question_rank"}

    def _answers_first_questions(self, cols: np.ndarray) -> bool:
        """Whether the answers cover the first len(cols) questions of the list (all of it,
        when there are more answers than questions)."""
        first = min(len(cols), len(self.questions))
        return sum(rank < first for rank in set(self.question_rank[cols].tolist())) == first

    def shift(self, cols: np.ndarray, kinds: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """What the answers add to the prior's scores."""
        asked = self._answers_first_questions(cols)
        ridge, alpha, shrink, offset = self.blend[:4] if asked else self.blend[4:]
        weight = alpha * strength(len(cols), shrink, offset)
        if weight:
            n_blocks = len(self.means) if asked else VOLUNTEERED_BLOCKS
            rows, values = observations(self, cols, kinds, ratings, n_blocks)
            factors = posterior(rows, values, ridge).astype(np.float32)
            shift = np.float32(weight) * (self.loads[LIKED_BLOCK] @ factors)
        else:
            shift = np.zeros(self.means.shape[1], dtype=np.float32)
        if asked and len(cols) <= len(self.prefix_tables):
            mix = np.float32(self.prefix[1])
            shift = (1 - mix) * shift + mix * self._prefix_shift(cols, kinds, ratings)
        elif not asked:
            rated = kinds == RATED
            self._add_volunteered(shift, cols[rated], ratings[rated])
        return shift

    def _prefix_shift(self, cols, kinds, ratings) -> np.ndarray:
        """The prefix regression's shift for answers to exactly the first len(cols) questions."""
        m = len(cols)
        at = self.question_rank[cols]  # each answer's question
        by_question = np.zeros(m, dtype=np.int8)
        by_question[at] = ratings
        features = level_features(by_question[None])[0]
        seen_only = at[kinds == SEEN_ONLY]
        features[1:].reshape(m, N_LEVELS)[seen_only] = self.seen_levels[seen_only]  # a view
        return features @ self.prefix_tables[m - 1, : len(features)]

    def _add_volunteered(self, shift, cols, ratings) -> None:
        """Add the volunteered regression's shift for these rated answers to ``shift``."""
        _, mix, shrink = self.volunteered
        weight = mix * strength(len(cols), shrink, 0)
        if weight:
            rows = volunteered_rows(self.volunteered_feature, cols, ratings)
            read = self.volunteered_table[rows].sum(axis=0) / np.float32(np.sqrt(len(cols)))
            liked = ratings >= POSITIVE_SCORE
            shares = genre_shares(self.volunteered_genres[cols], liked, np.ones(len(cols), bool))
            shares = shares.astype(np.float32)
            read += shares @ self.volunteered_table[len(self.volunteered_table) - len(shares) :]
            offset = self.volunteered_offsets[min(len(cols), len(self.volunteered_offsets)) - 1]
            shift[self.volunteered_columns] += np.float32(weight) * (read + offset)

    def next_questions(self, cols: np.ndarray, n: int) -> np.ndarray:
        """The next ``n`` columns of the list, skipping every title already answered."""
        if len(cols):
            answered = np.zeros(len(self.title_group), dtype=bool)  # by title
            answered[self.title_group[cols]] = True
            return self.questions[~answered[self.title_group[self.questions]]][:n]
        return self.questions[:n]


class InterviewScorer(DemographicScorer):
    """The default's scorer: the demographic prior, moved by a person's answers.

    Without answers ``score`` is exactly ``score_profiles`` for that profile: the model
    learns from answers and changes nothing for a person who gives none.
    """

    def __init__(self, *, movie_ids, interview: Interview, **demographic):
        super().__init__(**demographic)
        self.movie_ids = np.asarray(movie_ids, dtype=np.int64)
        self.interview = interview

    def answered_columns(self, answers) -> tuple[np.ndarray, list]:
        """Catalogue columns of the answers this model knows, and those answers."""
        ids = np.array([answer.movie_id for answer in answers], dtype=np.int64)
        cols = np.minimum(np.searchsorted(self.movie_ids, ids), len(self.movie_ids) - 1)
        known = self.movie_ids[cols] == ids
        return cols[known], [a for a, k in zip(answers, known.tolist(), strict=True) if k]

    def score(self, profile, answers=()) -> np.ndarray:
        """Scores over the catalogue for one profile and its answers; answered movies score
        -inf, so they are never recommended."""
        scores = self.score_profile(profile)
        if not answers:
            return scores
        cols, known = self.answered_columns(answers)
        if len(cols):
            kinds, ratings = answer_kinds(known)
            scores = scores + self.interview.shift(cols, kinds, ratings)
            scores[cols] = -np.inf
        return scores

    def next_questions(self, profile, answers=(), n: int = 5) -> np.ndarray:
        """Movie ids to ask about next, best first: a fixed list chosen at fit time, so
        ``profile`` does not change it (an adaptive choice measured no better)."""
        cols, _ = self.answered_columns(answers) if answers else (np.zeros(0, np.intp), [])
        return self.movie_ids[self.interview.next_questions(cols, n)]
