"""Security: nothing unpickled before its HMAC checks, login without hints and
throttled across workers and replicas, production settings that pass check --deploy, no
stack trace in any response, a Content-Security-Policy on every page, oversized bodies
refused. Token attacks: test_auth_api.py; the pages under the policy in a real browser:
test_browser.py."""

import contextlib
import io
import json
import re
import runpy
import secrets
import sqlite3
import subprocess

import environ
import joblib
import pytest
from django.contrib.admin.sites import AdminSite
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings
from django.test.client import FakePayload
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from coldstart.artifact import ArtifactError
from harness.databases import copy_sqlite, sqlite_url
from harness.live import ROOT, current_secrets, manage, production_env, serving
from recommender.model_file import load_artifact, save_artifact
from recsite.access.tokens import issue_access_token
from recsite.views import HomeApi

PASSWORD = "test-password"
VALID = {"age": 30, "gender": "M", "occupation": "programmer"}
SERVER_ERROR = {"message": "The server failed to answer this request.", "code": "server_error"}
TOO_LARGE = {
    "message": "The request body is too large: the limit is 16384 bytes.",
    "code": "request_too_large",
}


def login(client, password):
    return client.post("/api/login", {"session_password": password}, format="json")


# --- The artifact: verified before anything is unpickled ----------------------------------


