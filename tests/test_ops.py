"""What operators rely on: probes, the model card, request logs, the browsable API."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest
import sklearn
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import Client
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from recommender import request_ids

PROFILE = {"age": 30, "gender": "M", "occupation": "programmer"}
ROOT = Path(__file__).resolve().parent.parent


def recommend(api):
    return api.post("/api/recommend", PROFILE, format="json")


# --- /healthz and /readyz -------------------------------------------------------------


def test_healthz_needs_no_token_database_or_model(model_path):
    # No `db` fixture: pytest-django makes any query fail this test.
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert APIClient().head("/healthz").status_code == 200


def test_probes_take_only_get_and_head(db):
    response = APIClient().post("/healthz", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_readyz_is_503_without_a_model_and_says_which_check(db, model_path):
    response = APIClient().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "message": "Not ready: the model check failed.",
        "code": "not_ready",
        "checks": {"database": "ok", "model": "failed"},
    }
    assert str(model_path.parent) not in response.content.decode()  # no server paths


def test_readyz_is_200_with_a_model_and_a_database(api, trained):
    response = APIClient().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "model": "ok"}
    assert body["model_version"] == recommend(api).json()["model_version"]


def test_readyz_is_503_when_the_database_is_unreachable(trained):
    unreachable = OperationalError("unable to open database file")

    with patch.object(connections["default"], "cursor", side_effect=unreachable):
        response = APIClient().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "failed", "model": "ok"}
    assert body["message"] == "Not ready: the database check failed."
    assert "unable to open" not in response.content.decode()


# --- GET /api/model ----------------------------------------------------------------------


def test_model_card_needs_a_token(trained):
    assert APIClient().get("/api/model").status_code == 401


def test_model_card_is_503_without_a_model(api, db, model_path):
    response = api.get("/api/model")

    assert response.status_code == 503
    assert response.json()["code"] == "model_unavailable"


def test_model_card_describes_the_served_artifact(api, trained):
    response = api.get("/api/model")

    assert response.status_code == 200
    card = response.json()
    assert card["model_version"] == recommend(api).json()["model_version"]
    assert card["algorithm"] == "demographic-popularity"
    assert card["params"] and card["trained_at"] in card["model_version"]
    assert len(card["data"]["fingerprint"]) == 64
    assert card["data"]["ratings"] == 40 and card["data"]["feedback_ratings"] == 0
    assert card["versions"]["scikit-learn"] == sklearn.__version__
    # the committed ml-100k report, said to be about other data than this fixture
    assert card["metrics"]["source"] == "quality_ml100k.json"
    assert card["metrics"]["same_data"] is False
    assert card["metrics"]["summary"]["demographic-popularity"]["mean"]["ndcg"] > 0
    # and what answers buy, next to the cold-start figures
    answers = card["metrics"]["answers"]
    assert set(answers) == {
        "interview-5", "interview-10", "first-1", "first-3", "first-5", "first-10",
        "interview-5-among-rated", "interview-10-among-rated",
        "interview-5-no-opinion", "interview-10-no-opinion",
    }  # fmt: skip
    assert answers["interview-5"]["model"] > answers["interview-5"]["demographic_only"]
    # each with how much it moves over the seeds the evaluation was repeated with
    spread = answers["interview-5"]["over_seeds"]["model"]
    assert spread["min"] <= answers["interview-5"]["model"] <= spread["max"]
    assert card["metrics"]["seeds"][0] == {"seed": 42, "random_state": 0}
    assert len(card["metrics"]["seeds"]) > 1
    cold_start = card["metrics"]["summary"]["demographic-popularity"]["over_seeds"]["ndcg"]
    assert cold_start["min"] <= cold_start["mean"] <= cold_start["max"]
    assert card["file"] == {"name": "model.joblib", "size_bytes": trained.stat().st_size}
    assert str(trained.parent) not in response.content.decode()


def test_model_card_follows_a_retrained_model(api, trained):
    first = api.get("/api/model").json()
    call_command("train_model", algorithm="seed-rf")

    card = api.get("/api/model").json()

    assert card["algorithm"] == "seed-rf" and card["params"]["n_estimators"] == 10
    assert card["model_version"] != first["model_version"]


# --- Request logs --------------------------------------------------------------------


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.DEBUG, logger="recsite.requests")
    return lambda: [r for r in caplog.records if r.name == "recsite.requests"]


def as_json(record, settings) -> dict:
    """The line the configured formatter writes for a record."""
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(config.pop("()"))(**config)
    return json.loads(formatter.format(record))


def test_one_json_line_per_request_with_the_recommend_request_id(
    api, trained, request_log, settings
):
    response = recommend(api)

    (record,) = request_log()
    line = as_json(record, settings)
    body = response.json()
    assert line["level"] == "INFO" and line["logger"] == "recsite.requests"
    assert line["method"] == "POST" and line["path"] == "/api/recommend"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    signed = request_ids.verify(body["request_id"], **PROFILE)  # the id, signed for feedback
    assert line["request_id"] == signed == response["X-Request-ID"]
    assert line["model_version"] == body["model_version"]
    assert line["time"]


def test_requests_without_an_id_of_their_own_get_one(db, request_log, settings):
    first = APIClient().get("/no/such/page?secret=1")
    second = APIClient().get("/")

    lines = [as_json(record, settings) for record in request_log()]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/no/such/page", 404),
        ("/", 200),
    ]
    assert lines[0]["request_id"] == first["X-Request-ID"]
    assert lines[1]["request_id"] == second["X-Request-ID"] != lines[0]["request_id"]
    assert lines[0]["model_version"] is None


def test_logs_never_hold_the_password_token_or_body(db, request_log, settings):
    api = APIClient()
    token = api.post("/api/login", {"session_password": "test-password"}, format="json").json()[
        "access_token"
    ]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api.post("/api/feedback", {"age": 77, "occupation": "lawyer"}, format="json")

    written = "\n".join(json.dumps(as_json(record, settings)) for record in request_log())
    assert len(request_log()) == 2
    for secret in ("test-password", token, token.split(".")[2], "lawyer"):
        assert secret not in written


def test_probe_successes_log_at_debug_and_failures_at_error(db, model_path, request_log):
    APIClient().get("/healthz")
    APIClient().get("/readyz")

    assert [(r.path, r.levelname) for r in request_log()] == [
        ("/healthz", "DEBUG"),
        ("/readyz", "ERROR"),
    ]


def run_with_log_level(level: str) -> list[dict]:
    """Start Django as a server would, with LOG_LEVEL set, and read what it writes."""
    script = (
        "import django; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        "Client().get('/healthz'); Client().get('/no/such/page')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "recsite.settings_test", "LOG_LEVEL": level}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in result.stderr.splitlines()]


@pytest.mark.live
def test_log_level_comes_from_the_environment():
    debug = run_with_log_level("DEBUG")
    info = run_with_log_level("INFO")
    warning = run_with_log_level("WARNING")

    requests = [line for line in debug if line["logger"] == "recsite.requests"]
    assert [(line["path"], line["status"]) for line in requests] == [
        ("/healthz", 200),
        ("/no/such/page", 404),
    ]
    assert [line["path"] for line in info if line["logger"] == "recsite.requests"] == [
        "/no/such/page"
    ]
    assert warning == []


# --- Browsable API and the home page ---------------------------------------------------

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser's


def test_browsable_api_works_for_a_person_with_a_token(api, trained):
    page = api.get("/api/model", HTTP_ACCEPT=HTML)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "demographic-popularity" in page.content.decode()

    feedback = {**PROFILE, "movie_id": 50, "chose": True}
    posted = api.post("/api/feedback", feedback, format="json", HTTP_ACCEPT=HTML)
    assert posted.status_code == 201
    assert posted["Content-Type"].startswith("text/html")
    assert "created_at" in posted.content.decode()


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_api_clients_still_get_json(api, trained, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    ok = api.get("/api/model", **headers)
    bad = api.post("/api/recommend", {**PROFILE, "age": "30"}, format="json", **headers)
    anonymous = APIClient().get("/api/model", **headers)

    assert ok["Content-Type"] == "application/json" and ok.json()["algorithm"]
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert bad.json() == {
        "message": "The parameter 'age' must be an integer",
        "code": "invalid",
        "errors": {"age": ["The parameter 'age' must be an integer"]},
    }
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"message", "code"}


def test_errors_in_the_browsable_api_show_the_same_shape(api, trained):
    bad = api.post("/api/recommend", {**PROFILE, "age": "30"}, format="json", HTTP_ACCEPT=HTML)
    anonymous = APIClient().get("/api/model", HTTP_ACCEPT=HTML)

    assert bad.status_code == 400 and bad["Content-Type"].startswith("text/html")
    assert "The parameter &#x27;age&#x27; must be an integer" in bad.content.decode()
    assert anonymous.status_code == 401
    assert "not_authenticated" in anonymous.content.decode()


def test_home_links_to_the_docs(db):
    body = APIClient().get("/").json()

    assert "Welcome" in body["message"]
    assert body["links"]["docs"] == "http://testserver/api/docs/"
    assert body["links"]["schema"] == "http://testserver/api/schema/"
    assert APIClient().get(body["links"]["docs"]).status_code == 200
    page = APIClient().get("/", HTTP_ACCEPT=HTML).content.decode()
    assert 'href="http://testserver/api/docs/"' in page


def test_a_crash_logs_its_traceback_once_and_a_500_line(admin_user, request_log, caplog):
    api = Client(raise_request_exception=False)
    api.force_login(admin_user)
    caplog.set_level(logging.INFO, logger="django.request")

    with patch("movies.admin.MovieAdmin.get_queryset", side_effect=RuntimeError("boom")):
        response = api.get("/admin/movies/movie/")
    api.get("/admin/no/such/page/")

    assert response.status_code == 500
    crashes = [r for r in caplog.records if r.name == "django.request"]
    assert len(crashes) == 1 and crashes[0].exc_info[0] is RuntimeError  # not the 404
    assert [(r.status, r.levelname) for r in request_log()] == [(500, "ERROR"), (404, "INFO")]
