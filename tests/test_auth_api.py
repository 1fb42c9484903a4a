"""Login, tokens and the protected endpoints (SPEC §4)."""

import json
import time
from datetime import timedelta

import jwt
import pytest
from jwt.utils import base64url_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from recsite.access import tokens
from recsite.access.tokens import issue_access_token

PASSWORD = "test-password"


pytestmark = pytest.mark.django_db  # login counts live there: each test starts with none


@pytest.fixture
def client():
    return APIClient()


def login(client, body):
    return client.post("/api/login", body, format="json")


def bearer(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_home_is_open_and_welcomes(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome" in response.json()["message"]


def test_login_with_right_password_issues_a_token(client):
    response = login(client, {"session_password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 24 * 3600
    assert bearer(client, body["access_token"]).get("/protected").json() == {"message": "Protected"}


def test_login_with_wrong_password_is_401(client):
    response = login(client, {"session_password": "nope"})
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid session password.", "code": "invalid_password"}


def test_login_without_password_is_400(client):
    response = login(client, {})
    assert response.status_code == 400
    assert response.json()["message"] == "Missing parameter: 'session_password'"
    assert response.json()["errors"] == {
        "session_password": ["Missing parameter: 'session_password'"]
    }


@pytest.mark.parametrize("body", ["[]", '"text"', "3", "null", "true"])
def test_login_body_that_is_not_an_object_is_400(client, body):
    response = client.post("/api/login", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing JSON request")


def test_login_with_malformed_json_is_400(client):
    response = client.post("/api/login", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["message"].startswith("Missing JSON request")


@pytest.mark.parametrize("password", [123, True, ["x"], {"a": 1}, None])
def test_login_password_must_be_a_string(client, password):
    response = login(client, {"session_password": password})
    assert response.status_code == 400
    assert "session_password" in response.json()["errors"]


def test_login_refuses_unknown_keys(client):
    response = login(client, {"session_password": PASSWORD, "user": "x"})
    assert response.status_code == 400
    assert response.json()["message"] == "The only valid parameters are: 'session_password'"


def test_login_is_throttled_with_retry_after(client, settings):
    for _ in range(10):
        assert login(client, {"session_password": "wrong"}).status_code == 401
    response = login(client, {"session_password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["/protected", "/api/protected"])
def test_protected_without_token_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_expired_token_is_401(client, settings):
    token = issue_access_token()
    token.set_exp(lifetime=timedelta(seconds=-1))
    response = bearer(client, str(token)).get("/protected")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_token_lifetime_follows_settings(client, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(seconds=5)}
    body = login(client, {"session_password": PASSWORD}).json()
    assert body["expires_in"] == 5
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 5


def test_tampered_token_is_401(client):
    token = str(issue_access_token())
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    assert bearer(client, tampered).get("/protected").status_code == 401


def test_token_signed_with_another_secret_is_401(client):
    claims = {**issue_access_token().payload}
    forged = jwt.encode(claims, "another-secret-of-sufficient-length-123456", algorithm="HS256")
    assert bearer(client, forged).get("/protected").status_code == 401


def test_alg_none_token_is_401(client):
    claims = {**issue_access_token().payload}
    forged = jwt.encode(claims, None, algorithm="none")
    assert bearer(client, forged).get("/protected").status_code == 401


def test_refresh_token_is_not_an_access_token(client):
    refresh = RefreshToken()
    refresh["sub"] = "session"
    assert bearer(client, str(refresh)).get("/protected").status_code == 401


def test_changing_the_session_password_retires_old_tokens(client, settings):
    token = login(client, {"session_password": PASSWORD}).json()["access_token"]
    settings.SESSION_PASSWORD = "a-new-password"
    response = bearer(client, token).get("/protected")
    assert response.status_code == 401
    assert "previous session password" in response.json()["message"]


def test_a_token_used_before_is_refused_once_it_expires(client):
    token = issue_access_token()
    token["exp"] = int(time.time()) + 2  # one to two seconds from now
    bearer(client, str(token))
    assert client.get("/protected").status_code == 200  # verified, and remembered
    time.sleep(token["exp"] - time.time() + 0.1)
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_token_used_before_is_refused_after_the_password_changes(client, settings):
    token = login(client, {"session_password": PASSWORD}).json()["access_token"]
    assert bearer(client, token).get("/protected").status_code == 200
    settings.SESSION_PASSWORD = "a-new-password"
    response = client.get("/protected")
    assert response.status_code == 401
    assert "previous session password" in response.json()["message"]


def test_a_token_used_before_does_not_vouch_for_a_copy_with_a_later_expiry(client):
    token = str(issue_access_token())
    assert bearer(client, token).get("/protected").status_code == 200
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    later = json.dumps({**claims, "exp": claims["exp"] + 3600}).encode()
    forged = f"{header}.{base64url_encode(later).decode()}.{signature}"
    assert bearer(client, forged).get("/protected").status_code == 401


def test_remembered_tokens_stay_bounded(client, monkeypatch):
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_MAX", 3)
    for _ in range(10):
        assert bearer(client, str(issue_access_token())).get("/protected").status_code == 200
        assert len(tokens._verified) <= 3


def test_authenticated_request_runs_no_query(db, client, django_assert_num_queries):
    token = str(issue_access_token())
    bearer(client, token)
    with django_assert_num_queries(0):
        assert client.get("/protected").status_code == 200
