"""Generated bad input (hypothesis): any JSON value in any field, and any body at all, gets
a 200 or a 400 with the one error shape, never an exception or a 500.

Each property compares the outcome with an independent statement of the contract
(`recommend_body_is_valid`, `interview_body_is_valid`), so a serializer that accepts too
much fails as surely as one that crashes.
"""

import json

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from coldstart.domain import GENDER_CODES, MAX_AGE, MIN_AGE, OCCUPATIONS
from common.models import RecentHits
from recommender.serializers import InterviewInputSerializer, RecommendInputSerializer
from recommender.serving import served_genres, served_recommender
from recsite.access.login import LoginSerializer
from recsite.exceptions import error_body
from tests.mlfixtures import GENRES, MOVIES

PASSWORD = "test-password"
MAX_ID = 2**31 - 1
# Any code point, with the ones that break things often: NUL and lone surrogates (valid in
# Python strings and in escaped JSON, never in UTF-8).
texts = st.text(st.characters(exclude_categories=()) | st.sampled_from("\x00\ud800\udfff"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
# Filters: real genre names and ids, with the edges of every bound and some just past them.
genre_names = st.sampled_from(GENRES) | st.sampled_from(["Noir", "", "drama", "Drama "])
movie_ids = st.integers(1, 20) | st.sampled_from([0, -1, MAX_ID, MAX_ID + 1, 2**63])
# Answers: well-formed ones about the small catalogue's movies, and odd ones: 1623 (nobody
# rated it, so the served model lacks it), ids past any catalogue, ratings around 1-5, a
# rating with "seen": false, wrong types, duplicates, and a list over the limit.
catalogue_ids = st.sampled_from([m[0] for m in MOVIES if m[0] != 1623])
good_answers = st.fixed_dictionaries(
    {"movie_id": catalogue_ids}, optional={"rating": st.integers(1, 5), "seen": st.just(True)}
) | st.fixed_dictionaries({"movie_id": catalogue_ids, "seen": st.booleans()})
odd_answers = st.fixed_dictionaries(
    {"movie_id": catalogue_ids | st.sampled_from([1623, 99999, 0, -1, 2**63, True, "1"])},
    optional={"rating": st.integers(0, 6) | st.sampled_from([4.0, "5", None, True]),
              "seen": st.booleans() | st.sampled_from([None, 0, "false"])},
)  # fmt: skip
answer_lists = (
    st.lists(good_answers, max_size=5, unique_by=lambda item: item["movie_id"])
    | st.lists(good_answers | odd_answers | json_values, max_size=5)
    | st.just([{"movie_id": 1, "seen": False}] * 51)  # over the limit
)
PROFILE_FIELDS = {
    "age": st.integers(MIN_AGE, MAX_AGE),
    "gender": st.sampled_from(GENDER_CODES),
    "occupation": st.sampled_from(OCCUPATIONS),
    "answers": answer_lists,
}
FIELDS = {
    **PROFILE_FIELDS,
    "max_recs": st.integers(1, 100),
    "genres": st.lists(genre_names, max_size=4)
    | st.sampled_from([GENRES * 3, ["Drama"] * 51]),  # 54 and 51 names: over the limit
    "exclude": st.lists(movie_ids, max_size=6) | st.just(list(range(1, 2002))),  # 2,001
}
INTERVIEW_FIELDS = {**PROFILE_FIELDS, "n": st.integers(1, 20)}
OPTIONAL = ("max_recs", "genres", "exclude", "answers", "n")
REQUIRED = ("age", "gender", "occupation")


@st.composite
def request_bodies(draw, fields):
    """A valid request with up to two things wrong: a field of any value, missing or extra."""
    body = {name: draw(valid) for name, valid in fields.items()}
    for name in OPTIONAL:
        if name in body and draw(st.booleans()):
            del body[name]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(list(fields)) | texts)
        if draw(st.booleans()):
            body[name] = draw(json_values)
        else:
            body.pop(name, None)
    return body


login_bodies = st.fixed_dictionaries({"session_password": st.just(PASSWORD) | texts | json_values})
any_body = request_bodies(FIELDS) | json_values
any_interview_body = request_bodies(INTERVIEW_FIELDS) | json_values


def is_int_between(value, low, high) -> bool:
    return type(value) is int and low <= value <= high


def is_plain_text(value) -> bool:
    """A string the API takes: no NUL, no lone surrogate (neither survives UTF-8 storage)."""
    return (
        type(value) is str
        and "\x00" not in value
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    )


def genres_are_valid(value, known) -> bool:
    """1-50 genre names; with a model served, each one of its genres (``known``)."""
    return (
        type(value) is list
        and 1 <= len(value) <= 50
        and all(is_plain_text(name) and len(name) <= 40 for name in value)
        and (known is None or set(value) <= set(known))
    )


def exclude_is_valid(value) -> bool:
    return (
        type(value) is list
        and len(value) <= 2000
        and all(is_int_between(movie_id, 1, MAX_ID) for movie_id in value)
    )


def answer_is_valid(item, catalogue) -> bool:
    """A rating (1-5, maybe with "seen": true), or "seen" alone, of a catalogue movie."""
    return (
        type(item) is dict
        and "movie_id" in item
        and item.keys() <= {"movie_id", "rating", "seen"}
        and ("rating" in item or "seen" in item)
        and type(item["movie_id"]) is int
        and (
            item["movie_id"] in catalogue
            if catalogue is not None
            else is_int_between(item["movie_id"], 1, MAX_ID)
        )
        and ("rating" not in item or is_int_between(item["rating"], 1, 5))
        and ("seen" not in item or type(item["seen"]) is bool)
        and not ("rating" in item and item.get("seen") is False)
    )


def answers_are_valid(value, catalogue) -> bool:
    """Up to 50 valid answers, no movie twice; ``catalogue`` None: no model is served."""
    return (
        type(value) is list
        and len(value) <= 50
        and all(answer_is_valid(item, catalogue) for item in value)
        and len({item["movie_id"] for item in value}) == len(value)
    )


def served_catalogue() -> set[int] | None:
    recommender = served_recommender()
    return None if recommender is None else set(recommender.movie_ids.tolist())


def profile_is_valid(body, fields, catalogue) -> bool:
    return (
        isinstance(body, dict)
        and set(REQUIRED) <= body.keys() <= set(fields)
        and is_int_between(body["age"], MIN_AGE, MAX_AGE)
        and body["gender"] in GENDER_CODES
        and body["occupation"] in OCCUPATIONS
        and ("answers" not in body or answers_are_valid(body["answers"], catalogue))
    )


def recommend_body_is_valid(body, known_genres=None, catalogue=None) -> bool:
    """The contract of docs/api.md, written out independently of the serializer.

    ``known_genres`` and ``catalogue`` (movie ids) are the served model's; None when no
    model is served.
    """
    return (
        profile_is_valid(body, FIELDS, catalogue)
        and is_int_between(body.get("max_recs", 10), 1, 100)
        and ("genres" not in body or genres_are_valid(body["genres"], known_genres))
        and ("exclude" not in body or exclude_is_valid(body["exclude"]))
    )


def interview_body_is_valid(body, catalogue=None) -> bool:
    return profile_is_valid(body, INTERVIEW_FIELDS, catalogue) and is_int_between(
        body.get("n", 5), 1, 20
    )


def assert_error_shape(body: dict):
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["code"], str) and body["code"]
    if "errors" in body:
        assert all(isinstance(messages, list) for messages in body["errors"].values())


