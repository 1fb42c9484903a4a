"""Parts of the interview model switched off one at a time (coldstart.interview.Parts), as
bench/ablation.py measures them: the rest still fits and serves."""

import numpy as np
import pytest

from coldstart.answer_protocols import paired_lift
from coldstart.estimators import DemographicPopularity
from coldstart.interview import ALL_PARTS, Parts, questions
from coldstart.serving import Answer
from tests.coldstart.test_estimators import STUDENT, taste_groups


def fitted(parts: Parts, frame=None) -> DemographicPopularity:
    frame = taste_groups() if frame is None else frame
    estimator = DemographicPopularity()
    estimator.parts = parts
    return estimator.fit(frame, frame["score"])


def test_every_part_is_fitted_by_default_and_none_is_a_parameter():
    assert DemographicPopularity().parts == ALL_PARTS
    assert "parts" not in DemographicPopularity().get_params()  # reports stay as they are


def test_without_the_regressions_their_mix_is_zero():
    interview = fitted(Parts(prefix=False, volunteered=False)).scorer_.interview
    assert interview.prefix.setting.mix == 0.0
    assert interview.volunteered.setting.mix == 0.0


def test_a_factor_model_of_seen_and_liked_only_still_reads_answers():
    scorer = fitted(Parts(blocks=2)).scorer_
    assert scorer.interview.factors.means.shape[0] == 2
    asked = scorer.next_questions(STUDENT, [], 2)
    answers = [Answer(int(movie), rating=5, seen=True) for movie in asked]
    assert not np.array_equal(scorer.score(STUDENT, answers), scorer.score(STUDENT, []))


def test_without_genre_features_the_regression_reads_none():
    frame = taste_groups()
    frame["genres"] = np.where(frame["movie_id"] % 2 == 0, "Drama", "Comedy|Drama")
    assert fitted(ALL_PARTS, frame).scorer_.interview.volunteered.genres.shape[1] == 2
    assert fitted(Parts(genres=False), frame).scorer_.interview.volunteered.genres.shape[1] == 0


def test_without_the_revision_the_greedy_list_is_kept(monkeypatch):
    revised = []
    original = questions._revised
    monkeypatch.setattr(questions, "_revised", lambda *args: revised.append(1) or original(*args))
    fitted(Parts(revise=False))
    assert revised == []
    fitted(ALL_PARTS)
    assert revised == [1]


@pytest.mark.parametrize("blocks", [1, 5])
def test_the_factor_model_keeps_the_blocks_serving_reads(blocks):
    with pytest.raises(ValueError, match="blocks"):
        Parts(blocks=blocks)


def test_a_parts_lift_is_paired_over_the_raters_measured_under_both_and_pooled_over_seeds():
    full = [{"interview-5": np.array([0.5, np.nan, 0.3])}, {"interview-5": np.array([0.2])}]
    without = [{"interview-5": np.array([0.4, 0.2, np.nan])}, {"interview-5": np.array([0.4])}]
    got = paired_lift(full, without, "interview-5", seed=0)
    assert got["raters"] == 2
    assert got["per_seed"] == pytest.approx([0.1, -0.2])
    assert got["lift"] == pytest.approx(-0.05)
