"""Ranking for requests: the artifact loaded once per process, the whole catalogue scored
in one vectorised step, no SQL on the hot path."""

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from rest_framework.exceptions import APIException

from recommender.artifact import ArtifactError, load_artifact

UNKNOWN_TITLE = "unknown"
MAX_RECS = 100


class ModelUnavailable(APIException):
    status_code = 503
    default_code = "model_unavailable"
    default_detail = "No trained model is available."


@dataclass(frozen=True)
class Profile:
    age: int
    gender: str
    occupation: str


class Recommender:
    """An artifact ready to serve: metadata in arrays, ranking without Python loops over
    the catalogue."""

    def __init__(self, artifact: dict):
        self.artifact = artifact
        self.estimator = artifact["estimator"]
        catalogue = artifact["catalogue"]
        self.movie_ids = catalogue["movie_ids"]
        self.titles = catalogue["titles"]
        self.years = catalogue["years"]
        self.genres = catalogue["genres"]
        self.version = f"{artifact['algorithm']}@{artifact['trained_at']}"
        # Titles ml-100k lists under two ids are served once, and the placeholder never.
        first_of_title = {}
        for index, title in enumerate(self.titles):
            first_of_title.setdefault(title, index)
        self.title_group = np.array([first_of_title[t] for t in self.titles])
        self.n_duplicates = len(self.titles) - len(first_of_title)
        self.servable = np.array([t != UNKNOWN_TITLE for t in self.titles])
        self._top = lru_cache(maxsize=8192)(self._top_uncached)

    def scores(self, profile: Profile) -> np.ndarray:
        row = {"age": profile.age, "gender": profile.gender, "occupation": profile.occupation}
        return np.asarray(self.estimator.score_profiles([row])[0], dtype=np.float64)

    def _top_uncached(self, profile: Profile) -> tuple[tuple[int, float], ...]:
        """The best MAX_RECS distinct titles for a profile: (catalogue index, score)."""
        scores = np.where(self.servable, self.scores(profile), -np.inf)
        wanted = min(MAX_RECS + self.n_duplicates, len(scores))
        candidates = np.argpartition(-scores, wanted - 1)[:wanted]
        # Best first; equal scores go to the lower movie id (the catalogue is id-ordered).
        candidates = candidates[np.lexsort((candidates, -scores[candidates]))]
        top, seen = [], set()
        for index in candidates:
            group = self.title_group[index]
            if group in seen or not np.isfinite(scores[index]):
                continue
            seen.add(group)
            top.append((int(index), float(scores[index])))
            if len(top) == MAX_RECS:
                break
        return tuple(top)

    def recommend(self, profile: Profile, max_recs: int) -> list[dict]:
        return [
            {
                "id": int(self.movie_ids[index]),
                "title": self.titles[index],
                "year": self.years[index],
                "genres": self.genres[index],
                "score": round(score, 6),
            }
            for index, score in self._top(profile)[:max_recs]
        ]


_lock = threading.Lock()
_loaded: dict = {"key": None, "recommender": None, "error": None}


def get_recommender() -> Recommender:
    """The recommender for ML_MODEL_PATH, reloaded only when the file changes on disk."""
    path = Path(settings.ML_MODEL_PATH)
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = (str(path), None, None)
    if _loaded["key"] != key:
        with _lock:
            if _loaded["key"] != key:
                try:
                    _loaded.update(recommender=Recommender(load_artifact(path)), error=None)
                except ArtifactError as exc:
                    _loaded.update(recommender=None, error=str(exc))
                _loaded["key"] = key
    if _loaded["recommender"] is None:
        raise ModelUnavailable(
            f"No model can be served: {_loaded['error']} "
            "Train one with `python manage.py train_model`."
        )
    return _loaded["recommender"]
