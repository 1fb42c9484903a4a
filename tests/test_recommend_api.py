"""POST /api/recommend: validation wording, the 503 path, and what a api gets back."""

import io

import pytest
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.serializers import Serializer
from rest_framework.test import APIClient

from coldstart.domain import MAX_AGE, MIN_AGE, OCCUPATIONS
from recommender import request_ids
from recommender.serializers import RecommendInputSerializer
from recsite.parsers import JSONParser as FastJSONParser
from recsite.parsers import is_unicode_text

VALID = {"age": 30, "gender": "M", "occupation": "programmer"}
GENDER_MESSAGE = "The parameter 'gender' must be one of the following: 'M', 'F', 'O'"


def recommend(api, body):
    return api.post("/api/recommend", body, format="json")


def test_recommend_needs_a_token():
    response = APIClient().post("/api/recommend", VALID, format="json")
    assert response.status_code == 401


def test_recommend_returns_ten_distinct_titles_by_default(api, trained):
    response = recommend(api, VALID)
    assert response.status_code == 200
    body = response.json()
    titles = body["recommendations"]
    assert len(titles) == len(set(titles)) == min(10, len(body["items"]))
    assert "unknown" not in titles
    assert [item["title"] for item in body["items"]] == titles
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert body["model_version"].startswith("demographic-popularity@")
    assert len(request_ids.verify(body["request_id"], **VALID)) == 32  # signed for VALID


def test_duplicate_titles_and_unknown_are_never_served(api, trained):
    body = recommend(api, {**VALID, "max_recs": 100}).json()
    titles = body["recommendations"]
    assert len(titles) == len(set(titles))
    assert "unknown" not in titles
    assert "Chasing Amy (1997)" in titles  # listed under two ids, served once


def test_titles_come_out_as_utf8(api, trained):
    response = recommend(api, {**VALID, "max_recs": 100})
    assert "Misérables, Les (1995)" in response.content.decode("utf-8")


def test_max_recs_limits_the_list(api, trained):
    assert len(recommend(api, {**VALID, "max_recs": 3}).json()["recommendations"]) == 3


@pytest.mark.parametrize("gender", ["M", "F", "O"])
def test_every_gender_is_served(api, trained, gender):
    assert recommend(api, {**VALID, "gender": gender}).status_code == 200


def test_authenticated_recommend_runs_no_sql(api, trained, django_assert_num_queries):
    recommend(api, VALID)  # the first call loads the artifact from disk, not the database
    with django_assert_num_queries(0):
        assert recommend(api, {**VALID, "age": 60}).status_code == 200


def test_without_a_model_it_is_503_and_says_how_to_train(api, model_path):
    response = recommend(api, VALID)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "model_unavailable"
    assert "train_model" in body["message"]
    assert APIClient().get("/").status_code == 200


def test_invalid_request_is_refused_before_the_model_is_needed(api, model_path):
    assert recommend(api, {**VALID, "age": "30"}).status_code == 400


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
def test_bad_parameter_gets_the_originals_wording(api, body, message):
    response = recommend(api, body)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["code"]


