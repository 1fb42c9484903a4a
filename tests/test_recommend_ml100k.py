"""The default model trained on the full ml-100k, served through the API."""

import shutil

import pytest
from rest_framework.test import APIClient

from recommender.model_file import load_artifact

pytestmark = pytest.mark.dataset

PROFILES = [
    {"age": 30, "gender": "M", "occupation": "programmer"},
    {"age": 30, "gender": "F", "occupation": "programmer"},
    {"age": 68, "gender": "M", "occupation": "retired"},
    {"age": 15, "gender": "F", "occupation": "student"},
    {"age": 45, "gender": "O", "occupation": "librarian"},
]


def test_default_model_on_ml100k_answers_by_demographics(db, full_model, settings, tmp_path):
    settings.ML_MODEL_PATH = shutil.copyfile(full_model, tmp_path / "model.joblib")
    assert load_artifact(settings.ML_MODEL_PATH)["data"]["ratings"] == 100_000
    login = APIClient().post(
        "/api/login", {"session_password": settings.SESSION_PASSWORD}, format="json"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}")

    answers = {}
    for profile in PROFILES:
        for max_recs in (10, 100):
            response = client.post(
                "/api/recommend", {**profile, "max_recs": max_recs}, format="json"
            )
            assert response.status_code == 200
            titles = response.json()["recommendations"]
            assert len(titles) == len(set(titles)) == max_recs
            assert "unknown" not in titles
        answers[tuple(profile.values())] = tuple(titles[:10])
    assert len(set(answers.values())) == len(PROFILES)  # every profile gets its own list
    programmer = answers[(30, "M", "programmer")]
    assert "Star Wars (1977)" in programmer  # sensible: the most liked film in ml-100k

    # An interview on the whole catalogue: the most answers a request may hold.
    answered = set(range(1, 51))
    body = {**PROFILES[0], "answers": [{"movie_id": i, "seen": False} for i in answered]}
    questions = client.post("/api/interview", {**body, "n": 20}, format="json").json()
    assert len(questions["questions"]) == 20
    assert not answered & {question["id"] for question in questions["questions"]}
    items = client.post("/api/recommend", body, format="json").json()["items"]
    assert len(items) == 10
    assert not answered & {item["id"] for item in items}
