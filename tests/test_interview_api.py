"""POST /api/interview: the movies to ask a new person about, and the `answers` they give,
which /api/recommend takes too."""

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import Serializer
from rest_framework.test import APIClient

from coldstart.serving import Answer
from recommender import request_ids
from recommender.serializers import InterviewInputSerializer, answers_from
from tests.mlfixtures import MOVIES

PROFILE = {"age": 30, "gender": "M", "occupation": "programmer"}
CHASING_AMY = {246, 268}  # one title, two ids
UNKNOWN = 267
SERVABLE_TITLES = len({title for _, title, *_ in MOVIES if title != "unknown"})


def interview(api, body):
    return api.post("/api/interview", body, format="json")


def asked(api, **body) -> list[dict]:
    response = interview(api, {**PROFILE, **body})
    assert response.status_code == 200, response.json()
    return response.json()["questions"]


def asked_ids(api, **body) -> list[int]:
    return [question["id"] for question in asked(api, **body)]


# --- What is asked -----------------------------------------------------------------------


def test_interview_needs_a_token():
    assert APIClient().post("/api/interview", PROFILE, format="json").status_code == 401


def test_without_a_model_it_is_503(api, model_path):
    response = interview(api, PROFILE)
    assert response.status_code == 503
    assert response.json()["code"] == "model_unavailable"


def test_five_questions_by_default_with_title_year_and_genres(api, trained):
    response = interview(api, PROFILE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"questions", "request_id"}
    # the request's own id, signed for this profile as recommend's is
    assert request_ids.verify(body["request_id"], **PROFILE) == response["X-Request-ID"]
    assert len(body["questions"]) == 5
    catalogue = {movie_id: (title, genres) for movie_id, title, _, _, genres in MOVIES}
    for question in body["questions"]:
        title, genres = catalogue[question["id"]]
        year = int(title.rsplit("(", 1)[1].rstrip(")"))
        assert question == {"id": question["id"], "title": title, "year": year, "genres": genres}


def test_never_the_placeholder_nor_two_ids_of_one_title(api, trained):
    questions = asked(api, n=20)
    titles = [question["title"] for question in questions]
    assert len(titles) == len(set(titles)) == SERVABLE_TITLES - 1  # 1623: nobody rated it
    assert "unknown" not in titles
    assert len(CHASING_AMY & {question["id"] for question in questions}) == 1


@pytest.mark.parametrize("n", [1, 3, 7])
def test_n_questions_are_asked(api, trained, n):
    assert len(asked(api, n=n)) == n


def test_answered_movies_are_never_asked_again_nor_their_other_ids(api, trained):
    first = asked_ids(api, n=20)
    answers = [{"movie_id": first[0], "rating": 5}, {"movie_id": 246, "seen": False}]
    later = asked_ids(api, n=20, answers=answers)
    assert first[0] not in later
    assert not CHASING_AMY & set(later)
    assert set(later) == set(first) - {first[0]} - CHASING_AMY


def test_every_kind_of_answer_is_taken(api, trained):
    answers = [
        {"movie_id": 1, "rating": 4},
        {"movie_id": 2, "rating": 1, "seen": True},
        {"movie_id": 50, "seen": True},
        {"movie_id": 100, "seen": False},
        {"movie_id": UNKNOWN, "seen": False},  # in the catalogue, though never asked
    ]
    assert not {1, 2, 50, 100} & set(asked_ids(api, n=20, answers=answers))


def test_everything_answered_leaves_no_question(api, trained):
    answers = [{"movie_id": movie_id, "seen": False} for movie_id in asked_ids(api, n=20)]
    assert asked(api, answers=answers) == []


