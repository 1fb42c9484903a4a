"""Feedback that cannot flood the database nor poison training: throttled per token and
per client, request_ids only as this service issued them, one row per request and movie,
one person per token without a request_id."""

import time
import uuid

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import IntegrityError
from rest_framework.test import APIClient

from movies.models import Feedback
from movies.services import feedback_record
from recommender import request_ids
from recommender.selectors import feedback_rating_frame
from recsite.access.tokens import issue_access_token

STUDENT = {"age": 19, "gender": "F", "occupation": "student"}
RETIRED = {"age": 65, "gender": "M", "occupation": "retired"}
NOT_OURS = (
    "The parameter 'request_id' must be the request_id of a /api/recommend response of "
    "this service, sent with the same age, gender and occupation"
)
EXPIRED = (
    "The parameter 'request_id' has expired: feedback that quotes it must come within "
    "24 hours of the recommendation"
)


def token_client(**extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token()}")
    return client


def post(client, body):
    return client.post("/api/feedback", body, format="json")


# --- request_ids ------------------------------------------------------------------------


@pytest.fixture
def recommended(api, loaded_catalogue, settings, tmp_path):
    """A /api/recommend response for STUDENT, from a model trained on the small data set."""
    settings.ML_MODEL_PATH = tmp_path / "model.joblib"
    call_command("train_model", output=str(settings.ML_MODEL_PATH))
    return api.post("/api/recommend", STUDENT, format="json").json()


def test_recommend_issues_signed_request_ids(recommended):
    request_id = recommended["request_id"]
    assert request_ids.verify(request_id, **STUDENT)
    with pytest.raises(request_ids.RequestIdError):
        request_ids.verify(request_id, **RETIRED)


@pytest.mark.parametrize(
    "request_id",
    [uuid.uuid4().hex, "made-up", "a" * 200, "0" * 32 + ":1abcde:" + "A" * 43],
    ids=["uuid", "word", "too-long", "forged-signature"],
)
def test_a_request_id_this_service_did_not_issue_is_400(api, loaded_catalogue, request_id):
    response = post(api, {**STUDENT, "movie_id": 50, "rating": 5, "request_id": request_id})

    assert response.status_code == 400
    assert response.json()["errors"] == {"request_id": [NOT_OURS]}
    assert not Feedback.objects.exists()


def test_a_request_id_quoted_for_other_demographics_is_400(api, recommended):
    movie_id = recommended["items"][0]["id"]
    body = {**RETIRED, "movie_id": movie_id, "rating": 5, "request_id": recommended["request_id"]}

    response = post(api, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_id"
    assert not Feedback.objects.exists()


def test_a_request_id_older_than_a_day_is_400(api, loaded_catalogue, monkeypatch):
    a_day_ago = int(time.time()) - 24 * 3600 - 60
    with monkeypatch.context() as past:
        past.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(a_day_ago)
        )
        old = request_ids.sign(uuid.uuid4().hex, **STUDENT)

    response = post(api, {**STUDENT, "movie_id": 50, "rating": 5, "request_id": old})

    assert response.status_code == 400
    assert response.json()["message"] == EXPIRED
    assert response.json()["code"] == "expired_request_id"


def test_a_repeat_for_the_same_request_and_movie_updates_the_one_row(api, recommended):
    movie_id = recommended["items"][0]["id"]
    quoted = {**STUDENT, "movie_id": movie_id, "request_id": recommended["request_id"]}

    assert post(api, {**quoted, "chose": True}).status_code == 201
    again = post(api, {**quoted, "rating": 4})

    assert again.status_code == 201
    stored = Feedback.objects.get()
    assert (stored.rating, stored.chose) == (4, True)  # the new rating, the choice kept
    assert again.json()["id"] == stored.id


def test_the_database_holds_one_row_per_request_and_movie(loaded_catalogue):
    row = {**STUDENT, "movie_id": 50, "rating": 5, "request_id": "r1"}
    Feedback.objects.create(**row)
    Feedback.objects.create(**{**row, "request_id": ""})
    Feedback.objects.create(**{**row, "request_id": ""})  # without a request_id: no limit
    with pytest.raises(IntegrityError):
        Feedback.objects.create(**row)


# --- One person per token ---------------------------------------------------------------


def test_feedback_without_request_id_counts_one_person_per_token(loaded_catalogue):
    one, other = token_client(), token_client()
    for client, movie_id in [(one, 50), (one, 2), (one, 100), (other, 50)]:
        assert post(client, {**STUDENT, "movie_id": movie_id, "rating": 5}).status_code == 201

    frame = feedback_rating_frame(first_rater_id=100)

    assert sorted(frame.groupby("rater_id").size()) == [1, 3]


def test_feedback_recorded_without_token_counts_alone(loaded_catalogue):
    feedback_record(**STUDENT, movie_id=50, rating=5)
    feedback_record(**STUDENT, movie_id=2, rating=5)
    assert feedback_rating_frame(first_rater_id=1)["rater_id"].nunique() == 2


# --- Throttles --------------------------------------------------------------------------


def test_feedback_is_throttled_per_token(loaded_catalogue, throttle_rates):
    throttle_rates(feedback_token="3/min")
    flooder = token_client()
    answers = [post(flooder, {**STUDENT, "movie_id": 50, "rating": 5}) for _ in range(4)]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert Feedback.objects.count() == 3
    assert post(token_client(), {**STUDENT, "movie_id": 50, "rating": 5}).status_code == 201


def test_feedback_is_throttled_per_client_whatever_its_tokens(loaded_catalogue, throttle_rates):
    throttle_rates(feedback_client="3/min")
    body = {**STUDENT, "movie_id": 50, "rating": 5}
    answers = [post(token_client(), body).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    assert post(token_client(REMOTE_ADDR="192.0.2.8"), body).status_code == 201
