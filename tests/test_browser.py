"""Staff and API clients in a real browser: headless Chromium against a live server.

The admin flow (log in, search, filter by genre, a movie with its ratings), the Swagger
UI flow (log in, authorize, recommend) and a person's flow through /try/ (password, who
they are, a film found by a search and marked, a round of questions on one screen,
recommendations; JavaScript off, production settings under gunicorn)
run in Debian's `chromium`, driven by Playwright.
Every request must stay on the live server: the docs' assets come from the project, not a
CDN. No page may break the Content-Security-Policy (recsite.middleware): Chromium reports
each refusal on the console. On failure a screenshot and the page's HTML are saved to
$BROWSER_ARTIFACTS (default var/test-artifacts/) for CI to keep.
"""

import json
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect, sync_playwright

from coldstart.serving import Answer, Profile
from harness.databases import copy_sqlite, sqlite_url
from harness.live import current_secrets, production_env, serving
from recommender.forms import DISLIKED, LIKED, LOVED
from recommender.serving import get_recommender
from tests.mlfixtures import MOVIES, RATINGS

REPO_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = Path(os.environ.get("BROWSER_ARTIFACTS") or REPO_DIR / "var" / "test-artifacts")
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # Docker's /dev/shm is 64 MB: use /tmp instead
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # generous: the machines are shared and noisy
PROFILE = {"age": 30, "gender": "F", "occupation": "programmer", "max_recs": 5}

# Debian's chromium (or $CHROMIUM_BIN); never a browser that Playwright downloads. `make test`
# installs it where it can (root with apt-get); elsewhere this module is skipped with the
# command that enables it, except under CI, where it must run.
CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium")
MISSING = (
    "Chromium is not installed: `sudo apt-get install -y chromium` (Debian) enables the "
    "browser tests, or set CHROMIUM_BIN to a Chromium binary."
)
if not CHROMIUM and not os.environ.get("CI"):
    pytest.skip(MISSING, allow_module_level=True)


@pytest.fixture
def staff_login(loaded_catalogue):
    """A staff member who may view the catalogue, and nothing more."""
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user("curator", password=password, is_staff=True)
    codenames = ["view_movie", "view_genre", "view_rater", "view_rating"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return {"username": user.username, "password": password}


@pytest.fixture
def page(live_server, tmp_path):
    """A fresh Chromium page whose requests may only go to the live server.

    Requested after the database fixtures: Playwright runs an event loop in this thread,
    and Django refuses ORM calls while one runs.
    """
    with chromium_page(live_server.url, tmp_path / "chromium-profile") as page:
        yield page


@contextmanager
def chromium_page(base_url: str, profile_dir: Path, **options):
    """A Chromium page whose requests may only go to ``base_url``; ``options`` go to
    Playwright's browser context (java_script_enabled=False, ...)."""
    if not CHROMIUM:
        pytest.fail(f"{MISSING} CI never skips them.")
    off_site, server_errors, csp_violations = [], [], []

    def keep_on_site(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    def record_server_error(response):
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.url}")

    def record_csp_violation(message):
        if "Content Security Policy" in message.text:
            csp_violations.append(f"{message.location['url']}: {message.text}")

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile_dir,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            base_url=base_url,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        context.route("**/*", keep_on_site)
        page = context.new_page()
        page.on("response", record_server_error)
        page.on("console", record_csp_violation)
        try:
            yield page
        finally:
            context.close()
    assert not off_site, f"The pages requested other sites: {off_site}"
    assert not server_errors, f"The server failed: {server_errors}"
    assert not csp_violations, f"The pages broke the Content-Security-Policy: {csp_violations}"


@contextmanager
def artifacts_on_failure(page, name):
    """Keep a screenshot and the HTML of the page where a step failed."""
    try:
        yield
    except Exception:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)
        (ARTIFACTS_DIR / f"{name}.html").write_text(page.content(), encoding="utf-8")
        raise


def titles_with_genre(genre: str) -> list[str]:
    return [title for _, title, _, _, genres in MOVIES if genre in genres]


