"""/try/, the page for people, through Django's test client: each step's bad input, the
login throttle it shares with /api/login, and a session retired with its password.
The whole flow in a real browser: tests/test_browser.py."""

import re

import pytest
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from coldstart.serving import Answer, Profile
from recommender.forms import DISLIKED, LIKED
from recommender.pages import QUESTIONS_PER_ROUND
from recommender.serving import get_recommender

PROFILE = {"age": 30, "gender": "F", "occupation": "writer"}


@pytest.fixture
def browser(db):
    return Client()


@pytest.fixture
def unlocked(browser, settings):
    response = browser.post("/try/password", {"session_password": settings.SESSION_PASSWORD})
    assert response.status_code == 302
    return browser


@pytest.fixture
def interviewed(unlocked, trained):
    assert unlocked.post("/try/profile", PROFILE).status_code == 302
    return unlocked


def page(client, path="/try/"):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def asked_movie(client) -> int:
    return int(re.search(r'name="movie_id" value="(\d+)"', page(client)).group(1))


def test_a_fresh_visit_asks_for_the_password_in_a_csrf_protected_form(browser):
    html = page(browser)
    assert 'name="session_password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/try/password", {"session_password": "x"}).status_code == 403


@pytest.mark.parametrize("password", ["", "wrong", "x" * 1025, "a\x00b"])
def test_a_bad_password_re_renders_the_form_with_400(browser, password):
    response = browser.post("/try/password", {"session_password": password})
    assert response.status_code == 400
    assert 'name="session_password"' in response.content.decode()
    assert 'class="errorlist' in response.content.decode()
    assert "profile" not in page(browser)  # still locked


def test_password_attempts_share_the_login_throttle_with_the_api(browser, settings):
    for _ in range(5):
        APIClient().post("/api/login", {"session_password": "wrong"}, format="json")
    for _ in range(5):
        assert browser.post("/try/password", {"session_password": "wrong"}).status_code == 400

    response = browser.post("/try/password", {"session_password": settings.SESSION_PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    login = APIClient().post(
        "/api/login", {"session_password": settings.SESSION_PASSWORD}, format="json"
    )
    assert login.status_code == 429


def test_failed_passwords_count_against_the_budget_of_all_clients(browser, throttle_rates):
    """A guesser spread over many addresses gets no more through the page than the API."""
    throttle_rates(login="1000/min", login_failures="3/min")
    for n in range(3):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        assert client.post("/try/password", {"session_password": "wrong"}).status_code == 400

    api = APIClient(REMOTE_ADDR="203.0.113.9")
    login = api.post("/api/login", {"session_password": "anything"}, format="json")
    assert login.status_code == 429


def test_the_right_password_leads_to_the_profile_form(unlocked):
    html = page(unlocked)
    assert 'name="age"' in html and 'name="gender"' in html and 'name="occupation"' in html


def test_the_session_is_retired_when_the_password_changes(interviewed, settings):
    assert 'name="movie_id"' in page(interviewed)
    settings.SESSION_PASSWORD = "a-new-password"
    assert 'name="session_password"' in page(interviewed)
    assert interviewed.post("/try/answer", {"movie_id": 1, "answer": "liked"}).status_code == 302
    assert 'name="session_password"' in page(interviewed)  # nothing was recorded
    unlocked = interviewed.post("/try/password", {"session_password": "a-new-password"})
    assert unlocked.status_code == 302
    assert 'name="age"' in page(interviewed)  # the old profile is gone too


@pytest.mark.parametrize(
    "profile",
    [
        {**PROFILE, "age": 121},
        {**PROFILE, "age": -1},
        {**PROFILE, "age": "thirty"},
        {**PROFILE, "age": ""},
        {**PROFILE, "gender": "X"},
        {**PROFILE, "occupation": "astronaut"},
        {"age": 30},
        {},
    ],
)
def test_a_bad_profile_re_renders_the_form_with_400(unlocked, profile):
    response = unlocked.post("/try/profile", profile)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="age"' in html and 'class="errorlist' in html


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"answer": "maybe"}, "Select a valid choice"),
        ({"answer": ""}, "This field is required"),
        ({"movie_id": "x", "answer": "liked"}, "Enter a whole number"),
        ({"movie_id": 99999, "answer": "liked"}, "movie 99999 is not in the catalogue"),
        ({"movie_id": 0, "answer": "seen"}, "greater than or equal to 1"),
    ],
)
def test_a_bad_answer_re_renders_the_question_with_400(interviewed, answer, message):
    movie_id = asked_movie(interviewed)
    response = interviewed.post("/try/answer", {"movie_id": movie_id, **answer})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'name="movie_id" value="{movie_id}"' in html  # the same question again


def test_a_movie_answered_twice_is_400(interviewed):
    movie_id = asked_movie(interviewed)
    assert interviewed.post("/try/answer", {"movie_id": movie_id, "answer": "3"}).status_code == 302
    response = interviewed.post("/try/answer", {"movie_id": movie_id, "answer": "unseen"})
    assert response.status_code == 400
    assert f"movie {movie_id} is answered twice" in response.content.decode()


def test_five_answers_then_recommendations_without_them_then_more(interviewed):
    answered = []
    for number, choice in enumerate(["liked", "disliked", "seen", "unseen", "4"], start=1):
        assert f"Question {number} of {QUESTIONS_PER_ROUND}" in page(interviewed)
        answered.append(asked_movie(interviewed))
        response = interviewed.post("/try/answer", {"movie_id": answered[-1], "answer": choice})
        assert response.status_code == 302

    html = page(interviewed)
    answers = [
        Answer(answered[0], LIKED, True),
        Answer(answered[1], DISLIKED, True),
        Answer(answered[2], None, True),
        Answer(answered[3], None, False),
        Answer(answered[4], 4, True),
    ]
    expected = get_recommender().recommend(Profile(**PROFILE), 10, answers=answers)
    assert expected
    shown = re.findall(r'<strong class="title">(.*?)</strong>', html)
    assert shown == [escape(item["title"]) for item in expected]
    for item in expected:
        assert f'<span class="genres">{escape(", ".join(item["genres"]))}</span>' in html
        assert f'<span class="year">{item["year"]}</span>' in html
    assert "from 5 answers" in html

    assert interviewed.post("/try/more").status_code == 302  # the small catalogue has 2 left
    assert "Question 1 of 5" in page(interviewed)
    assert asked_movie(interviewed) not in answered


def test_start_over_asks_who_again_and_keeps_the_session_unlocked(interviewed):
    assert interviewed.post("/try/restart").status_code == 302
    assert 'name="age"' in page(interviewed)


def test_steps_out_of_order_go_back_to_the_page(browser, unlocked):
    assert browser.post("/try/answer", {"movie_id": 1, "answer": "liked"})["Location"] == "/try/"
    assert unlocked.post("/try/more")["Location"] == "/try/"
    assert 'name="age"' in page(unlocked)
    assert browser.get("/try/answer").status_code == 405


def test_without_a_model_the_page_says_so_with_503(unlocked, model_path):
    assert unlocked.post("/try/profile", PROFILE).status_code == 302
    response = unlocked.get("/try/")
    assert response.status_code == 503
    assert "train_model" in response.content.decode()


def test_home_links_to_the_page(db):
    assert APIClient().get("/").json()["links"]["try"] == "http://testserver/try/"
