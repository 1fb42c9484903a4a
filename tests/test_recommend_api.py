"""POST /api/recommend: validation wording, the 503 path, and what a client gets back."""

import pytest
from rest_framework.test import APIClient

from movies.models import OCCUPATIONS
from recommender.services import model_train
from recsite.auth import issue_access_token

VALID = {"age": 30, "gender": "M", "occupation": "programmer"}
GENDER_MESSAGE = "The parameter 'gender' must be one of the following: 'M', 'F', 'O'"


@pytest.fixture
def client():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token()}")
    return client


@pytest.fixture
def model_path(settings, tmp_path):
    settings.ML_MODEL_PATH = tmp_path / "model.joblib"
    return settings.ML_MODEL_PATH


@pytest.fixture
def trained(loaded_catalogue, model_path):
    model_train(output=model_path, progress=False)
    return model_path


def recommend(client, body):
    return client.post("/api/recommend", body, format="json")


def test_recommend_needs_a_token():
    response = APIClient().post("/api/recommend", VALID, format="json")
    assert response.status_code == 401


def test_recommend_returns_ten_distinct_titles_by_default(client, trained):
    response = recommend(client, VALID)
    assert response.status_code == 200
    body = response.json()
    titles = body["recommendations"]
    assert len(titles) == len(set(titles)) == min(10, len(body["items"]))
    assert "unknown" not in titles
    assert [item["title"] for item in body["items"]] == titles
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert body["model_version"].startswith("demographic-popularity@")
    assert len(body["request_id"]) == 32


def test_duplicate_titles_and_unknown_are_never_served(client, trained):
    body = recommend(client, {**VALID, "max_recs": 100}).json()
    titles = body["recommendations"]
    assert len(titles) == len(set(titles))
    assert "unknown" not in titles
    assert "Chasing Amy (1997)" in titles  # listed under two ids, served once


def test_titles_come_out_as_utf8(client, trained):
    response = recommend(client, {**VALID, "max_recs": 100})
    assert "Misérables, Les (1995)" in response.content.decode("utf-8")


def test_max_recs_limits_the_list(client, trained):
    assert len(recommend(client, {**VALID, "max_recs": 3}).json()["recommendations"]) == 3


@pytest.mark.parametrize("gender", ["M", "F", "O"])
def test_every_gender_is_served(client, trained, gender):
    assert recommend(client, {**VALID, "gender": gender}).status_code == 200


def test_authenticated_recommend_runs_no_sql(client, trained, django_assert_num_queries):
    recommend(client, VALID)  # the first call loads the artifact from disk, not the database
    with django_assert_num_queries(0):
        assert recommend(client, {**VALID, "age": 60}).status_code == 200


def test_without_a_model_it_is_503_and_says_how_to_train(client, model_path):
    response = recommend(client, VALID)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "model_unavailable"
    assert "train_model" in body["message"]
    assert APIClient().get("/").status_code == 200


def test_invalid_request_is_refused_before_the_model_is_needed(client, model_path):
    assert recommend(client, {**VALID, "age": "30"}).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"gender": "M", "occupation": "programmer"}, "Missing parameter: 'age'"),
        ({"age": 30, "occupation": "programmer"}, "Missing parameter: 'gender'"),
        ({"age": 30, "gender": "M"}, "Missing parameter: 'occupation'"),
        ({**VALID, "age": "30"}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": 30.0}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": 30.5}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": True}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": None}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": [30]}, "The parameter 'age' must be an integer"),
        ({**VALID, "age": -1}, "The parameter 'age' must be between 0 and 120"),
        ({**VALID, "age": 121}, "The parameter 'age' must be between 0 and 120"),
        ({**VALID, "age": 10**40}, "The parameter 'age' must be between 0 and 120"),
        ({**VALID, "gender": "X"}, GENDER_MESSAGE),
        ({**VALID, "gender": "m"}, GENDER_MESSAGE),
        ({**VALID, "gender": 1}, GENDER_MESSAGE),
        ({**VALID, "gender": None}, GENDER_MESSAGE),
        ({**VALID, "max_recs": 0}, "The parameter 'max_recs' must be between 1 and 100"),
        ({**VALID, "max_recs": 101}, "The parameter 'max_recs' must be between 1 and 100"),
        ({**VALID, "max_recs": "5"}, "The parameter 'max_recs' must be an integer"),
        ({**VALID, "max_recs": False}, "The parameter 'max_recs' must be an integer"),
    ],
)
def test_bad_parameter_gets_the_originals_wording(client, body, message):
    response = recommend(client, body)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["code"]


def test_occupation_error_lists_every_occupation(client):
    response = recommend(client, {**VALID, "occupation": "astronaut"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("The parameter 'occupation' must be one of the following: ")
    assert all(f"'{o}'" in message for o in OCCUPATIONS)


def test_unknown_key_lists_the_valid_ones(client):
    response = recommend(client, {**VALID, "foo": 1})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "The only valid parameters are: 'age', 'gender', 'occupation', 'max_recs'"
    )


def test_every_problem_is_reported_at_once(client):
    response = recommend(client, {"age": "x", "gender": "Q", "foo": 1})
    errors = response.json()["errors"]
    assert set(errors) == {"foo", "age", "gender", "occupation"}


@pytest.mark.parametrize("raw", ["[]", "3", '"x"', "null", "{bad json", "[1, 2]"])
def test_body_that_is_not_a_json_object_is_400(client, raw):
    response = client.post("/api/recommend", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_non_json_content_type_is_415(client):
    response = client.post("/api/recommend", "age=30", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
