"""Generated bad input (hypothesis): any JSON value in any field, and any body at all, gets
a 200 or a 400 with the one error shape, never an exception or a 500.

Each property compares the outcome with an independent statement of the contract
(`recommend_body_is_valid`), so a serializer that accepts too much fails as surely as
one that crashes.
"""

import json

from django.core.cache import cache
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from movies.models import MAX_AGE, MIN_AGE, OCCUPATIONS, Gender
from recommender.serializers import RecommendInputSerializer
from recsite.exceptions import error_body
from recsite.login import InvalidPassword, LoginSerializer

PASSWORD = "test-password"
GENDER_CODES = Gender.values
FIELDS = {
    "age": st.integers(MIN_AGE, MAX_AGE),
    "gender": st.sampled_from(GENDER_CODES),
    "occupation": st.sampled_from(OCCUPATIONS),
    "max_recs": st.integers(1, 100),
}
REQUIRED = ("age", "gender", "occupation")

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


@st.composite
def recommend_bodies(draw):
    """A valid request with up to two things wrong: a field of any value, missing or extra."""
    body = {name: draw(valid) for name, valid in FIELDS.items()}
    if draw(st.booleans()):
        del body["max_recs"]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(list(FIELDS)) | texts)
        if draw(st.booleans()):
            body[name] = draw(json_values)
        else:
            body.pop(name, None)
    return body


login_bodies = st.fixed_dictionaries({"session_password": st.just(PASSWORD) | texts | json_values})
any_body = recommend_bodies() | json_values


def is_int_between(value, low, high) -> bool:
    return type(value) is int and low <= value <= high


def recommend_body_is_valid(body) -> bool:
    """The contract of docs/api.md, written out independently of the serializer."""
    return (
        isinstance(body, dict)
        and set(REQUIRED) <= body.keys() <= set(FIELDS)
        and is_int_between(body["age"], MIN_AGE, MAX_AGE)
        and body["gender"] in GENDER_CODES
        and body["occupation"] in OCCUPATIONS
        and is_int_between(body.get("max_recs", 10), 1, 100)
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
def test_recommend_serializer_accepts_exactly_the_documented_inputs(body):
    serializer = RecommendInputSerializer(data=body)
    valid = serializer.is_valid()
    assert valid == recommend_body_is_valid(body)
    if valid:
        assert serializer.validated_data["max_recs"] == body.get("max_recs", 10)
    else:
        assert_error_shape(error_body(ValidationError(serializer.errors)))


@settings(max_examples=300, deadline=None)
@given(body=login_bodies | any_body)
def test_login_serializer_issues_a_token_only_for_the_password(body):
    serializer = LoginSerializer(data=body)
    try:
        valid = serializer.is_valid()
    except InvalidPassword:
        assert isinstance(body, dict) and isinstance(body.get("session_password"), str)
        return
    assert valid == (body == {"session_password": PASSWORD})
    if valid:
        assert serializer.validated_data["token_type"] == "Bearer"
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
def test_recommend_api_answers_200_or_400_to_any_json(api, trained, body):
    response = post_json(api, "/api/recommend", body)
    event(f"HTTP {response.status_code}")
    assert response.status_code == (200 if recommend_body_is_valid(body) else 400)
    if response.status_code == 200:
        titles = response.json()["recommendations"]
        assert 0 < len(titles) <= body.get("max_recs", 10)
        assert len(titles) == len(set(titles))
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
    cache.clear()  # the throttle (counts in the database cache) would answer 429 later on
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
