"""/try/, the page for people, through Django's test client: each step's bad input, the
login throttle it shares with /api/login, a session retired with its password, a round of
questions on one screen, and films found by a search and marked.
The whole flow in a real browser: tests/test_browser.py."""

import re

import pytest
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from coldstart.serving import Answer, Profile
from recommender.forms import DISLIKED, LIKED, LOVED
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


def asked_movies(client) -> list[int]:
    """The movies this round asks about."""
    html = page(client)
    return [int(found) for found in re.findall(r'name="answer_(\d+)" value="unseen"', html)]


def round_of(movie_ids, choices) -> dict:
    """A round's form as a browser posts it."""
    return {
        "movie_id": [str(movie_id) for movie_id in movie_ids],
        **{
            f"answer_{movie_id}": choice
            for movie_id, choice in zip(movie_ids, choices, strict=True)
        },
    }


def shown_titles(html: str) -> list[str]:
    return re.findall(r'<span class="title">(.*?)</span>', html)


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


def test_a_round_asks_five_movies_on_one_screen_each_fact_once(interviewed):
    html = page(interviewed)
    asked = asked_movies(interviewed)
    assert len(asked) == len(set(asked)) == QUESTIONS_PER_ROUND
    movie = get_recommender().questions(Profile(**PROFILE), [], 1)[0]
    assert movie["id"] == asked[0]
    legends = re.findall(r"<legend>(.*?)</legend>", html, re.DOTALL)
    assert len(legends) == QUESTIONS_PER_ROUND
    assert escape(movie["title"]) in legends[0]
    assert legends[0].count(str(movie["year"])) == 1  # in the title, not again beside it
    assert html.count('type="radio"') == 5 * QUESTIONS_PER_ROUND


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"answer": "maybe"}, "Select a valid choice"),
        ({"answer": ""}, "This field is required"),
        ({"movie_id": "x"}, "Enter a whole number"),
        ({"movie_id": 99999}, "movie 99999 is not in the catalogue"),
        ({"movie_id": 0}, "greater than or equal to 1"),
    ],
)
def test_a_bad_answer_re_renders_the_round_with_400(interviewed, answer, message):
    asked = asked_movies(interviewed)
    movie_id = answer.get("movie_id", asked[0])
    form = round_of([movie_id, *asked[1:]], [answer.get("answer", "liked")] + ["unseen"] * 4)
    response = interviewed.post("/try/answer", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert [int(found) for found in re.findall(r'name="movie_id" value="(\d+)"', html)] == asked
    assert len(_answers(interviewed)) == 0  # nothing of the round was kept


def _answers(client) -> list:
    return client.session["try"]["answers"]


def test_a_movie_answered_twice_is_400(interviewed):
    asked = asked_movies(interviewed)
    response = interviewed.post("/try/answer", round_of([asked[0], asked[0]], ["3", "unseen"]))
    assert response.status_code == 400
    assert f"movie {asked[0]} is answered twice" in response.content.decode()


def test_a_round_without_answers_is_400(interviewed):
    assert interviewed.post("/try/answer", {}).status_code == 400


def test_a_round_then_recommendations_without_its_movies_then_more(interviewed):
    asked = asked_movies(interviewed)
    choices = ["loved", "disliked", "seen", "unseen", "liked"]
    assert interviewed.post("/try/answer", round_of(asked, choices)).status_code == 302

    html = page(interviewed)
    answers = [
        Answer(asked[0], LOVED, True),
        Answer(asked[1], DISLIKED, True),
        Answer(asked[2], None, True),
        Answer(asked[3], None, False),
        Answer(asked[4], LIKED, True),
    ]
    expected = get_recommender().recommend(Profile(**PROFILE), 10, answers=answers)
    assert expected
    assert shown_titles(html) == [escape(item["title"]) for item in expected]
    for item in expected:
        assert f'<span class="genres">{escape(", ".join(item["genres"]))}</span>' in html
    assert "from 5 answers" in html

    assert interviewed.post("/try/more").status_code == 302  # the small catalogue has 2 left
    assert 0 < len(asked_movies(interviewed)) < QUESTIONS_PER_ROUND
    assert not set(asked_movies(interviewed)) & set(asked)


# --- Search and mark ---------------------------------------------------------------------


def test_a_search_finds_films_to_mark_beside_the_questions(interviewed):
    html = page(interviewed, "/try/?q=the+miserables")
    assert shown_titles(html)[-1] == escape("Misérables, Les (1995)")
    assert 'action="/try/mark"' in html and 'value="543"' in html
    assert "Loved it" in html and "Liked it" in html and "Didn&#x27;t like it" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'No film found for "zzz"' in page(interviewed, "/try/?q=zzz")


def test_marked_films_are_answers_never_recommended_nor_asked(interviewed):
    for movie_id, choice in [(50, "loved"), (100, "liked"), (543, "disliked")]:
        response = interviewed.post("/try/mark", {"movie_id": movie_id, "answer": choice, "q": "x"})
        assert response.status_code == 302
        assert response["Location"] == "/try/?q=x#search"
    assert _answers(interviewed) == [[50, LOVED, True], [100, LIKED, True], [543, DISLIKED, True]]
    assert not {50, 100, 543} & set(asked_movies(interviewed))
    assert "You said: loved it" in page(interviewed, "/try/?q=star+wars")

    asked = asked_movies(interviewed)
    interviewed.post("/try/answer", round_of(asked, ["unseen"] * len(asked)))
    answers = [Answer(50, LOVED, True), Answer(100, LIKED, True), Answer(543, DISLIKED, True)]
    answers += [Answer(movie_id, None, False) for movie_id in asked]
    expected = get_recommender().recommend(Profile(**PROFILE), 10, answers=answers)
    html = page(interviewed)
    assert shown_titles(html) == [escape(item["title"]) for item in expected]
    assert not {"Star Wars (1977)", "Fargo (1996)"} & set(shown_titles(html))
    assert f"from {len(answers)} answers" in html


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        ({"movie_id": 50, "answer": "seen"}, "Select a valid choice"),
        ({"movie_id": 99999, "answer": "loved"}, "movie 99999 is not in the catalogue"),
        ({"movie_id": "", "answer": "loved"}, "This field is required"),
    ],
)
def test_a_bad_mark_is_400_and_keeps_nothing(interviewed, mark, message):
    response = interviewed.post("/try/mark", mark)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _answers(interviewed) == []


def test_a_film_marked_twice_is_400(interviewed):
    assert interviewed.post("/try/mark", {"movie_id": 50, "answer": "loved"}).status_code == 302
    response = interviewed.post("/try/mark", {"movie_id": 50, "answer": "liked"})
    assert response.status_code == 400
    assert "movie 50 is answered twice" in response.content.decode()


def test_marking_needs_the_csrf_token(interviewed, settings):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = interviewed.cookies
    assert strict.post("/try/mark", {"movie_id": 50, "answer": "loved"}).status_code == 403


def test_a_mark_before_the_profile_goes_back_to_the_page(unlocked, trained):
    assert unlocked.post("/try/mark", {"movie_id": 50, "answer": "loved"})["Location"] == "/try/"


def test_start_over_asks_who_again_and_keeps_the_session_unlocked(interviewed):
    assert interviewed.post("/try/restart").status_code == 302
    assert 'name="age"' in page(interviewed)


def test_steps_out_of_order_go_back_to_the_page(browser, unlocked):
    assert browser.post("/try/answer", {"movie_id": 1, "answer_1": "liked"})["Location"] == "/try/"
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