class WritesAFile:
    """Unpickling this runs code: it creates the file `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


def evil_payload(marker) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(WritesAFile(marker), buffer)
    return buffer.getvalue()


def test_the_evil_pickle_does_run_code_when_loaded_unchecked(tmp_path):
    """So the tests below, where the file never appears, can fail."""
    marker = tmp_path / "pwned"
    joblib.load(io.BytesIO(evil_payload(marker)))
    assert marker.read_text() == "pwned"


def _foreign(path, marker):
    path.write_bytes(evil_payload(marker))


def _tampered(path, marker):
    """A file this server signed, its payload swapped for the evil one."""
    save_artifact({"format": 1}, path)
    header = path.read_bytes().partition(b"\n")[0]
    path.write_bytes(header + b"\n" + evil_payload(marker))


def _signed_with_another_key(path, marker):
    with override_settings(MODEL_SIGNING_KEY="an attacker's key"):
        save_artifact(WritesAFile(marker), path)


@pytest.mark.parametrize("make_evil", [_foreign, _tampered, _signed_with_another_key])
def test_evil_artifact_is_refused_before_any_of_its_code_runs(make_evil, tmp_path, settings):
    marker = tmp_path / "pwned"
    settings.ML_MODEL_PATH = evil = tmp_path / "model.joblib"
    make_evil(evil, marker)

    with pytest.raises(ArtifactError):
        load_artifact(evil)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token()}")
    assert client.post("/api/recommend", VALID, format="json").status_code == 503

    assert not marker.exists()


# --- Login and tokens ----------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_passwords_get_the_same_answer_however_close():
    client = APIClient()
    near_misses = [
        PASSWORD[:-1], PASSWORD + "x", PASSWORD.upper(), "x" + PASSWORD[1:],
        PASSWORD + "\n", "something else entirely", "p" * 1024,
    ]  # fmt: skip
    answers = {(r.status_code, r.content) for r in (login(client, p) for p in near_misses)}
    assert answers == {(401, b'{"message":"Invalid session password.","code":"invalid_password"}')}


def test_signed_token_without_the_password_claim_is_401():
    token = AccessToken()
    token["sub"] = "session"  # our key and type, but no fingerprint of the session password
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/protected").status_code == 401


@pytest.mark.django_db
def test_login_counts_are_kept_in_the_database():
    login(APIClient(), "wrong")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM common_recenthits")
        assert cursor.fetchone()[0] == 2  # the client's attempts, all clients' failures


@pytest.fixture(scope="module")
def replicas(migrated_sqlite, tmp_path_factory):
    """Two gunicorn instances of two workers each on one SQLite database."""
    folder = tmp_path_factory.mktemp("replicas")
    db = copy_sqlite(migrated_sqlite, folder / "db.sqlite3")
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=sqlite_url(db),
        ML_MODEL_PATH=str(folder / "none.joblib"),
    )
    with serving(env, folder / "a.log", folder / "b.log", workers=2) as (a, b):
        yield a, b, db


def test_login_throttle_counts_are_shared_by_workers_and_replicas(replicas):
    """Ten attempts spread over four processes: only shared counts reach the limit."""
    a, b, db = replicas
    with contextlib.closing(sqlite3.connect(db)) as shared:
        shared.execute("DELETE FROM common_recenthits")
        shared.commit()
    for server in [a, b] * 5:
        assert server.request("POST", "/api/login", {"session_password": "wrong"}).status == 401

    for server in (a, b):
        reply = server.request("POST", "/api/login", {"session_password": PASSWORD})
        assert reply.status == 429
        assert reply.body["code"] == "throttled"
        assert int(reply.headers["Retry-After"]) > 0


# --- Production settings ------------------------------------------------------------------


@pytest.fixture
def settings_module(monkeypatch, tmp_path):
    """Runs recsite/settings.py afresh under the environment the test sets, no .env."""
    for name in (
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "SECURE_HSTS_SECONDS", "MAX_REQUEST_BODY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "db.sqlite3"))
    monkeypatch.setattr(environ.Env, "read_env", lambda *args, **kwargs: None)
    return lambda: runpy.run_path(str(ROOT / "recsite" / "settings.py"))


def test_production_is_the_default_and_https_only(settings_module, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("SESSION_PASSWORD", "a password")
    production = settings_module()
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert production["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 16 * 1024


def test_production_without_secrets_does_not_start(settings_module, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("SESSION_PASSWORD")
    with pytest.raises(ImproperlyConfigured, match="Set SECRET_KEY and SESSION_PASSWORD"):
        settings_module()


def test_admin_cookies_are_secure_whenever_debug_is_off(settings_module, monkeypatch):
    """A TLS proxy that redirects itself: the redirect goes off, the cookies stay Secure."""
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("SESSION_PASSWORD", "a password")
    monkeypatch.setenv("SECURE_SSL_REDIRECT", "0")
    behind_a_proxy = settings_module()
    assert behind_a_proxy["SESSION_COOKIE_SECURE"] and behind_a_proxy["CSRF_COOKIE_SECURE"]

    monkeypatch.setenv("SECURE_COOKIES", "0")
    plain_http = settings_module()
    assert not plain_http["SESSION_COOKIE_SECURE"] and not plain_http["CSRF_COOKIE_SECURE"]


def test_make_serve_turns_secure_cookies_off_for_plain_http():
    recipe = subprocess.run(
        ["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-0}" in recipe
    assert "SECURE_COOKIES=${SECURE_COOKIES:-0}" in recipe


def test_development_without_secret_key_gets_a_random_one_per_process(settings_module, monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.delenv("SECRET_KEY")
    first, second = settings_module(), settings_module()
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 50 and first["SECRET_KEY_IS_RANDOM"]
    with override_settings(SECRET_KEY_IS_RANDOM=True):
        assert "recsite.W002" in {message.id for message in run_checks()}


def test_a_random_secret_key_starting_with_a_dollar_signs_models_as_it_is(
    settings_module, monkeypatch
):
    # django-environ reads "$NAME" as the name of another variable; a random key may start so.
    key = "$" + secrets.token_urlsafe(50)
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setattr("django.core.management.utils.get_random_secret_key", lambda: key)
    development = settings_module()
    assert development["MODEL_SIGNING_KEY"] == development["SECRET_KEY"] == key


@pytest.mark.parametrize("key", ["", " ", "\t \n"], ids=["empty", "space", "whitespace"])
def test_empty_or_blank_model_signing_key_is_refused_at_start(settings_module, monkeypatch, key):
    monkeypatch.setenv("MODEL_SIGNING_KEY", key)
    with pytest.raises(ImproperlyConfigured, match="MODEL_SIGNING_KEY is set but empty or blank"):
        settings_module()


@pytest.mark.parametrize(("password", "warned"), [("x" * 15, True), ("x" * 16, False)])
def test_check_deploy_warns_of_a_short_session_password(settings, password, warned):
    settings.SESSION_PASSWORD = password
    found = {message.id for message in run_checks(include_deployment_checks=True)}
    assert ("recsite.W001" in found) is warned
    assert "recsite.W001" not in {message.id for message in run_checks()}  # deploy only


@pytest.mark.live
def test_production_settings_pass_check_deploy(tmp_path):
    env = production_env(
        secrets={
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SESSION_PASSWORD": secrets.token_urlsafe(16),
        },
        DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"),
        ALLOWED_HOSTS="recsite.example.com",
    )
    del env["SECURE_SSL_REDIRECT"], env["SECURE_COOKIES"]  # production: HTTPS, Secure cookies
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_https_is_enforced_when_redirect_is_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production's default; the tests serve plain HTTP

    plain = client.get("/admin/login/")
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://testserver/admin/login/"

    secure = client.get("/admin/login/", secure=True)
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


# --- No stack trace, ever ------------------------------------------------------------------


def explode(*args, **kwargs):
    raise RuntimeError("internal detail: /srv/recsite/var/model.joblib")


def test_unhandled_error_in_an_api_view_is_our_json_without_traceback(client, monkeypatch):
    monkeypatch.setattr(HomeApi, "get", explode)
    response = client.get("/")
    assert response.status_code == 500
    assert response.json() == SERVER_ERROR


def test_unhandled_error_outside_the_api_is_our_json_without_traceback(monkeypatch):
    monkeypatch.setattr(AdminSite, "each_context", explode)
    response = Client(raise_request_exception=False).get("/admin/login/")
    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert b"internal detail" not in response.content


def test_unknown_path_is_404_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found"}


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/no/such/thing", BROWSER_ACCEPT),
        ("/api/no/such/thing", "*/*"),
        ("/no/such/page", "application/json"),
        ("/no/such/page", "*/*"),  # curl's
    ],
    ids=["api-from-a-browser", "api", "json-client", "curl"],
)
def test_unknown_path_is_404_json_for_api_clients_with_debug_on(client, settings, path, accept):
    """Not Django's technical 404 page, which lists every URL pattern."""
    settings.DEBUG = True
    response = client.get(path, HTTP_ACCEPT=accept)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found"}
    assert b"api/recommend" not in response.content


