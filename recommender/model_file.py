"""The model file as this server reads and writes it: coldstart's artifact, signed with
MODEL_SIGNING_KEY from the settings."""

from pathlib import Path

from django.conf import settings

from coldstart import artifact


def load_artifact(path: Path) -> dict:
    """The artifact at ``path``, verified with this server's key (or ArtifactError)."""
    return artifact.load_artifact(path, key=settings.MODEL_SIGNING_KEY)


def save_artifact(model: dict, path: Path) -> int:
    """Write ``model`` signed with this server's key; returns the file's size in bytes."""
    return artifact.save_artifact(model, path, key=settings.MODEL_SIGNING_KEY)
