"""Fixtures for the whole suite: small ml-100k data sets, a loaded catalogue, the real data.

The apps' modules are imported inside the fixtures that use them: tests/coldstart runs this
file too, without Django (`-p no:django`), where importing a model or DRF would fail.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connection, transaction

from harness.databases import copy_sqlite, sqlite_url, throwaway_postgres_database
from harness.live import current_secrets, manage, production_env
from tests.mlfixtures import write_ml100k, write_ml100k_zip

DEFAULT_ML100K_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ml-100k"

# The tiers (`make test-fast` runs unit and app): every test gets one of these markers.
# unit: coldstart's own tests, no Django. live: real processes (gunicorn, manage.py, a
# browser), known by the fixtures that make them or an explicit mark. dataset: the full
# ml-100k. scale: a million generated ratings. app: the rest, Django in this process.
LIVE_FIXTURES = {"migrated_sqlite", "small_catalogue_sqlite", "live_database", "live_server"}
DATASET_FIXTURES = {"full_ml100k_dir", "full_model"}


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(item.fixturenames)
        if fixtures & DATASET_FIXTURES:
            item.add_marker(pytest.mark.dataset)
        elif item.path.parent.name == "coldstart":
            item.add_marker(pytest.mark.unit)
        elif fixtures & LIVE_FIXTURES or item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.live)
        tiers = {"unit", "live", "dataset", "scale"} & {m.name for m in item.iter_markers()}
        if not tiers:
            item.add_marker(pytest.mark.app)


@pytest.fixture
def ml100k_dir(tmp_path) -> Path:
    """A folder holding the small data set of tests/mlfixtures.py."""
    return write_ml100k(tmp_path / "ml-100k")


@pytest.fixture
def ml100k_zip(tmp_path) -> Path:
    """The same small data set as a zip, files under `ml-100k/` like the official one."""
    return write_ml100k_zip(tmp_path / "ml-100k.zip")


@pytest.fixture
def loaded_catalogue(db, ml100k_dir):
    """The database loaded with the small data set; returns the LoadSummary."""
    from movies.services import movies_load

    return movies_load(source=str(ml100k_dir), progress=False)


@pytest.fixture
def model_path(settings, tmp_path) -> Path:
    """Where the server looks for its model during the test; nothing is there yet."""
    settings.ML_MODEL_PATH = tmp_path / "models" / "model.joblib"
    return settings.ML_MODEL_PATH


def train_once(django_db_blocker, source: Path, output: Path) -> Path:
    """Train the default model on ``source`` into ``output``, the database left as it was:
    an artifact that tests copy rather than train again (training is most of their time)."""
    from movies.services import movies_load
    from recommender.services import model_train

    with django_db_blocker.unblock(), transaction.atomic():
        movies_load(source=str(source), progress=False)
        model_train(output=output, progress=False)
        transaction.set_rollback(True)
    return output


@pytest.fixture(scope="session")
def small_model(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """The default model trained once on the small data set."""
    folder = tmp_path_factory.mktemp("small-model")
    return train_once(django_db_blocker, write_ml100k(folder / "ml-100k"), folder / "model.joblib")


@pytest.fixture
def trained(small_model, loaded_catalogue, model_path) -> Path:
    """The default model trained on the small data set, at the path the server reads."""
    model_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(small_model, model_path)
    return model_path


@pytest.fixture
def api():
    """An API client holding a valid access token, as a logged-in client would."""
    from rest_framework.test import APIClient

    from recsite.access.tokens import issue_access_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token()}")
    return client


@pytest.fixture
def throttle_rates(settings):
    """Sets throttle rates for one test, as the environment would: throttle_rates(login="3/min")."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


@pytest.fixture(scope="session")
def full_ml100k_dir() -> Path:
    """The real ml-100k folder: $ML100K_DIR, else ../shared/data/ml-100k beside the repo.

    Every development and CI machine has it, so its absence is a failure, not a skip.
    """
    path = Path(os.environ.get("ML100K_DIR") or DEFAULT_ML100K_DIR)
    if not (path / "u.data").is_file():
        pytest.fail(
            f"The ml-100k data set is not at {path}. Unpack "
            "https://files.grouplens.org/datasets/movielens/ml-100k.zip there, or set "
            "ML100K_DIR to the folder holding u.data."
        )
    return path


@pytest.fixture(scope="session")
def full_model(full_ml100k_dir, django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """The default model trained once on the real ml-100k."""
    output = tmp_path_factory.mktemp("full-model") / "model.joblib"
    return train_once(django_db_blocker, full_ml100k_dir, output)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite file for real processes (manage.py, gunicorn); copy it with
    harness.databases.copy_sqlite rather than writing to it."""
    path = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
    env = production_env(secrets=current_secrets(), DATABASE_URL=sqlite_url(path))
    manage(env, "migrate", "--noinput")
    return path


@pytest.fixture(scope="session")
def small_catalogue_sqlite(migrated_sqlite, tmp_path_factory) -> Path:
    """A SQLite file holding the small data set, loaded by a real `manage.py load_movies`;
    copy it with harness.databases.copy_sqlite too."""
    folder = tmp_path_factory.mktemp("small-catalogue")
    path = copy_sqlite(migrated_sqlite, folder / "db.sqlite3")
    env = production_env(secrets=current_secrets(), DATABASE_URL=sqlite_url(path))
    manage(env, "load_movies", "--source", str(write_ml100k(folder / "ml-100k")))
    return path


@pytest.fixture(scope="module")
def live_database(small_catalogue_sqlite, tmp_path_factory):
    """The URL of a database for live servers, holding the small data set, of the kind the
    suite runs on: a SQLite file, or under `make test-postgres` a PostgreSQL database of its
    own on the suite's server (dropped afterwards)."""
    folder = tmp_path_factory.mktemp("live-database")
    suite_database = connection.settings_dict
    if suite_database["ENGINE"] != "django.db.backends.postgresql":
        yield sqlite_url(copy_sqlite(small_catalogue_sqlite, folder / "db.sqlite3"))
        return
    with throwaway_postgres_database(suite_database) as url:
        env = production_env(secrets=current_secrets(), DATABASE_URL=url)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_movies", "-v0", "--source", str(write_ml100k(folder / "ml-100k")))
        yield url
