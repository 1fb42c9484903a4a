"""The model artifact: one signed joblib file that says what it is.

``joblib.load`` runs code from the file, so the file carries an HMAC of its payload made
with a server key (passed in: the web app keeps it in its settings), and nothing is
unpickled before that HMAC checks out. A file written
by another scikit-learn is refused too. Writes go to a temporary file that is renamed into
place, so a killed training never leaves half a file.
"""

import hashlib
import hmac
import io
import os
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib

HEADER = b"RECSITE-ARTIFACT/"
MAGIC = HEADER + b"3 "
# The header of format 9; formats 1-8 began with "/1 ". Their scorers' classes are gone
# (moved modules, other fields): such a file cannot be unpickled here, so any header but
# this format's is refused before trying.
OLD_MAGIC = HEADER + b"2 "
# 2: DemographicPopularity has `contrast` instead of `global_weight`.
# 3: the artifact holds the estimator's numpy-only scorer, not the estimator.
# 4: the default's scorer also holds the interview (questions and the answers' model).
# 5: the interview also holds per-prefix regressions over the answers' rating levels.
# 6: the demographic scorer keeps positive ratings as counts per demographic cell.
# 7: the interview also holds a regression for volunteered ratings.
# 8: that regression also reads the genres of the rated movies, and the factor model has
#    two more blocks (loved, disliked).
# 9: the scorers' classes live in the coldstart package (their pickled paths changed).
# 10: the interview's state is frozen dataclasses in coldstart/answers.py, its settings
#     named (Blend, PrefixMix, RegressionMix).
FORMAT_VERSION = 10
# What serving reads; checked at load so that a bad file is a clear refusal, not a crash.
REQUIRED_KEYS = ("scorer", "catalogue", "algorithm", "trained_at", "versions")
# Serving does not import scikit-learn (see coldstart/scoring.py): ask its metadata.
SKLEARN_VERSION = version("scikit-learn")


class ArtifactError(Exception):
    """The artifact is missing, damaged, foreign or from other library versions."""


def _signing_key(key: str) -> bytes:
    return hashlib.sha256(b"recsite-artifact:" + key.encode()).digest()


def _signature(payload: bytes | memoryview, key: str) -> bytes:
    return hmac.new(_signing_key(key), payload, hashlib.sha256).hexdigest().encode()


def save_artifact(artifact: dict[str, Any], path: Path, *, key: str) -> int:
    """Write the artifact atomically; returns its size in bytes."""
    buffer = io.BytesIO()
    joblib.dump(artifact, buffer, compress=3)
    payload = buffer.getbuffer()  # a view: the compressed bytes are not copied
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + _signature(payload, key) + b"\n")
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path.stat().st_size


def load_artifact(path: Path, *, key: str) -> dict[str, Any]:
    """Verify, then unpickle; refuses anything not signed with ``key``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"No model file at {path}.") from None
    except OSError as exc:
        raise ArtifactError(f"The model file {path} cannot be read: {exc.strerror}.") from None
    if not data:
        raise ArtifactError(f"The model file {path} is empty.")
    header, _, payload = data.partition(b"\n")
    if header.startswith(HEADER) and not header.startswith(MAGIC):
        raise ArtifactError(
            f"{path} is in artifact format {FORMAT_VERSION - 1} or older, whose classes this "
            "server no longer has: retrain the model."
        )
    if not header.startswith(MAGIC):
        raise ArtifactError(f"{path} is not a recsite model artifact.")
    if not hmac.compare_digest(header[len(MAGIC) :], _signature(payload, key)):
        raise ArtifactError(
            f"{path} failed its integrity check: it is damaged, or was signed with another "
            "MODEL_SIGNING_KEY."
        )
    try:
        with warnings.catch_warnings():
            # scikit-learn's InconsistentVersionWarning, for a scorer that is an estimator.
            warnings.filterwarnings("error", "Trying to unpickle estimator", UserWarning)
            artifact = joblib.load(io.BytesIO(payload))
    except UserWarning as exc:
        written = getattr(exc, "original_sklearn_version", "another version")
        raise ArtifactError(_other_sklearn(path, written)) from None
    except Exception as exc:
        raise ArtifactError(f"{path} cannot be loaded: {exc}.") from None
    if not isinstance(artifact, dict) or artifact.get("format") != FORMAT_VERSION:
        written = artifact.get("format") if isinstance(artifact, dict) else None
        raise ArtifactError(
            f"{path} is in artifact format {written}; this server reads format {FORMAT_VERSION}: "
            "retrain the model."
        )
    missing = [key for key in REQUIRED_KEYS if key not in artifact]
    if missing:
        raise ArtifactError(f"{path} lacks {', '.join(missing)}.")
    # Our own scorers carry no version in their state; the artifact records it.
    written = artifact["versions"].get("scikit-learn")
    if written != SKLEARN_VERSION:
        raise ArtifactError(_other_sklearn(path, written))
    return artifact


def _other_sklearn(path: Path, written: str) -> str:
    return f"{path} was written by scikit-learn {written}, this server runs {SKLEARN_VERSION}."