def test_staff_search_filter_and_open_a_movie_with_its_ratings(staff_login, page):
    with artifacts_on_failure(page, "admin"):
        page.goto("/admin/")
        page.fill("#id_username", staff_login["username"])
        page.fill("#id_password", staff_login["password"])
        page.click("input[type=submit]")
        expect(page.locator("#content h1")).to_have_text("Site administration")

        page.click("#content-main tr.model-movie th a")
        titles = page.locator("#result_list td.field-title, #result_list th.field-title")
        expect(titles).to_have_count(len(MOVIES))

        page.fill("#searchbar", "chasing amy")
        page.press("#searchbar", "Enter")
        expect(titles).to_have_text(["Chasing Amy (1997)"] * 2)

        genres = page.locator('#changelist-filter [data-filter-title="genres"]')
        genres.get_by_role("link", name="Comedy", exact=True).click()  # keeps the search
        expect(page).to_have_url(re.compile(r"q=chasing"))
        expect(titles).to_have_text(["Chasing Amy (1997)"])
        expect(titles.locator("a")).to_have_attribute("href", re.compile(r"/268/"))

        page.fill("#searchbar", "")
        page.press("#searchbar", "Enter")  # keeps the genre filter
        genres.get_by_role("link", name="War", exact=True).click()
        expect(titles).to_have_text(titles_with_genre("War"))  # by id, as in MOVIES

        page.get_by_role("link", name="Star Wars (1977)").click()
        expect(page.locator("#content h1")).to_have_text("View movie")
        scores = sorted(str(score) for _, movie, score, _ in RATINGS if movie == 50)
        ratings = page.locator("#ratings-group tbody td.field-score")
        expect(ratings).to_have_count(len(scores))
        assert sorted(ratings.all_inner_texts()) == scores
        expect(page.locator("#ratings-group")).to_contain_text("Rater ")
        expect(page.locator(".field-rating_count .readonly")).to_have_text(str(len(scores)))


def test_swagger_ui_logs_in_authorizes_and_recommends(trained, settings, page):
    expected = get_recommender().recommend(
        Profile(age=PROFILE["age"], gender=PROFILE["gender"], occupation=PROFILE["occupation"]),
        PROFILE["max_recs"],
    )
    with artifacts_on_failure(page, "api-docs"):
        page.goto("/api/docs/")

        login = page.locator("#operations-authentication-api_login_create")
        body = try_it_out(login, {"session_password": settings.SESSION_PASSWORD})
        assert set(body) >= {"access_token", "token_type", "expires_in"}

        page.click(".auth-wrapper .authorize")
        dialog = page.locator(".dialog-ux .modal-ux")
        dialog.locator("input").fill(body["access_token"])
        dialog.get_by_role("button", name="Apply credentials").click()
        dialog.get_by_role("button", name="Close", exact=True).click()
        expect(page.locator(".auth-wrapper .authorize")).to_have_class(re.compile("locked"))

        recommend = page.locator("#operations-recommendations-api_recommend_create")
        body = try_it_out(recommend, PROFILE)
        assert body["recommendations"] == [item["title"] for item in expected]
        assert len(body["recommendations"]) == PROFILE["max_recs"]
        assert {item["id"] for item in body["items"]} <= {movie[0] for movie in MOVIES}


def test_swagger_ui_lists_every_operation_under_the_content_security_policy(page):
    schema = page.request.get("/api/schema/?format=json").json()
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    with artifacts_on_failure(page, "api-docs-csp"):
        response = page.goto("/api/docs/")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

        tags = page.locator("#swagger-ui .opblock-tag-section")
        expect(tags.locator(".opblock-tag")).to_have_text(
            [re.compile(tag["name"]) for tag in schema["tags"]]
        )
        expect(page.locator("#swagger-ui .opblock")).to_have_count(len(operations))
        # The page's own style, now a stylesheet rather than inline.
        expect(page.locator("body")).to_have_css("background-color", "rgb(250, 250, 250)")


def test_try_page_and_browsable_api_keep_their_styles_under_the_policy(page):
    with artifacts_on_failure(page, "styles-csp"):
        page.goto("/try/")
        expect(page.locator("body")).to_have_css("max-width", "640px")  # 40rem, try.css

        page.goto("/")  # HTML for a browser: DRF's browsable API
        expect(page.locator(".page-header h1")).to_be_visible()
        expect(page.locator(".navbar")).to_have_css("position", "fixed")  # DRF's stylesheet


def try_it_out(operation, request_body: dict) -> dict:
    """Run one Swagger UI operation with a JSON body; return the 200 response's JSON."""
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill(json.dumps(request_body))
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table tbody .response")
    expect(response.locator(".response-col_status")).to_have_text("200")
    return json.loads(response.locator(".response-col_description pre").first.inner_text())