def test_debug_404_page_is_left_to_browsers_outside_the_api(client, settings):
    settings.DEBUG = True
    response = client.get("/no/such/page", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- Content-Security-Policy ---------------------------------------------------------------

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Inline code: a <script> with no src (JSON data aside), a <style> element, a style attribute.
INLINE_CODE = re.compile(rb"<script(?![^>]*\b(?:src=|type=\"application/json\"))|<style|\sstyle=")


def csp_of(response) -> dict[str, str]:
    directives = (
        part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";")
    )
    return {name: sources for name, _, sources in directives}


def debug_404_page(client, settings):
    settings.DEBUG = True
    return client.get("/no/such/page", HTTP_ACCEPT=BROWSER_ACCEPT)


def debug_500_page(client, settings):
    settings.DEBUG = True
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AdminSite, "each_context", explode)
        return Client(raise_request_exception=False).get("/admin/login/")


def csrf_failure_page(client, settings):
    return Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})


PAGES = {
    "try": lambda client, settings: client.get("/try/"),
    "admin": lambda client, settings: client.get("/admin/login/"),
    "swagger-ui": lambda client, settings: client.get("/api/docs/"),
    "browsable-api": lambda client, settings: client.get("/", HTTP_ACCEPT=BROWSER_ACCEPT),
    "debug-404": debug_404_page,
    "debug-500": debug_500_page,
    "csrf-failure": csrf_failure_page,
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_every_html_page_carries_the_content_security_policy(client, settings, page):
    response = page(client, settings)
    assert response["Content-Type"].startswith("text/html")
    assert csp_of(response) == CSP


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["try", "admin", "swagger-ui", "browsable-api"])
def test_the_pages_need_no_inline_script_or_style(client, settings, name):
    """What the policy refuses; the browser test sees the pages work without it."""
    response = PAGES[name](client, settings)
    assert response.status_code == 200
    assert INLINE_CODE.findall(response.content) == []


def test_swagger_ui_loads_its_start_up_script_from_a_url(client):
    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?script=)"', page)[1]
    script = client.get(script_url)
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


@pytest.mark.parametrize("path", ["/", "/api/schema/?format=json", "/api/docs/?script="])
def test_responses_other_than_html_carry_no_policy(client, path):
    response = client.get(path)
    assert not response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" not in response


# --- Request size --------------------------------------------------------------------------


def body_of(size: int) -> str:
    """A login body of exactly `size` bytes."""
    return json.dumps({"session_password": "x" * (size - len('{"session_password": ""}'))})


@pytest.mark.parametrize("path", ["/api/login", "/api/recommend", "/admin/login/"])
def test_body_over_the_limit_is_413_before_any_view(client, path):
    response = client.post(path, body_of(16 * 1024 + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


@pytest.mark.django_db
def test_body_at_the_limit_is_read(client):
    response = client.post("/api/login", body_of(16 * 1024), content_type="application/json")
    assert response.status_code == 400  # parsed and validated: the password is too long
    assert list(response.json()["errors"]) == ["session_password"]


def test_body_limit_follows_settings(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post("/api/login", body_of(101), content_type="application/json")
    assert response.status_code == 413
    assert "the limit is 100 bytes" in response.json()["message"]


@pytest.mark.django_db
def test_body_that_stops_arriving_is_408_not_500(client, monkeypatch):
    # What reading the body raises once gunicorn's socket timeout runs out.
    def stalled(*args, **kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(FakePayload, "read", stalled)
    response = client.post("/api/login", body_of(100), content_type="application/json")
    assert response.status_code == 408
    assert response.json() == {
        "message": "The request body did not arrive in time.",
        "code": "request_timeout",
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_413_over_http(replicas, chunked):
    server = replicas[0]
    reply = server.request("POST", "/api/login", body_of(20_000).encode(), chunked=chunked)
    assert reply.status == 413
    assert reply.body == TOO_LARGE


def test_chunked_body_within_the_limit_is_read(replicas):
    server = replicas[0]
    body = {**VALID, "age": "thirty"}
    reply = server.request(
        "POST", "/api/recommend", body, token=str(issue_access_token()), chunked=True
    )
    assert reply.status == 400
    assert reply.body["message"] == "The parameter 'age' must be an integer"
