"""Faults, each answered with a clear message and nothing lost: a bad model
file, an artifact from another scikit-learn, load_movies and train_model killed halfway,
the database unreachable."""

import contextlib
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time

import joblib
import pytest
import sklearn
from django.db import OperationalError, connection
from django.test import override_settings
from rest_framework.test import APIClient

from coldstart.artifact import FORMAT_VERSION, MAGIC, OLD_MAGIC, ArtifactError
from harness.databases import copy_sqlite, sqlite_url, table_counts
from harness.live import (
    ROOT,
    STARTUP_SECONDS,
    current_secrets,
    production_env,
    read_line,
    serving,
    stop,
)
from recommender.model_file import load_artifact, save_artifact
from recommender.services import model_train
from recsite.access.limits import forget_process_counts
from recsite.access.tokens import issue_access_token
from recsite.views import HomeApi

VALID = {"age": 30, "gender": "M", "occupation": "programmer"}
TRAIN_HINT = "Train one with `python manage.py train_model`."
CATALOGUE_TABLES = [
    "movies_genre", "movies_movie", "movies_movie_genres", "movies_rater", "movies_rating",
]  # fmt: skip


def recommend(client):
    return client.post("/api/recommend", VALID, format="json")


def login(client, password):
    return client.post("/api/login", {"session_password": password}, format="json")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install(model, path) -> None:
    """Put a model in place the way train_model does: a complete file, renamed."""
    staged = path.with_name(f".{path.name}.staged")
    staged.write_bytes(model.read_bytes())
    os.replace(staged, path)


# --- The model file: missing, damaged, foreign, from another scikit-learn -----------------


def _truncated(good, path):
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _signed_with_another_key(good, path):
    artifact = load_artifact(good)
    with override_settings(MODEL_SIGNING_KEY="a key this server does not have"):
        save_artifact(artifact, path)


def _older_format(good, path):
    """Signed by this server, but says it is of the format before this one."""
    save_artifact({**load_artifact(good), "format": FORMAT_VERSION - 1}, path)


def _older_header(good, path):
    """As formats 1-8 began: their scorers' classes lived in a module that is gone, so the
    file is refused before anything is unpickled."""
    header, _, payload = good.read_bytes().partition(b"\n")
    path.write_bytes(OLD_MAGIC + header[len(MAGIC) :] + b"\n" + payload)


# kind: (make the bad file at path from a good model, what the log says)
BAD_MODELS = {
    "missing": (lambda good, path: None, "No model file at"),
    "empty": (lambda good, path: path.write_bytes(b""), "is empty"),
    "truncated": (_truncated, "failed its integrity check"),
    "random bytes": (lambda good, path: path.write_bytes(os.urandom(4096)), "is not a recsite"),
    "another joblib file": (
        lambda good, path: joblib.dump(load_artifact(good), path),
        "is not a recsite model artifact",
    ),
    "signed with another key": (_signed_with_another_key, "another MODEL_SIGNING_KEY"),
    "signed but incomplete": (
        lambda good, path: save_artifact({"format": FORMAT_VERSION}, path),
        "lacks scorer, catalogue, algorithm, trained_at",
    ),
    "an older format": (_older_format, f"this server reads format {FORMAT_VERSION}: retrain"),
    "an older header": (_older_header, f"format {FORMAT_VERSION - 1} or older, whose classes"),
}


@pytest.mark.parametrize("kind", BAD_MODELS)
def test_bad_model_file_is_503_saying_what_to_do_and_the_rest_serves(
    kind, trained, tmp_path, settings, api, caplog
):
    make_bad, says = BAD_MODELS[kind]
    settings.ML_MODEL_PATH = tmp_path / "served.joblib"
    make_bad(trained, settings.ML_MODEL_PATH)

    response = recommend(api)

    assert response.status_code == 503
    assert response.json()["code"] == "model_unavailable"
    assert response.json()["message"].endswith(TRAIN_HINT)
    assert str(tmp_path) not in response.json()["message"]  # no server path for clients
    assert says in caplog.text and str(settings.ML_MODEL_PATH) in caplog.text  # the log
    assert api.get("/").status_code == 200
    assert api.get("/protected").status_code == 200
    assert login(APIClient(), settings.SESSION_PASSWORD).status_code == 200


def test_model_file_fixed_or_broken_takes_effect_without_restart(
    trained, tmp_path, settings, api, monkeypatch
):
    loads = []
    monkeypatch.setattr(
        "recommender.serving.load_artifact", lambda path: loads.append(path) or load_artifact(path)
    )
    settings.ML_MODEL_PATH = served = tmp_path / "served.joblib"
    served.write_bytes(b"not a model")
    assert recommend(api).status_code == 503
    assert recommend(api).status_code == 503
    assert len(loads) == 1  # the refusal is remembered, not retried

    install(trained, served)
    assert recommend(api).status_code == 200

    served.write_bytes(trained.read_bytes()[:1000])
    assert recommend(api).json()["code"] == "model_unavailable"


