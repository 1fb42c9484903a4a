"""POST /api/feedback, the admin's feedback pages, and train_model --with-feedback."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from movies.models import Feedback
from movies.services import feedback_record
from recommender import request_ids
from recommender.model_file import load_artifact
from recommender.selectors import CHOSE_SCORE, feedback_rating_frame

STUDENT = {"age": 19, "gender": "F", "occupation": "student"}
RETIRED = {"age": 65, "gender": "M", "occupation": "retired"}
VALID = {**STUDENT, "movie_id": 50, "rating": 5}
VALID_KEYS = "'request_id', 'age', 'gender', 'occupation', 'movie_id', 'rating', 'chose'"
NO_SIGNAL = (
    "Missing parameter: 'rating' (an integer from 1 to 5) or 'chose' (true); "
    "feedback needs at least one of them"
)
BAD_REQUEST_ID = (
    "The parameter 'request_id' must be the request_id of a /api/recommend response of "
    "this service, sent with the same age, gender and occupation"
)
UNSEEN = 1623  # in the fixture's catalogue, rated by nobody


def post(api, body, **kwargs):
    return api.post("/api/feedback", body, format="json", **kwargs)


def issued(request_id: str, profile: dict) -> str:
    """``request_id`` as /api/recommend would have issued it for ``profile``."""
    return request_ids.sign(request_id, **profile)


# --- Recording ------------------------------------------------------------------------


def test_feedback_needs_a_token(loaded_catalogue):
    response = APIClient().post("/api/feedback", VALID, format="json")
    assert response.status_code == 401
    assert not Feedback.objects.exists()


def test_a_rating_is_stored_and_echoed(api, loaded_catalogue):
    request_id = issued("0123abcd" * 4, STUDENT)
    response = post(api, {**VALID, "request_id": request_id})

    assert response.status_code == 201
    body = response.json()
    stored = Feedback.objects.get()
    assert body["id"] == stored.id
    assert (stored.movie_id, stored.rating, stored.chose) == (50, 5, False)
    assert stored.request_id == request_id
    assert (stored.age, stored.gender, stored.occupation) == (19, "F", "student")
    assert body["rating"] == 5 and body["chose"] is False and body["created_at"]


def test_a_choice_without_a_rating_is_stored(api, loaded_catalogue):
    body = {**STUDENT, "movie_id": UNSEEN, "chose": True}

    response = post(api, body)

    assert response.status_code == 201
    assert response.json()["rating"] is None
    assert Feedback.objects.get().chose is True
    assert Feedback.objects.get().request_id == ""


def test_feedback_can_quote_a_recommend_request_id(api, loaded_catalogue, settings, tmp_path):
    settings.ML_MODEL_PATH = tmp_path / "model.joblib"
    call_command("train_model", output=str(settings.ML_MODEL_PATH))
    recommended = api.post("/api/recommend", STUDENT, format="json").json()

    movie_id = recommended["items"][0]["id"]
    response = post(
        api,
        {**STUDENT, "movie_id": movie_id, "chose": True, "request_id": recommended["request_id"]},
    )

    assert response.status_code == 201
    assert Feedback.objects.get().request_id == recommended["request_id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**STUDENT, "movie_id": 50}, "rating", NO_SIGNAL),
        ({**STUDENT, "movie_id": 50, "chose": False}, "rating", NO_SIGNAL),
        ({**VALID, "rating": 0}, "rating", "The parameter 'rating' must be between 1 and 5"),
        ({**VALID, "rating": 6}, "rating", "The parameter 'rating' must be between 1 and 5"),
        ({**VALID, "rating": "5"}, "rating", "The parameter 'rating' must be an integer"),
        ({**VALID, "rating": 4.5}, "rating", "The parameter 'rating' must be an integer"),
        ({**VALID, "rating": None}, "rating", "The parameter 'rating' must be an integer"),
        ({**VALID, "chose": "yes"}, "chose", "The parameter 'chose' must be true or false"),
        ({**VALID, "chose": 1}, "chose", "The parameter 'chose' must be true or false"),
        ({**VALID, "chose": None}, "chose", "The parameter 'chose' must be true or false"),
        ({**VALID, "movie_id": "50"}, "movie_id", "The parameter 'movie_id' must be an integer"),
        ({**VALID, "movie_id": True}, "movie_id", "The parameter 'movie_id' must be an integer"),
        (
            {**VALID, "movie_id": 99999},
            "movie_id",
            "The parameter 'movie_id' must be the id of a movie in the catalogue; "
            "there is no movie 99999",
        ),
        (
            {**VALID, "movie_id": 0},
            "movie_id",
            "The parameter 'movie_id' must be the id of a movie in the catalogue; "
            "there is no movie 0",
        ),
        (
            {**VALID, "movie_id": 10**30},
            "movie_id",
            "The parameter 'movie_id' must be the id of a movie in the catalogue; "
            f"there is no movie {10**30}",
        ),
        ({**VALID, "age": 121}, "age", "The parameter 'age' must be between 0 and 120"),
        ({**VALID, "age": "19"}, "age", "The parameter 'age' must be an integer"),
        (
            {**VALID, "gender": "X"},
            "gender",
            "The parameter 'gender' must be one of the following: 'M', 'F', 'O'",
        ),
        (
            {"gender": "F", "occupation": "student", "movie_id": 50, "rating": 5},
            "age",
            "Missing parameter: 'age'",
        ),
        ({**VALID, "request_id": "not an id"}, "request_id", BAD_REQUEST_ID),
        ({**VALID, "request_id": "a" * 65}, "request_id", BAD_REQUEST_ID),
        ({**VALID, "request_id": "abc\n"}, "request_id", BAD_REQUEST_ID),
        ({**VALID, "request_id": 42}, "request_id", "The parameter 'request_id' must be a string"),
        ({**VALID, "request_id": ""}, "request_id", "The parameter 'request_id' may not be blank"),
        ({**VALID, "user": 1}, "user", f"The only valid parameters are: {VALID_KEYS}"),
    ],
)
def test_bad_feedback_is_a_clear_400(api, loaded_catalogue, body, field, message):
    response = post(api, body)

    assert response.status_code == 400
    error = response.json()
    assert error["errors"][field] == [message]
    assert error["message"] == message and error["code"]
    assert not Feedback.objects.exists()


def test_every_problem_is_reported_at_once(api, loaded_catalogue):
    response = post(api, {"age": -1, "movie_id": 99999, "colour": "red"})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == ["age", "colour", "gender", "movie_id", "occupation", "rating"]


@pytest.mark.parametrize("body", [[VALID], "feedback", 5])
def test_a_body_that_is_not_an_object_is_400(api, loaded_catalogue, body):
    response = post(api, body)

    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_malformed_json_is_400(api, loaded_catalogue):
    response = api.post("/api/feedback", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_feedback_only_takes_post(api, loaded_catalogue):
    response = api.get("/api/feedback")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- Admin ----------------------------------------------------------------------------


@pytest.fixture
def some_feedback(loaded_catalogue):
    return [
        feedback_record(**STUDENT, movie_id=50, rating=5, request_id="req-one"),
        feedback_record(**STUDENT, movie_id=UNSEEN, chose=True, request_id="req-one"),
        feedback_record(**RETIRED, movie_id=483, rating=2),
    ]


def changelist(response):
    return sorted(feedback.id for feedback in response.context["cl"].result_list)


def test_admin_lists_feedback_with_filters_and_search(admin_client, some_feedback):
    one, two, three = some_feedback
    url = "/admin/movies/feedback/"

    listing = admin_client.get(url)
    assert listing.status_code == 200
    assert changelist(listing) == [one.id, two.id, three.id]
    content = listing.content.decode()
    assert "Star Wars (1977)" in content and "Cérémonie, La (1995)" in content
    assert "/admin/movies/feedback/add/" not in content  # it comes from the API only

    assert changelist(admin_client.get(url, {"q": "req-one"})) == [one.id, two.id]
    assert changelist(admin_client.get(url, {"q": "casablanca"})) == [three.id]
    assert changelist(admin_client.get(url, {"chose__exact": "1"})) == [two.id]
    assert changelist(admin_client.get(url, {"occupation__exact": "retired"})) == [three.id]
    assert changelist(admin_client.get(url, {"rating": "5"})) == [one.id]


def test_admin_shows_feedback_read_only(admin_client, some_feedback):
    response = admin_client.get(f"/admin/movies/feedback/{some_feedback[0].id}/change/")

    assert response.status_code == 200
    assert 'name="rating"' not in response.content.decode()
    assert admin_client.get("/admin/movies/feedback/add/").status_code == 403


# --- Training with feedback -----------------------------------------------------------


def test_feedback_becomes_one_synthetic_rater_per_person(some_feedback):
    # The same person rates 50 and, later, only chooses it: the explicit rating wins.
    feedback_record(**STUDENT, movie_id=50, chose=True, request_id="req-one")

    frame = feedback_rating_frame(first_rater_id=1000)

    rows = {(r.rater_id, r.movie_id): r.score for r in frame.itertuples()}
    assert rows == {(1000, 50): 5, (1000, UNSEEN): CHOSE_SCORE, (1001, 483): 2}
    retired = frame[frame["rater_id"] == 1001].iloc[0]
    assert (retired.age, retired.gender, retired.occupation) == (65, "M", "retired")


def test_same_request_id_with_other_demographics_is_another_person(loaded_catalogue):
    feedback_record(**STUDENT, movie_id=50, rating=5, request_id="shared")
    feedback_record(**RETIRED, movie_id=2, rating=1, request_id="shared")
    feedback_record(**STUDENT, movie_id=2, rating=4)
    feedback_record(**STUDENT, movie_id=100, rating=4)

    frame = feedback_rating_frame(first_rater_id=9)

    # Rows without a request_id or a token (stored before tokens were kept): one each.
    assert sorted(frame["rater_id"]) == [9, 10, 11, 12]


def recommend(api, profile, max_recs=3):
    body = api.post("/api/recommend", {**profile, "max_recs": max_recs}, format="json").json()
    return [item["id"] for item in body["items"]]


@pytest.mark.parametrize("algorithm", ["demographic-popularity", "positive-popularity"])
def test_feedback_changes_the_next_model_for_that_profile(
    api, loaded_catalogue, settings, tmp_path, algorithm
):
    settings.ML_MODEL_PATH = tmp_path / "model.joblib"
    call_command("train_model", algorithm=algorithm)
    before = recommend(api, STUDENT)
    assert UNSEEN not in before

    for person in range(5):  # five students choose, then rate, the film nobody had rated
        request_id = issued(f"student-{person}", STUDENT)
        for signal in ({"chose": True}, {"rating": 5}):
            body = {**STUDENT, "movie_id": UNSEEN, "request_id": request_id, **signal}
            assert post(api, body).status_code == 201

    call_command("train_model", algorithm=algorithm)  # without --with-feedback: ignored
    assert recommend(api, STUDENT) == before

    call_command("train_model", algorithm=algorithm, with_feedback=True)
    assert recommend(api, STUDENT)[0] == UNSEEN
    data = load_artifact(settings.ML_MODEL_PATH)["data"]
    assert data["feedback_ratings"] == 5
    assert data["raters"] == 8 + 5


def test_demographic_model_keeps_feedback_to_look_alikes(api, loaded_catalogue, settings, tmp_path):
    settings.ML_MODEL_PATH = tmp_path / "model.joblib"
    for person in range(3):
        feedback_record(**STUDENT, movie_id=UNSEEN, rating=5, request_id=f"s{person}")

    call_command("train_model", with_feedback=True)

    assert recommend(api, STUDENT)[0] == UNSEEN
    assert UNSEEN not in recommend(api, RETIRED)


def test_training_with_feedback_reports_it_and_changes_the_fingerprint(
    loaded_catalogue, tmp_path, capsys
):
    call_command("train_model", output=str(tmp_path / "a"), with_feedback=True)
    assert "Feedback ratings folded in: 0." in capsys.readouterr().out
    feedback_record(**STUDENT, movie_id=50, rating=1)

    call_command("train_model", output=str(tmp_path / "b"), with_feedback=True)

    assert "Feedback ratings folded in: 1." in capsys.readouterr().out
    a, b = (load_artifact(tmp_path / name)["data"] for name in ("a", "b"))
    assert a["fingerprint"] != b["fingerprint"]
    assert (a["ratings"], b["ratings"]) == (40, 41)
