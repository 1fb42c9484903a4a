"""Writes of the recommender: a model trained on the ratings in the database, saved as the
artifact. Serving never imports this module (it imports scikit-learn, SciPy and pandas)."""

import platform
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from django.conf import settings
from tqdm import tqdm

from coldstart.artifact import FORMAT_VERSION
from coldstart.estimators import ALGORITHMS, DEFAULT_ALGORITHM, make_estimator
from coldstart.evaluation import data_fingerprint
from recommender.model_file import save_artifact
from recommender.reports import recorded_evaluation
from recommender.selectors import feedback_rating_frame, movie_catalogue, rating_frame


class TrainingError(Exception):
    """Training cannot start: an unknown algorithm or an empty database."""


def library_versions() -> dict:
    # From the installed packages' metadata: importing a library for its version is slow.
    libraries = ("scikit-learn", "numpy", "scipy", "pandas", "joblib")
    return {"python": platform.python_version(), **{name: version(name) for name in libraries}}


def model_train(
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    output: Path | None = None,
    progress: bool | None = None,
    with_feedback: bool = False,
) -> dict:
    """Fit ``algorithm`` on every stored rating and save the artifact; returns its metadata.

    ``with_feedback`` adds the API's feedback as extra ratings (see feedback_rating_frame).
    """
    if algorithm not in ALGORITHMS:
        raise TrainingError(
            f"Unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}."
        )
    output = Path(output or settings.ML_MODEL_PATH)
    steps = tqdm(
        total=3, desc=f"train {algorithm}", disable=None if progress is None else not progress
    )
    with steps:
        steps.set_postfix_str("reading ratings")
        frame = rating_frame()
        if frame.empty:
            raise TrainingError("There are no ratings in the database: run load_movies first.")
        feedback_ratings = 0
        if with_feedback:
            feedback = feedback_rating_frame(first_rater_id=int(frame["rater_id"].max()) + 1)
            feedback_ratings = len(feedback)
            if feedback_ratings:
                frame = pd.concat([frame, feedback], ignore_index=True)
        steps.update()
        steps.set_postfix_str("fitting")
        started = time.perf_counter()
        estimator = make_estimator(algorithm).fit(frame, frame["score"])
        fit_seconds = time.perf_counter() - started
        steps.update()
        steps.set_postfix_str("writing")
        fingerprint = data_fingerprint(frame)
        n_ratings, n_raters = len(frame), int(frame["rater_id"].nunique())
        del frame  # not needed to write the artifact: memory at scale peaks here
        artifact = {
            "format": FORMAT_VERSION,
            "scorer": estimator.scorer_,
            "catalogue": movie_catalogue(estimator.movie_ids_),
            "algorithm": algorithm,
            "params": estimator.get_params(),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fit_seconds": round(fit_seconds, 3),
            "data": {
                "fingerprint": fingerprint,
                "ratings": n_ratings,
                "raters": n_raters,
                "movies": len(estimator.movie_ids_),
                "feedback_ratings": feedback_ratings,
            },
            "versions": library_versions(),
            "metrics": recorded_evaluation(algorithm, fingerprint),
        }
        artifact["size_bytes"] = save_artifact(artifact, output)
        steps.update()
    artifact["path"] = str(output)
    return artifact
