"""The served model: the artifact at ML_MODEL_PATH loaded, warmed up and asked, as a worker
does (recommender/serving.py); its ranking is tested in tests/coldstart/test_serving.py."""

import subprocess
import sys

import numpy as np
import pytest

from coldstart.serving import MAX_RECS, Answer, Recommender, all_profiles
from harness import live
from recommender.serving import get_recommender, served_genres, warm_up
from tests.coldstart.test_serving import PROFILE, ids


def test_served_genres_is_none_without_a_model(settings, tmp_path):
    settings.ML_MODEL_PATH = tmp_path / "missing.joblib"
    assert served_genres() is None


def test_served_genres_are_the_served_catalogues(trained):
    assert served_genres() == get_recommender().genre_names
    assert {"Drama", "Comedy", "War"} <= set(served_genres())


def test_warmed_up_lists_equal_lists_ranked_on_request(trained):
    assert warm_up() == len(all_profiles())
    warmed = get_recommender()
    fresh = Recommender(warmed.artifact)
    for profile in all_profiles()[::97]:
        assert warmed.recommend(profile, MAX_RECS) == fresh.recommend(profile, MAX_RECS)


SERVE_ONE_REQUEST = """
import sys
from recsite.wsgi import application  # the app and the warmed-up model
import recsite.urls  # every API module, as a worker's first request loads them
from coldstart.serving import Answer, Profile
from recommender.serving import get_recommender
recommender = get_recommender()
recommender.recommend(Profile(30, "F", "writer"), 10, genres=["Drama"])
answers = [Answer(50, rating=5, seen=True), Answer(2, rating=None, seen=False)]
recommender.recommend(Profile(30, "F", "writer"), 10, answers=answers)
recommender.questions(Profile(30, "F", "writer"), answers, 5)
print(sorted({"sklearn", "scipy", "pandas"} & set(sys.modules)))
"""


@pytest.mark.live
def test_serving_imports_neither_scikit_learn_nor_scipy_nor_pandas(trained):
    """They would be most of a worker's memory: the artifact holds a numpy-only scorer."""
    served = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST],
        cwd=live.ROOT,
        env=live.production_env(secrets=live.current_secrets(), ML_MODEL_PATH=str(trained)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert served.stdout.strip() == "[]"


# Answers.

SAW_TWIN = Answer(246, rating=None, seen=True)  # "Chasing Amy (1997)", also listed as 268


def test_answered_movies_and_their_titles_are_never_recommended(trained):
    recommender = get_recommender()
    answers = [SAW_TWIN, Answer(50, rating=5, seen=True), Answer(2, rating=None, seen=False)]
    served = ids(recommender.recommend(PROFILE, MAX_RECS, answers=answers))
    assert served and not {246, 268, 50, 2} & set(served)
    assert 267 not in served


def test_without_answers_recommendations_are_todays(trained):
    recommender = get_recommender()
    assert recommender.recommend(PROFILE, MAX_RECS, answers=()) == (
        recommender.recommend(PROFILE, MAX_RECS)
    )
    scores = recommender.scorer.score_profiles([vars(PROFILE)])[0]
    np.testing.assert_array_equal(recommender.scores(PROFILE, ()), scores)


def test_questions_are_catalogue_movies_never_answered_nor_placeholder_nor_twins(trained):
    recommender = get_recommender()
    asked = recommender.questions(PROFILE, (), 20)
    assert asked and set(asked[0]) == {"id", "title", "year", "genres"}
    titles = [item["title"] for item in asked]
    assert "unknown" not in titles and len(titles) == len(set(titles))
    answers = [SAW_TWIN, Answer(asked[0]["id"], rating=3, seen=True)]
    rest = ids(recommender.questions(PROFILE, answers, 20))
    assert not {246, 268, asked[0]["id"]} & set(rest)
    assert ids(recommender.questions(PROFILE, answers, 2)) == rest[:2]