def _estimator_state_from_sklearn_1_0_2(good, path, monkeypatch):
    """seed-rf holds scikit-learn estimators, whose pickled state records the version."""
    artifact = load_artifact(good)
    with monkeypatch.context() as patch:
        patch.setattr(sklearn.base, "__version__", "1.0.2")
        save_artifact(artifact, path)  # signed by this server: only the version differs


def _metadata_from_sklearn_1_0_2(good, path, monkeypatch):
    """Our own estimators record no version: the artifact's metadata does."""
    artifact = load_artifact(good)
    artifact["versions"]["scikit-learn"] = "1.0.2"
    save_artifact(artifact, path)


@pytest.mark.parametrize(
    "make_old", [_estimator_state_from_sklearn_1_0_2, _metadata_from_sklearn_1_0_2]
)
def test_artifact_from_another_scikit_learn_is_refused_naming_both_versions(
    make_old, loaded_catalogue, tmp_path, settings, api, monkeypatch, caplog
):
    good = tmp_path / "seed-rf.joblib"
    model_train(algorithm="seed-rf", output=good, progress=False)
    old = tmp_path / "old-sklearn.joblib"
    make_old(good, old, monkeypatch)

    expected = f"was written by scikit-learn 1.0.2, this server runs {sklearn.__version__}"
    with pytest.raises(ArtifactError, match=expected):
        load_artifact(old)
    settings.ML_MODEL_PATH = old
    response = recommend(api)
    assert response.status_code == 503
    assert expected in caplog.text


@pytest.fixture(scope="module")
def server_with_bad_model(migrated_sqlite, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-model")
    model = folder / "model.joblib"
    model.write_bytes(os.urandom(4096))
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=sqlite_url(copy_sqlite(migrated_sqlite, folder / "db.sqlite3")),
        ML_MODEL_PATH=str(model),
    )
    with serving(env, folder / "gunicorn.log", workers=2) as [server]:
        yield server, model


def test_gunicorn_starts_and_serves_with_a_bad_model_then_recovers(
    server_with_bad_model, trained, settings
):
    server, model = server_with_bad_model
    token = str(issue_access_token())

    for _ in range(10):
        reply = server.request("POST", "/api/recommend", VALID, token=token)
        assert reply.status == 503
        assert reply.body["message"].endswith(TRAIN_HINT)
        assert str(model) not in reply.body["message"]
    assert server.request("GET", "/").status == 200
    assert server.request("GET", "/protected", token=token).status == 200
    assert server.request("POST", "/api/login", {"session_password": "x"}).status == 401
    assert server.booted_workers() == 2, "a worker died and was replaced (crash loop)"

    install(trained, model)
    for _ in range(6):  # whichever worker answers
        reply = server.request("POST", "/api/recommend", VALID, token=token)
        assert reply.status == 200
        assert reply.body["recommendations"]
    assert server.booted_workers() == 2


# --- Killed halfway: load_movies and train_model ------------------------------------------


def holds_write_lock(db) -> bool:
    """Whether another connection is inside a write transaction on db."""
    with contextlib.closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as probe:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return True
        probe.execute("ROLLBACK")
        return False


def wait_until_writing(process, db, wal_bytes=1 << 20) -> None:
    """Until process is inside its write transaction with over wal_bytes written."""
    wal = db.with_name(f"{db.name}-wal")
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "load_movies ended before it could be killed"
        if wal.exists() and wal.stat().st_size > wal_bytes and holds_write_lock(db):
            return
        time.sleep(0.02)
    raise AssertionError("load_movies did not start writing in time")