def test_occupation_error_lists_every_occupation(api):
    response = recommend(api, {**VALID, "occupation": "astronaut"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("The parameter 'occupation' must be one of the following: ")
    assert all(f"'{o}'" in message for o in OCCUPATIONS)


def test_unknown_key_lists_the_valid_ones(api):
    response = recommend(api, {**VALID, "foo": 1})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "The only valid parameters are: 'age', 'gender', 'occupation', 'max_recs', 'genres', "
        "'exclude', 'answers'"
    )


def test_every_problem_is_reported_at_once(api):
    response = recommend(api, {"age": "x", "gender": "Q", "foo": 1, "genres": "War"})
    errors = response.json()["errors"]
    assert set(errors) == {"foo", "age", "gender", "occupation", "genres"}


@pytest.mark.parametrize("raw", ["[]", "3", '"x"', "null", "{bad json", "[1, 2]"])
def test_body_that_is_not_a_json_object_is_400(api, raw):
    response = api.post("/api/recommend", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_non_json_content_type_is_415(api):
    response = api.post("/api/recommend", "age=30", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_nesting_too_deep_to_parse_is_400(api):
    response = api.post("/api/recommend", "[" * 10_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_a_body_in_another_charset_is_read_in_that_charset(api, trained):
    body = '{"age": 30, "gender": "M", "occupation": "programmer", "genres": ["Drama"]}'
    response = api.post(
        "/api/recommend", body.encode("utf-16"), content_type="application/json; charset=utf-16"
    )
    assert response.status_code == 200
    assert all("Drama" in item["genres"] for item in response.json()["items"])


# --- genres and exclude ------------------------------------------------------------------

GENRES_MESSAGE = "The parameter 'genres' must be a list of genre names"
EXCLUDE_MESSAGE = "The parameter 'exclude' must be a list of movie ids (positive integers)"


def served_ids(api, body):
    response = recommend(api, {**VALID, "max_recs": 100, **body})
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["items"]]


def test_genres_keep_only_movies_having_any_of_them(api, trained):
    body = recommend(api, {**VALID, "max_recs": 100, "genres": ["War", "Crime"]}).json()
    assert {item["id"] for item in body["items"]} == {50, 100, 483, 543}
    assert all({"War", "Crime"} & set(item["genres"]) for item in body["items"])
    assert body["recommendations"] == [item["title"] for item in body["items"]]


def test_a_title_listed_twice_is_served_under_the_id_that_has_the_genre(api, trained):
    comedies = served_ids(api, {"genres": ["Comedy"]})
    assert 268 in comedies  # Chasing Amy as a comedy; its other id 246 is not one
    assert 246 not in comedies


def test_exclude_removes_those_movies_and_their_other_ids(api, trained):
    everything = served_ids(api, {})
    assert 50 in everything
    assert served_ids(api, {"exclude": [50]}) == [i for i in everything if i != 50]
    chasing_amy = {246, 268}
    assert chasing_amy & set(everything)
    assert not chasing_amy & set(served_ids(api, {"exclude": [246]}))
    assert not chasing_amy & set(served_ids(api, {"exclude": [268]}))


def test_exclude_accepts_ids_outside_the_catalogue(api, trained):
    assert served_ids(api, {"exclude": [999_999, 2**31 - 1]}) == served_ids(api, {})


def test_genres_and_exclude_combine_and_may_leave_nothing(api, trained):
    assert served_ids(api, {"genres": ["Sci-Fi"], "exclude": [2]}) == [50]
    assert served_ids(api, {"genres": ["Sci-Fi"], "exclude": [50]}) == []


def test_filters_do_not_disturb_the_cached_list_of_a_profile(api, trained):
    before = served_ids(api, {})
    assert served_ids(api, {"genres": ["War"], "exclude": [50]}) != before
    assert served_ids(api, {}) == before
    assert (
        served_ids(api, {"max_recs": 3, "genres": ["Drama"]})[:3]
        == [i for i in before if i in {100, 246, 268, 483, 543, 1623}][:3]
    )


def test_filtered_recommend_runs_no_sql(api, trained, django_assert_num_queries):
    recommend(api, VALID)
    with django_assert_num_queries(0):
        assert served_ids(api, {"genres": ["Drama"], "exclude": [1, 2]})


def test_unknown_genres_are_listed_with_the_valid_ones(api, trained):
    response = recommend(api, {**VALID, "genres": ["Drama", "Space Opera", "drama", ""]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_choice"
    message = body["message"]
    assert message.startswith("The parameter 'genres' must only name the following genres: ")
    assert message.endswith("; unknown: '', 'Space Opera', 'drama'")
    assert "'Action', 'Adventure', 'Animation', 'Children's', 'Comedy'" in message


def test_genres_without_a_model_is_503_not_400(api, model_path):
    response = recommend(api, {**VALID, "genres": ["Drama"]})
    assert response.status_code == 503
    assert response.json()["code"] == "model_unavailable"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"genres": "Drama"}, "genres", GENRES_MESSAGE),
        ({"genres": {"Drama": 1}}, "genres", GENRES_MESSAGE),
        ({"genres": None}, "genres", GENRES_MESSAGE),
        ({"genres": [1]}, "genres.0", GENRES_MESSAGE),
        ({"genres": ["Drama", None]}, "genres.1", GENRES_MESSAGE),
        ({"genres": [["Drama"]]}, "genres.0", GENRES_MESSAGE),
        ({"genres": ["x" * 41]}, "genres.0", GENRES_MESSAGE),
        ({"genres": []}, "genres", "The parameter 'genres' must not be empty"),
        (
            {"genres": ["Drama"] * 51},
            "genres",
            "The parameter 'genres' must hold at most 50 genre names",
        ),
        ({"exclude": 50}, "exclude", "The parameter 'exclude' must be a list of movie ids"),
        ({"exclude": "50"}, "exclude", "The parameter 'exclude' must be a list of movie ids"),
        ({"exclude": None}, "exclude", "The parameter 'exclude' must be a list of movie ids"),
        ({"exclude": ["50"]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [50.0]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [True]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [1, None]}, "exclude.1", EXCLUDE_MESSAGE),
        ({"exclude": [0]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [-5]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [2**31]}, "exclude.0", EXCLUDE_MESSAGE),
        ({"exclude": [10**40]}, "exclude.0", EXCLUDE_MESSAGE),
        (
            {"exclude": list(range(1, 2002))},
            "exclude",
            "The parameter 'exclude' must hold at most 2000 movie ids",
        ),
    ],
)
def test_bad_genres_or_exclude_is_400_with_a_clear_message(api, trained, body, field, message):
    response = recommend(api, {**VALID, **body})
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["errors"] == {field: [message]}


def test_empty_exclude_is_no_filter(api, trained):
    assert served_ids(api, {"exclude": []}) == served_ids(api, {})


# --- answers (the interview's; their validation: tests/test_interview_api.py) -------------


def test_answered_movies_are_never_recommended_nor_their_other_ids(api, trained):
    everything = served_ids(api, {})
    answers = [
        {"movie_id": everything[0], "rating": 5},
        {"movie_id": everything[1], "seen": True},
        {"movie_id": 246, "seen": False},  # and so never 268, the same title
    ]
    left = served_ids(api, {"answers": answers})
    assert left == [i for i in everything if i not in {*everything[:2], 246, 268}]


def test_answers_combine_with_the_filters(api, trained):
    answers = [{"movie_id": 2, "rating": 1}]
    assert served_ids(api, {"genres": ["Sci-Fi", "Thriller"], "answers": answers}) == [
        i for i in served_ids(api, {"genres": ["Sci-Fi", "Thriller"]}) if i != 2
    ]
    assert served_ids(api, {"genres": ["Sci-Fi"], "exclude": [2], "answers": [
        {"movie_id": 50, "seen": False}]}) == []  # fmt: skip


def test_without_answers_the_response_is_what_it_was(api, trained):
    plain = recommend(api, {**VALID, "max_recs": 7}).json()
    empty = recommend(api, {**VALID, "max_recs": 7, "answers": []}).json()
    assert {**empty, "request_id": None} == {**plain, "request_id": None}


def test_recommend_with_answers_runs_no_sql(api, trained, django_assert_num_queries):
    recommend(api, VALID)
    with django_assert_num_queries(0):
        assert served_ids(api, {"answers": [{"movie_id": 50, "rating": 4}]})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"age": 30, "gender": "M", "occupation": "programmer", "exclude": [1, 2]}',
        b'{"a": 1, "a": 2}',
        b'{"age": 100000000000000000000000000000000000000000}',
        b'{"age": -9223372036854775809, "x": 1e400}',
        b'{"title": "Mis\xc3\xa9rables \\u00e9 \\ud800"}',
        b'{"x": NaN}',
        b'{"x": Infinity}',
        b'{"x": 1',
        b"\xef\xbb\xbf{}",
        b'{"x": "\xff"}',
        b'{"x": "\x01"}',
        b"  [1, 2.5, true, null, -0]  ",
    ],
)
def test_the_fast_parser_reads_what_drfs_parser_reads(raw):
    def parse(parser):
        try:
            return parser.parse(io.BytesIO(raw), "application/json", {"encoding": "utf-8"})
        except ParseError:
            return ParseError

    expected = parse(JSONParser())
    if expected is not ParseError and not is_unicode_text(expected):
        expected = ParseError  # lone surrogates: refused, as no renderer could echo them
    assert repr(parse(FastJSONParser())) == repr(expected)