def test_interview_runs_no_sql(api, trained, django_assert_num_queries):
    interview(api, PROFILE)  # the first call loads the artifact from disk, not the database
    with django_assert_num_queries(0):
        assert asked(api, age=61, answers=[{"movie_id": 50, "rating": 5}])


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"n": 0}, "n", "The parameter 'n' must be between 1 and 20"),
        ({"n": 21}, "n", "The parameter 'n' must be between 1 and 20"),
        ({"n": "5"}, "n", "The parameter 'n' must be an integer"),
        ({"n": 5.0}, "n", "The parameter 'n' must be an integer"),
        ({"n": True}, "n", "The parameter 'n' must be an integer"),
        ({"n": None}, "n", "The parameter 'n' must be an integer"),
        ({"age": "30"}, "age", "The parameter 'age' must be an integer"),
        ({"max_recs": 5}, "max_recs", "The only valid parameters are: 'age', 'gender', "
         "'occupation', 'answers', 'n'"),
    ],
)  # fmt: skip
def test_bad_parameter_is_400_with_a_clear_message(api, trained, body, field, message):
    response = interview(api, {**PROFILE, **body})
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["errors"] == {field: [message]}


def test_missing_demographics_are_400(api, trained):
    response = interview(api, {"n": 3})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"age", "gender", "occupation"}