def test_load_movies_killed_while_writing_leaves_the_previous_state(
    small_catalogue_sqlite, full_ml100k_dir, tmp_path
):
    db = copy_sqlite(small_catalogue_sqlite, tmp_path / "db.sqlite3")
    before = table_counts(db, CATALOGUE_TABLES)
    loader = subprocess.Popen(
        [sys.executable, "manage.py", "load_movies", "--source", str(full_ml100k_dir)],
        cwd=ROOT, env=production_env(secrets=current_secrets(), DATABASE_URL=sqlite_url(db)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_writing(loader, db)
        loader.kill()
        loader.wait()
    finally:
        stop(loader)

    assert table_counts(db, CATALOGUE_TABLES) == before
    assert before["movies_rating"] == 40
    with contextlib.closing(sqlite3.connect(db)) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# Trains seed-rf into argv[2] but stalls at argv[1] ("fitting" or "renaming": the new
# artifact complete in its temporary file, not yet renamed) until the test kills it.
TRAIN_UNTIL_KILLED = """
import os, sys, time
import django
django.setup()
from django.core.management import call_command
from recommender import services

def stall(stage, call):
    def stalled(*args, **kwargs):
        print(stage, flush=True)
        time.sleep(600)
        return call(*args, **kwargs)
    return stalled

if sys.argv[1] == "fitting":
    make_estimator = services.make_estimator
    def make_stalled(name):
        estimator = make_estimator(name)
        estimator.fit = stall("fitting", estimator.fit)
        return estimator
    services.make_estimator = make_stalled
else:
    os.replace = stall("renaming", os.replace)
call_command("train_model", algorithm="seed-rf", output=sys.argv[2])
"""


@pytest.mark.parametrize("stage", ["fitting", "renaming"])
def test_train_model_killed_halfway_leaves_the_previous_model_served(
    stage, small_catalogue_sqlite, trained, tmp_path, settings, api
):
    db = copy_sqlite(small_catalogue_sqlite, tmp_path / "db.sqlite3")
    settings.ML_MODEL_PATH = served = tmp_path / "served.joblib"
    install(trained, served)
    before, version = sha256(served), recommend(api).json()["model_version"]
    trainer = subprocess.Popen(
        [sys.executable, "-c", TRAIN_UNTIL_KILLED, stage, str(served)],
        cwd=ROOT, env=production_env(secrets=current_secrets(), DATABASE_URL=sqlite_url(db)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = read_line(trainer)
        assert line == stage, trainer.stderr.read()
        if stage == "renaming":  # the kill lands with the new model written in full
            [temporary] = tmp_path.glob(f".{served.name}.*.tmp")
            assert load_artifact(temporary)["algorithm"] == "seed-rf"
        trainer.kill()
        trainer.wait()
    finally:
        stop(trainer)

    assert sha256(served) == before
    response = recommend(api)
    assert response.status_code == 200
    assert response.json()["model_version"] == version


# --- The database unreachable -------------------------------------------------------------


@pytest.fixture
def database_down(db):
    """Every query from here on fails as it does when the database server is gone."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    forget_process_counts()
    with connection.execute_wrapper(refuse):
        yield
    forget_process_counts()


def test_database_down_admin_is_503(admin_client, database_down):
    response = admin_client.get("/admin/movies/movie/")
    assert response.status_code == 503
    assert response.json() == {
        "message": "The database is unavailable right now; try again in a moment.",
        "code": "database_unavailable",
    }


def test_database_error_in_an_api_view_is_503(client, monkeypatch):
    def query_fails(self, request):
        raise OperationalError("database is locked")

    monkeypatch.setattr(HomeApi, "get", query_fails)
    response = client.get("/")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"


def test_database_down_endpoints_without_sql_still_answer(trained, settings, api, database_down):
    settings.ML_MODEL_PATH = trained
    assert api.get("/").status_code == 200
    assert api.get("/protected").status_code == 200
    assert api.get("/api/schema/").status_code == 200
    assert recommend(api).status_code == 200
    assert login(APIClient(), settings.SESSION_PASSWORD).status_code == 200


def test_database_down_login_is_still_throttled(settings, database_down):
    """The shared counts are out of reach, so this process counts alone."""
    client = APIClient()
    for _ in range(10):
        assert login(client, "wrong").status_code == 401
    response = login(client, settings.SESSION_PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """gunicorn whose DATABASE_URL names a PostgreSQL server that is not there."""
    folder = tmp_path_factory.mktemp("no-database")
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=f"postgres://recsite:secret@127.0.0.1:{closed_port()}/recsite",
        ML_MODEL_PATH=str(folder / "model.joblib"),
    )
    with serving(env, folder / "gunicorn.log", workers=1) as [server]:
        yield server, folder / "model.joblib"


@pytest.mark.live
def test_gunicorn_without_database_serves_what_needs_none(
    server_without_database, trained, settings
):
    server, model = server_without_database
    install(trained, model)
    token = str(issue_access_token())

    assert server.request("GET", "/").status == 200
    assert server.request("GET", "/protected", token=token).status == 200
    password = {"session_password": settings.SESSION_PASSWORD}
    logged_in = server.request("POST", "/api/login", password)
    assert logged_in.status == 200
    assert logged_in.body["access_token"]
    recommend_reply = server.request("POST", "/api/recommend", VALID, token=token)
    assert recommend_reply.status == 200
    assert recommend_reply.body["recommendations"]

    admin = server.request("GET", "/admin/", headers={"Cookie": "sessionid=" + "a" * 32})
    assert admin.status == 503
    assert admin.body["code"] == "database_unavailable"