def test_the_quick_path_agrees_with_drf(trained):
    """A body of plain values skips DRF's machinery (StrictSerializer.plain_values): DRF
    must agree on each body, and every valid one is taken (genres and exclude aside)."""
    bodies = [
        {"age": age, "gender": gender, "occupation": occupation}
        for age in range(MIN_AGE, MAX_AGE + 1)
        for gender in ["M", "F", "O"]
        for occupation in OCCUPATIONS
    ]
    bodies += [
        {"age": age, "gender": gender, "occupation": occupation}
        for age in [MIN_AGE - 1, MIN_AGE, MAX_AGE, MAX_AGE + 1]
        for gender in ["M", "m", "X", ""]
        for occupation in ["programmer", "astronaut", "Programmer", ""]
    ]
    odd_values = [-1, 0, 1, 10, 100, 101, True, False, 5.0, "5", None, [5], {}]
    bodies += [{**VALID, "max_recs": value} for value in odd_values]
    bodies += [{**VALID, "age": value} for value in odd_values]
    bodies += [{**VALID, "gender": value} for value in [1, None, ["M"], "MF", "M "]]
    bodies += [{**VALID, "genres": ["Drama"]}, {**VALID, "exclude": []}, {**VALID, "x": 1}]
    bodies += [{"age": 30}, {}, [], "x", None]
    answers = [{"movie_id": 50, "rating": 5}, {"movie_id": 99999, "seen": True}]
    bodies += [{**VALID, "answers": value} for value in [[], answers[:1], answers, None, "x"]]
    bodies += [{**VALID, "age": 200, "answers": answers[:1]}, {**VALID, "answers": [{}] * 51}]
    serializer = RecommendInputSerializer()
    for body in filter(lambda body: isinstance(body, dict), bodies):
        try:
            expected = Serializer.run_validation(serializer, body)
        except ValidationError:
            expected = None
        values = serializer.plain_values(body)
        assert values == (None if body.keys() & {"genres", "exclude"} else expected), body
