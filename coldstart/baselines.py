"""A simple baseline for the interview, to measure it against: a fixed question list chosen
greedily on the training raters, then the answer-weighted nearest raters.

A new person's answers are compared with every training rater's ratings of the same movies,
each answer in one of three states (not seen, rated 1-3, rated 4-5): a rater gains 1 for
each rated answer in the same state and ``unseen_weight`` for each shared "not seen". The
raters are weighted by exp(``sharpness`` x that similarity), and a movie scores the
weighted share of them who liked it (rated >= 4): with no answers, positive popularity. The
list is chosen like the interview's (coldstart/interview/questions.py), on an inner split
of the training raters (by person, where raters copy one): each step adds the candidate
whose simulated answers (the real rating, else "not seen") most raise the held-out raters'
NDCG@10, the asked movies out of the ranking and the relevant set. (sharpness,
unseen_weight) are then tuned on the same split, after 5 and 10 questions. No demographics:
it reads answers only.
"""

from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any, Self

import numpy as np

from coldstart.answers import GivenAnswer
from coldstart.domain import INTERVIEW_KS, POSITIVE_SCORE
from coldstart.interview.fit import by_person
from coldstart.interview.measure import mean_ndcg, ndcg_counted
from coldstart.interview.questions import askable

NOT_SEEN, RATED_OTHER, RATED_LIKED = 0, 1, 2
SHARPNESSES = (0.5, 1.0, 2.0, 4.0)
UNSEEN_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
# The inner split: held-out raters and their neighbours, sampled (the greedy search costs
# held x neighbours x ranked per candidate), and the most-rated movies it ranks.
HELD_RATERS, NEIGHBOUR_RATERS, RANKED_MOVIES = 400, 2000, 300


def answer_states(ratings: np.ndarray) -> np.ndarray:
    """NOT_SEEN for 0, RATED_OTHER for 1-3, RATED_LIKED for 4-5 (same shape, int8)."""
    ratings = np.asarray(ratings)
    return np.where(ratings >= POSITIVE_SCORE, RATED_LIKED, (ratings > 0) * RATED_OTHER).astype(
        np.int8
    )


def similarities(mine: np.ndarray, theirs: np.ndarray, unseen_weight: float) -> np.ndarray:
    """Answer-agreement of each person (``mine``: ... x answers) with each rater (``theirs``:
    raters x answers): ... x raters."""
    same = mine[..., None, :] == theirs
    weight = np.where(mine == NOT_SEEN, np.float32(unseen_weight), np.float32(1.0))
    return (same * weight[..., None, :]).sum(axis=-1, dtype=np.float32)


def neighbour_scores(sims: np.ndarray, liked: np.ndarray, sharpness: float) -> np.ndarray:
    """The share of raters who liked each movie, each weighted by exp(sharpness x sim)."""
    weights = np.exp(np.float32(sharpness) * (sims - sims.max(axis=-1, keepdims=True)))
    return (weights @ liked) / weights.sum(axis=-1, keepdims=True)


class NearestRaters:
    """The baseline (see the module's docstring), fitted on a raters x movies matrix of
    scores (0: not rated); it serves like scoring.InterviewScorer: ``score`` and
    ``next_questions`` by movie id, the profile ignored."""

    def __init__(self, *, n_questions: int = 10, n_candidates: int = 60, seed: int = 0) -> None:
        self.n_questions = n_questions
        self.n_candidates = n_candidates
        self.seed = seed

    def fit(
        self,
        ratings: np.ndarray,
        movie_ids: np.ndarray,
        title_group: np.ndarray,
        unknown: np.ndarray,
        person_of: np.ndarray | None = None,
    ) -> Self:
        """``person_of``: each rater's person, where several raters copy one (a stand-in's
        twins, kept out of the held-out raters' neighbours; None: each rater is their own)."""
        self.movie_ids_ = np.asarray(movie_ids, dtype=np.int64)
        self.title_group_ = np.asarray(title_group)
        self.states_ = answer_states(ratings)
        self.liked_ = (ratings >= POSITIVE_SCORE).astype(np.float32)
        if person_of is None:
            person_of = np.arange(len(ratings))
        order, _ = by_person(person_of, self.seed)
        n_held = min(HELD_RATERS, len(ratings) // 3)
        held, rest = order[:n_held], order[n_held:]
        pool = rest[~np.isin(person_of[rest], person_of[held])][:NEIGHBOUR_RATERS]
        most_rated = np.argsort(-(ratings > 0).sum(axis=0), kind="stable")
        candidates = askable(most_rated, self.title_group_, unknown)
        split = _Split(ratings, held, pool, most_rated[:RANKED_MOVIES])
        self.questions_ = split.greedy(candidates[: self.n_candidates], self.n_questions)
        self.sharpness_, self.unseen_weight_ = split.tuned(self.questions_)
        rest = candidates[~np.isin(candidates, self.questions_)]
        self.questions_ = np.concatenate([self.questions_, rest])
        return self

    def score(self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer] = ()) -> np.ndarray:
        """Scores over ``movie_ids_``; answered movies score -inf."""
        cols, states = self._columns(answers)
        sims = similarities(states, self.states_[:, cols], self.unseen_weight_)
        scores = neighbour_scores(sims, self.liked_, self.sharpness_)
        scores[cols] = -np.inf
        return scores

    def next_questions(
        self, profile: Mapping[str, Any], answers: Sequence[GivenAnswer] = (), n: int = 5
    ) -> np.ndarray:
        """The next ``n`` movie ids of the list, skipping every title already answered."""
        cols, _ = self._columns(answers)
        answered = np.isin(self.title_group_[self.questions_], self.title_group_[cols])
        return self.movie_ids_[self.questions_[~answered][:n]]

    def _columns(self, answers: Sequence[GivenAnswer]) -> tuple[np.ndarray, np.ndarray]:
        """The known answers' columns and states ("seen, no opinion" counts as not seen)."""
        ids = np.array([a.movie_id for a in answers], dtype=np.int64)
        cols = np.minimum(np.searchsorted(self.movie_ids_, ids), len(self.movie_ids_) - 1)
        known = self.movie_ids_[cols] == ids
        scores = np.array([a.rating or 0 for a in answers], dtype=np.int8)
        return cols[known], answer_states(scores[known])


