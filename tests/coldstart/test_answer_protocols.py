"""The answer protocols' checks of what the simulated interview assumes: ranked only among
the movies a person rated, and a share of "not seen" answered "seen, no opinion"."""

import numpy as np
import pandas as pd
import pytest

from coldstart.answer_protocols import (
    AMONG_RATED,
    NO_OPINION,
    NO_OPINION_SHARE,
    answer_protocols,
    answered_ndcg,
    first_answers,
    people,
)
from coldstart.metrics import ndcg_at_k
from coldstart.serving import Answer

CATALOGUE = np.arange(1, 21)  # movie ids 1..20


class HighIdsFirst:
    """A scorer that ranks higher ids first, with or without answers, asks about the
    highest ids not yet asked about, and records every set of answers it scores."""

    def __init__(self):
        self.scored = []

    def score_profiles(self, profiles):
        return np.tile(CATALOGUE.astype(np.float32), (len(profiles), 1))

    def score(self, profile, answers):
        self.scored.append(list(answers))
        scores = CATALOGUE.astype(np.float64)
        scores[np.isin(CATALOGUE, [a.movie_id for a in answers])] = -np.inf
        return scores

    def next_questions(self, profile, answers, n):
        asked = {a.movie_id for a in answers}
        return np.array([m for m in CATALOGUE[::-1] if m not in asked][:n])


class FakeRecommender:
    def __init__(self):
        self.movie_ids_ = CATALOGUE
        self.scorer_ = HighIdsFirst()


def ratings(rated: dict[int, dict[int, int]]) -> pd.DataFrame:
    """Test raters' ratings: {rater id: {movie id: score}}, one demographic for all."""
    rows = [
        {"rater_id": rater, "movie_id": movie, "score": score, "rated_at": at}
        for rater, scores in rated.items()
        for at, (movie, score) in enumerate(scores.items())
    ]
    return pd.DataFrame(rows).assign(age=30, gender="F", occupation="writer")


def test_among_rated_ranks_only_the_movies_the_person_rated():
    # Asked about 20..16 (not seen), the person rated 1-3 and liked 1 and 2: the full
    # ranking puts 15..6 first and finds nothing; among the rated, 3, 2, 1 finds both.
    measured = answer_protocols(FakeRecommender(), ratings({7: {1: 5, 2: 4, 3: 2}}), seed=0)

    assert measured["interview-5"].tolist() == [[0.0, 0.0]]
    among = ndcg_at_k(np.array([[False, True, True]]), [2], 10)[0]
    assert measured[f"interview-5-{AMONG_RATED}"].tolist() == [[among, among]]
    assert 0 < among < 1


def test_a_seeded_share_of_not_seen_answers_is_seen_no_opinion():
    people = {rater: {1: 5, 2: 4} for rater in range(1, 201)}  # none rated what is asked
    recommender = FakeRecommender()
    answer_protocols(recommender, ratings(people), seed=3)
    tenth = [answers for answers in recommender.scorer_.scored if len(answers) == 10]
    # Each person's ten answers are scored three times: as given, among the rated, unsure.
    real, among, unsure = tenth[0::3], tenth[1::3], tenth[2::3]
    assert real == among and len(unsure) == len(people)

    assert all(not a.seen for answers in real for a in answers)
    no_opinion = [a.seen and a.rating is None for answers in unsure for a in answers]
    assert np.mean(no_opinion) == pytest.approx(NO_OPINION_SHARE, abs=0.03)
    again = FakeRecommender()
    answer_protocols(again, ratings(people), seed=3)
    assert again.scorer_.scored == recommender.scorer_.scored
    other = FakeRecommender()
    answer_protocols(other, ratings(people), seed=4)
    assert other.scorer_.scored != recommender.scorer_.scored


def test_no_opinion_answers_leave_real_ratings_as_they_are():
    recommender = FakeRecommender()
    rated = {rater: {m: 5 for m in range(11, 21)} for rater in range(1, 21)}  # rated all asked
    measured = answer_protocols(recommender, ratings(rated), seed=0)

    assert all(a.rating == 5 for answers in recommender.scorer_.scored for a in answers)
    assert len(measured[f"interview-10-{NO_OPINION}"]) == 0  # nothing relevant left


def test_first_answers_are_the_first_ratings_in_time_order_ties_by_movie_id():
    frame = pd.DataFrame(
        {"rater_id": 7, "movie_id": [3, 9, 1, 4], "score": [5, 2, 4, 1], "rated_at": [2, 1, 2, 3]}
    ).assign(age=30, gender="F", occupation="writer")
    (person,) = people(frame)

    assert first_answers(person, 3) == [
        Answer(movie_id=9, rating=2, seen=True),
        Answer(movie_id=1, rating=4, seen=True),
        Answer(movie_id=3, rating=5, seen=True),
    ]


def test_answered_ndcg_leaves_the_answered_movies_out_of_the_relevant_set():
    (person,) = people(ratings({7: {1: 5, 2: 4, 3: 2}}))  # liked 1 and 2
    second_first = np.array([[0.0, 3.0, 1.0, 2.0]])  # ranks movie 2 first, 1 last
    catalogue = np.array([1, 2, 3, 4])
    answered_one = [Answer(movie_id=1, rating=5, seen=True)]

    assert answered_ndcg(second_first, catalogue, person, answered_one).tolist() == [1.0]
    answered_both = [*answered_one, Answer(movie_id=2, rating=4, seen=True)]
    assert np.isnan(answered_ndcg(second_first, catalogue, person, answered_both)).all()