# --- A person on /try/ ---------------------------------------------------------------------

# (choice, the answer it gives) for the first round of questions.
CHOICES = [
    ("Loved it", {"rating": LOVED, "seen": True}),
    ("Didn't like it", {"rating": DISLIKED, "seen": True}),
    ("Seen it", {"rating": None, "seen": True}),
    ("Haven't seen it", {"rating": None, "seen": False}),
    ("Liked it", {"rating": LIKED, "seen": True}),
]
PERSON = {"age": "34", "gender": "F", "occupation": "librarian"}


@pytest.fixture
def production_server(small_catalogue_sqlite, small_model, tmp_path):
    """gunicorn as production runs it (DEBUG off, plain HTTP on 127.0.0.1: no Secure
    cookies), with the small data set and a model trained on it; yields its URL."""
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=sqlite_url(copy_sqlite(small_catalogue_sqlite, tmp_path / "db.sqlite3")),
        ML_MODEL_PATH=str(shutil.copyfile(small_model, tmp_path / "model.joblib")),
        SECURE_COOKIES="0",
    )
    with serving(env, tmp_path / "gunicorn.log", workers=1) as [server]:
        yield f"http://127.0.0.1:{server.port}", Path(env["ML_MODEL_PATH"])


def test_a_person_marks_a_film_answers_a_round_and_gets_recommendations_without_javascript(
    production_server, settings, tmp_path
):
    url, model = production_server
    settings.ML_MODEL_PATH = model  # what the server serves, to check what it shows
    profile = Profile(int(PERSON["age"]), PERSON["gender"], PERSON["occupation"])
    profile_dir = tmp_path / "chromium-profile"
    with (
        chromium_page(url, profile_dir, java_script_enabled=False) as page,
        artifacts_on_failure(page, "try"),
    ):
        page.goto("/try/")
        page.get_by_label("Session password").fill(settings.SESSION_PASSWORD)
        page.get_by_role("button", name="Continue").click()

        page.get_by_label("Age").fill(PERSON["age"])
        page.get_by_label("Gender").select_option(PERSON["gender"])
        page.get_by_label("Occupation").select_option(PERSON["occupation"])
        page.get_by_role("button", name="Ask me about movies").click()

        expect(page.locator("h1")).to_have_text("Have you seen these?")
        page.get_by_label("Title").fill("the star wars")
        page.get_by_role("button", name="Search").click()
        found = page.locator(".found li").filter(has_text="Star Wars (1977)")
        found.get_by_role("button", name="Loved it").click()
        expect(found).to_contain_text("You said: loved it")
        answers = [Answer(movie_id=50, rating=LOVED, seen=True)]

        questions = page.locator("ol.questions fieldset")
        expect(questions).to_have_count(5)
        for question, (choice, answer) in zip(questions.all(), CHOICES, strict=True):
            movie_id = int(question.locator("input[name=movie_id]").get_attribute("value"))
            question.get_by_label(choice, exact=True).check()
            answers.append(Answer(movie_id=movie_id, **answer))
        assert len({answer.movie_id for answer in answers}) == 6
        page.get_by_role("button", name="Show my recommendations").click()
        expected = get_recommender().recommend(profile, 10, answers=answers)
        expect_recommendations(page, expected)
        assert "Star Wars (1977)" not in [item["title"] for item in expected]

        page.get_by_role("button", name="Answer more questions").click()
        questions = page.locator("ol.questions fieldset")
        for question in questions.all():  # the small catalogue has a few left
            movie_id = int(question.locator("input[name=movie_id]").get_attribute("value"))
            assert movie_id not in {answer.movie_id for answer in answers}
            answers.append(Answer(movie_id=movie_id, rating=None, seen=False))  # the default
        page.get_by_role("button", name="Show my recommendations").click()
        expect_recommendations(page, get_recommender().recommend(profile, 10, answers=answers))
        expect(page.locator(".lead")).to_contain_text(f"from {len(answers)} answers")


def expect_recommendations(page, expected: list[dict]) -> None:
    """The page lists these movies, in order, each with its genres (its year is in the
    title, and shown once)."""
    expect(page.locator("h1")).to_have_text("Recommended for you")
    items = page.locator("ol.recommendations li")
    expect(items.locator(".title")).to_have_text([item["title"] for item in expected])
    expect(items.locator(".genres")).to_have_text([", ".join(item["genres"]) for item in expected])