@settings(max_examples=500, deadline=None)
@given(body=any_body)
@example(body=[])
@example(body={"age": True, "gender": "M", "occupation": "programmer"})
@example(body={"age": 30.0, "gender": "M", "occupation": "programmer"})
@example(body={"age": "30", "gender": "m", "occupation": "Programmer", "max_recs": 0})
@example(body={"age": 30, "gender": "M", "occupation": "writer", "genres": []})
@example(body={"age": 30, "gender": "M", "occupation": "writer", "exclude": [True]})
@example(body={"age": 30, "gender": "M", "occupation": "writer", "genres": "Drama"})
def test_recommend_serializer_accepts_exactly_the_documented_inputs(body):
    serializer = RecommendInputSerializer(data=body)
    valid = serializer.is_valid()
    assert valid == recommend_body_is_valid(body, served_genres(), served_catalogue())
    if valid:
        assert serializer.validated_data["max_recs"] == body.get("max_recs", 10)
    else:
        assert_error_shape(error_body(ValidationError(serializer.errors)))


@settings(max_examples=500, deadline=None)
@given(body=any_interview_body)
@example(body={"age": 30, "gender": "M", "occupation": "writer", "answers": None})
@example(body={"age": 30, "gender": "M", "occupation": "writer", "answers": [{"movie_id": 1}]})
@example(body={"age": 30, "gender": "M", "occupation": "writer", "n": 0})
def test_interview_serializer_accepts_exactly_the_documented_inputs(body):
    serializer = InterviewInputSerializer(data=body)
    valid = serializer.is_valid()
    assert valid == interview_body_is_valid(body, served_catalogue())
    if valid:
        assert serializer.validated_data["n"] == body.get("n", 5)
        assert len(serializer.validated_data.get("answers", [])) == len(body.get("answers", []))
    else:
        assert_error_shape(error_body(ValidationError(serializer.errors)))


