"""The served model: the artifact at ML_MODEL_PATH loaded once per process into a
coldstart Recommender, reloaded when the file changes, and a 503 when none can be served."""

import logging
import os
import threading
from pathlib import Path

from django.conf import settings
from rest_framework.exceptions import APIException

from coldstart.artifact import ArtifactError
from coldstart.serving import Recommender, all_profiles
from recommender.model_file import load_artifact

logger = logging.getLogger("recsite.model")

# The answers one request may carry: /api/recommend's, /api/interview's, the /try/ page's.
MAX_ANSWERS = 50
# Enough for the default model (docs/performance.md); a slow model ranks what it can in it.
WARM_UP_SECONDS = 5.0


class ModelUnavailable(APIException):
    status_code = 503
    default_code = "model_unavailable"
    default_detail = "No trained model is available."


_lock = threading.Lock()
_loaded: dict = {"key": None, "recommender": None, "error": None}


def get_recommender() -> Recommender:
    """The recommender for ML_MODEL_PATH, reloaded only when the file changes on disk."""
    path = settings.ML_MODEL_PATH
    try:
        stat = os.stat(path)
        key: tuple[object, ...] = (path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = (path, None, None)
    if _loaded["key"] != key:
        with _lock:
            if _loaded["key"] != key:
                try:
                    _loaded.update(recommender=Recommender(load_artifact(Path(path))), error=None)
                except ArtifactError as exc:
                    # Once per change of the file: the details (and its path) are for the
                    # operator's log, not for API clients.
                    logger.error("No model can be served: %s", exc)
                    _loaded.update(recommender=None, error=str(exc))
                _loaded["key"] = key
    if _loaded["recommender"] is None:
        raise ModelUnavailable(
            "No model can be served right now; the server's log says why. "
            "Train one with `python manage.py train_model`."
        )
    return _loaded["recommender"]


def warm_up(seconds: float = WARM_UP_SECONDS) -> int:
    """Load the served model and rank every profile before requests come (at start-up;
    gunicorn's preload_app then shares the work with every worker). Returns how many."""
    return get_recommender().warm_up(all_profiles(), seconds=seconds)


def served_recommender() -> Recommender | None:
    """The served recommender, or None when no model can be served (validation that needs
    the catalogue then lets the view answer 503)."""
    try:
        return get_recommender()
    except ModelUnavailable:
        return None


def served_genres() -> tuple[str, ...] | None:
    """Genre names of the served catalogue, or None when no model can be served."""
    recommender = served_recommender()
    return None if recommender is None else recommender.genre_names