class _Split:
    """The inner split that chooses the list and tunes the weights: ``held`` raters ranked
    from ``pool`` raters over the ``ranked`` most-rated movies (relevant counts complete)."""

    def __init__(
        self, ratings: np.ndarray, held: np.ndarray, pool: np.ndarray, ranked: np.ndarray
    ) -> None:
        self.held_states = answer_states(ratings[held])
        self.pool_states = answer_states(ratings[pool])
        self.relevant = ratings[held] >= POSITIVE_SCORE
        self.liked = (ratings[pool][:, ranked] >= POSITIVE_SCORE).astype(np.float32)
        self.local = np.full(ratings.shape[1], -1)
        self.local[ranked] = np.arange(len(ranked))
        self.ranked = ranked

    def ndcg(self, asked: np.ndarray, sims: np.ndarray, sharpness: float) -> float:
        """Mean NDCG@10 of the held raters ranked by ``sims`` after the ``asked`` columns."""
        scores = neighbour_scores(sims, self.liked, sharpness)
        relevant = self.relevant[:, self.ranked].copy()
        at = self.local[asked][self.local[asked] >= 0]
        scores[:, at] = -np.inf
        relevant[:, at] = False
        n_left = self.relevant.sum(axis=1) - self.relevant[:, asked].sum(axis=1)
        return mean_ndcg(ndcg_counted(scores, np.nonzero(relevant), n_left))

    def sims(self, asked: np.ndarray, unseen_weight: float) -> np.ndarray:
        return similarities(self.held_states[:, asked], self.pool_states[:, asked], unseen_weight)

    def greedy(self, candidates: np.ndarray, n_questions: int) -> np.ndarray:
        """Add, n_questions times, the candidate with the best held-out NDCG@10 (sharpness
        1, unseen weight 0.5: the grids' middle)."""
        chosen: list[int] = []
        pool = [int(c) for c in candidates]
        sims = np.zeros((len(self.held_states), len(self.pool_states)), dtype=np.float32)
        for _ in range(min(n_questions, len(pool))):
            values = [
                self.ndcg(np.array([*chosen, c]), sims + self.sims(np.array([c]), 0.5), 1.0)
                for c in pool
            ]
            best = pool.pop(int(np.argmax(values)))  # ties: the more rated
            chosen.append(best)
            sims += self.sims(np.array([best]), 0.5)
        return np.array(chosen, dtype=np.int64)

    def tuned(self, questions: np.ndarray) -> tuple[float, float]:
        """(sharpness, unseen_weight) with the best mean NDCG@10 after 5 and 10 questions."""
        best, chosen = -np.inf, (SHARPNESSES[0], UNSEEN_WEIGHTS[0])
        for sharpness, unseen in product(SHARPNESSES, UNSEEN_WEIGHTS):
            value = np.mean(
                [
                    self.ndcg(questions[:k], self.sims(questions[:k], unseen), sharpness)
                    for k in INTERVIEW_KS
                ]
            )
            if value > best:
                best, chosen = float(value), (sharpness, unseen)
        return chosen
