"""The published OpenAPI schema is valid and documents the API (drf-spectacular)."""

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    schema = (tmp_path / "s.yml").read_text()
    for path in ("/api/login", "/api/recommend", "/api/interview", "/api/movies", "/protected"):
        assert f"  {path}:" in schema


def test_schema_and_docs_are_served_without_a_token():
    client = APIClient()
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.fixture
def operations():
    schema = APIClient().get("/api/schema/?format=json").json()
    return {
        f"{method.upper()} {path}": operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_every_operation_is_grouped_under_one_documented_tag(operations):
    tags = [tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"]]
    grouped = {name: operation.get("tags") for name, operation in operations.items()}
    assert {name: len(names or []) for name, names in grouped.items()} == dict.fromkeys(grouped, 1)
    assert {names[0] for names in grouped.values()} == set(tags)
    assert grouped["POST /api/recommend"] == ["recommendations"]
    assert grouped["POST /api/interview"] == ["recommendations"]
    assert grouped["POST /api/feedback"] == ["feedback"]
    assert grouped["GET /api/movies"] == grouped["GET /api/movies/{movie_id}"] == ["catalogue"]


def test_every_documented_error_has_a_body_schema(operations):
    bare = [
        f"{name} {status}"
        for name, operation in operations.items()
        for status, response in operation["responses"].items()
        if status >= "400"
        and status != "414"  # gunicorn's own answer, before the app: not the error shape
        and "schema" not in response.get("content", {}).get("application/json", {})
    ]
    assert bare == []