@settings(max_examples=300, deadline=None)
@given(body=login_bodies | any_body)
def test_login_serializer_takes_one_password_string_and_nothing_else(body):
    serializer = LoginSerializer(data=body)
    valid = serializer.is_valid()
    if body == {"session_password": PASSWORD}:
        assert valid
    if valid:
        assert isinstance(body, dict) and set(body) == {"session_password"}
        assert serializer.validated_data == body
    else:
        assert_error_shape(error_body(ValidationError(serializer.errors)))


# Through the whole stack: JSON parsing, authentication, validation, ranking, rendering.
# The fixtures are set up once for all examples of a test, which is what these want.
API = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def post_json(api, path: str, body):
    return api.post(path, json.dumps(body), content_type="application/json")


@API
@given(body=any_body)
@example(body={"age": 30, "gender": "M", "occupation": "writer", "genres": ["Noir"]})
@example(body={"age": 30, "gender": "F", "occupation": "writer", "genres": ["Comedy"]})
@example(body={"age": 30, "gender": "O", "occupation": "none", "exclude": [1, 2, 3]})
def test_recommend_api_answers_200_or_400_to_any_json(api, trained, body):
    response = post_json(api, "/api/recommend", body)
    event(f"HTTP {response.status_code}")
    valid = recommend_body_is_valid(body, served_genres(), served_catalogue())
    assert response.status_code == (200 if valid else 400)
    if response.status_code == 200:
        answer = response.json()
        titles = answer["recommendations"]
        assert len(titles) <= body.get("max_recs", 10)
        assert len(titles) == len(set(titles))
        answered = answered_titles(body)
        # only a filter or answers empty it
        assert titles or body.get("genres") or body.get("exclude") or answered
        for item in answer["items"]:
            assert item["id"] not in body.get("exclude", ())
            assert item["title"] not in answered
            assert set(item["genres"]) & set(body.get("genres", item["genres"]))
    else:
        assert_error_shape(response.json())


def answered_titles(body) -> set[str]:
    titles = {movie_id: title for movie_id, title, *_ in MOVIES}
    return {titles[item["movie_id"]] for item in body.get("answers", ())}


@API
@given(body=any_interview_body)
@example(body={"age": 30, "gender": "F", "occupation": "none", "n": 20})
@example(
    body={
        "age": 30,
        "gender": "F",
        "occupation": "none",
        "answers": [{"movie_id": 246, "seen": False}],
    }
)
def test_interview_api_answers_200_or_400_to_any_json(api, trained, body):
    response = post_json(api, "/api/interview", body)
    event(f"HTTP {response.status_code}")
    assert response.status_code == (
        200 if interview_body_is_valid(body, served_catalogue()) else 400
    )
    if response.status_code == 200:
        questions = response.json()["questions"]
        titles = [question["title"] for question in questions]
        assert 0 < len(titles) <= body.get("n", 5)  # the small catalogue outlasts 5 answers
        assert len(titles) == len(set(titles))
        assert "unknown" not in titles
        assert not set(titles) & answered_titles(body)
    else:
        assert_error_shape(response.json())


@API
@given(body=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
@example(body=b"[" * 5000)  # deep nesting: a RecursionError in the standard json module
@example(body=b'{"\\ud800": 1}')  # a lone surrogate, echoed back in "unknown key" errors
@example(body=b'{"age": 1' + b"0" * 5000 + b"}")  # beyond Python's int-from-string limit
@example(body=b"NaN")
@example(body=b"\xef\xbb\xbf{}")
def test_recommend_api_answers_400_to_any_body_that_is_not_a_valid_request(api, trained, body):
    try:
        valid = recommend_body_is_valid(json.loads(body.decode("utf-8")))
    except (ValueError, RecursionError):
        valid = False
    response = api.post("/api/recommend", body, content_type="application/json")
    assert response.status_code == (200 if valid else 400)
    if not valid:
        assert_error_shape(response.json())


@API
@given(body=login_bodies | any_body)
def test_login_api_answers_200_400_or_401_to_any_json(db, body):
    RecentHits.objects.all().delete()  # the login limit's counts would answer 429 later on
    response = post_json(APIClient(), "/api/login", body)
    event(f"HTTP {response.status_code}")
    if body == {"session_password": PASSWORD}:
        assert response.status_code == 200
        assert response.json()["access_token"]
    else:
        assert response.status_code in (400, 401)
        assert_error_shape(response.json())
        wrong_password = isinstance(body, dict) and isinstance(body.get("session_password"), str)
        assert (response.status_code == 401) <= wrong_password