@pytest.mark.parametrize("raw", ["[]", "null", '"x"', "{bad"])
def test_body_that_is_not_a_json_object_is_400(api, raw):
    response = api.post("/api/interview", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


NOT_A_LIST = (
    "The parameter 'answers' must be a list of answers, each "
    '{"movie_id": int, "rating": 1-5} or {"movie_id": int, "seen": true or false}'
)
RATING = "'rating' must be an integer between 1 and 5"
MOVIE_ID = "'movie_id' must be an integer"
NEITHER = "Missing parameter: 'rating' (1-5) or 'seen' (true or false)"

# (answers, [(place, message)] or a message about the whole list)
BAD_ANSWERS = [
    ({"movie_id": 1, "rating": 5}, NOT_A_LIST),
    ("50", NOT_A_LIST),
    (None, NOT_A_LIST),
    ([{"movie_id": 1, "seen": False}] * 51, "The parameter 'answers' must hold at most 50 answers"),
    ([50], [(0, 'must be an object: {"movie_id", "rating"} or {"movie_id", "seen"}')]),
    ([{"movie_id": 1, "seen": False}, []], [(1, 'must be an object: {"movie_id", "rating"} '
                                               'or {"movie_id", "seen"}')]),
    ([{"rating": 5}], [(0, "Missing parameter: 'movie_id'")]),
    ([{"movie_id": 1}], [(0, NEITHER)]),
    ([{"movie_id": "1", "rating": 5}], [(0, MOVIE_ID)]),
    ([{"movie_id": 1.0, "rating": 5}], [(0, MOVIE_ID)]),
    ([{"movie_id": True, "rating": 5}], [(0, MOVIE_ID)]),
    ([{"movie_id": None, "rating": 5}], [(0, MOVIE_ID)]),
    ([{"movie_id": 1, "rating": 0}], [(0, RATING)]),
    ([{"movie_id": 1, "rating": 6}], [(0, RATING)]),
    ([{"movie_id": 1, "rating": 4.5}], [(0, RATING)]),
    ([{"movie_id": 1, "rating": "5"}], [(0, RATING)]),
    ([{"movie_id": 1, "rating": None}], [(0, RATING)]),
    ([{"movie_id": 1, "rating": True}], [(0, RATING)]),
    ([{"movie_id": 1, "seen": "no"}], [(0, "'seen' must be true or false")]),
    ([{"movie_id": 1, "seen": 0}], [(0, "'seen' must be true or false")]),
    ([{"movie_id": 1, "seen": None}], [(0, "'seen' must be true or false")]),
    ([{"movie_id": 1, "rating": 5, "seen": False}], [(0, "a 'rating' cannot go with \"seen\": "
                                                         "false")]),
    ([{"movie_id": 1, "rating": 5, "liked": True}], [(0, "the only valid keys are: "
                                                         "'movie_id', 'rating', 'seen'")]),
    ([{"movie_id": 99999, "seen": False}], [(0, "movie 99999 is not in the catalogue")]),
    ([{"movie_id": 1623, "seen": False}], [(0, "movie 1623 is not in the catalogue")]),
    ([{"movie_id": 0, "seen": False}], [(0, "movie 0 is not in the catalogue")]),
    ([{"movie_id": -50, "seen": False}], [(0, "movie -50 is not in the catalogue")]),
    ([{"movie_id": 10**40, "seen": False}], [(0, f"movie {10**40} is not in the catalogue")]),
    ([{"movie_id": 50, "rating": 5}, {"movie_id": 1, "seen": True},
      {"movie_id": 50, "seen": False}], [(2, "movie 50 is answered twice (also answers[0])")]),
    ([{"movie_id": 1, "rating": 9}, {"movie_id": 2, "seen": False}, {"movie_id": 1, "seen": True},
      {"movie_id": 4242, "rating": 3}],
     [(0, RATING), (2, "movie 1 is answered twice (also answers[0])"),
      (3, "movie 4242 is not in the catalogue")]),
]  # fmt: skip


def expected_errors(problems) -> dict:
    if isinstance(problems, str):
        return {"answers": [problems]}
    return {f"answers.{place}": [f"answers[{place}]: {message}"] for place, message in problems}


@pytest.mark.parametrize("path", ["/api/interview", "/api/recommend"])
@pytest.mark.parametrize(("answers", "problems"), BAD_ANSWERS)
def test_bad_answers_are_400_naming_each_item(api, trained, path, answers, problems):
    response = api.post(path, {**PROFILE, "answers": answers}, format="json")
    assert response.status_code == 400
    body = response.json()
    errors = expected_errors(problems)
    assert body["errors"] == errors
    assert body["message"] == next(iter(errors.values()))[0]
    assert body["code"]


def test_answers_without_a_model_are_503_not_400(api, model_path):
    body = {**PROFILE, "answers": [{"movie_id": 99999, "seen": False}]}
    assert interview(api, body).status_code == 503
    assert api.post("/api/recommend", body, format="json").status_code == 503


def test_answers_become_what_the_model_is_given(trained):
    answers = answers_from(
        [
            {"movie_id": 1, "rating": 4},
            {"movie_id": 2, "rating": 2, "seen": True},
            {"movie_id": 50, "seen": True},
            {"movie_id": 100, "seen": False},
        ]
    )
    assert answers == [
        Answer(movie_id=1, rating=4, seen=True),
        Answer(movie_id=2, rating=2, seen=True),
        Answer(movie_id=50, rating=None, seen=True),
        Answer(movie_id=100, rating=None, seen=False),
    ]


def test_the_quick_path_agrees_with_drf(trained):
    """A body of plain values skips DRF's machinery (StrictSerializer.plain_values): DRF
    must agree on each body, and every valid one is taken."""
    answers = [{"movie_id": 50, "rating": 5}, {"movie_id": 1, "seen": False}]
    odd = [-1, 0, 1, 5, 20, 21, True, 5.0, "5", None, [5]]
    bodies = [{**PROFILE, "n": n} for n in odd]
    bodies += [{**PROFILE, "answers": value} for value in [[], answers, answers * 2, None, {}]]
    bodies += [{**PROFILE, "answers": [{**answers[0], "movie_id": 4242}]}]
    bodies += [{**PROFILE, "gender": "m", "answers": answers}, {**PROFILE, "max_recs": 5}]
    bodies += [{"age": 30}, [], None]
    serializer = InterviewInputSerializer()
    for body in filter(lambda body: isinstance(body, dict), bodies):
        try:
            expected = Serializer.run_validation(serializer, body)
        except ValidationError:
            expected = None
        assert serializer.plain_values(body) == expected, body
