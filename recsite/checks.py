"""System checks of our own, shown by `manage.py check` (and `check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

MIN_SESSION_PASSWORD = 16


@register(Tags.security, deploy=True)
def session_password_length(app_configs, **kwargs):
    """The shared session password is the API's whole guard against guessing."""
    if len(settings.SESSION_PASSWORD) >= MIN_SESSION_PASSWORD:
        return []
    return [
        Warning(
            f"SESSION_PASSWORD has {len(settings.SESSION_PASSWORD)} characters, fewer than "
            f"{MIN_SESSION_PASSWORD}: anyone may guess it. Set a long random one, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(16))'.",
            id="recsite.W001",
        )
    ]


@register(Tags.security)
def secret_key_is_set(app_configs, **kwargs):
    """A random development key signs tokens and model files for one process only."""
    if not getattr(settings, "SECRET_KEY_IS_RANDOM", False):
        return []
    return [
        Warning(
            "SECRET_KEY is not set: this process uses a random one, so the tokens and model "
            "files it signs are refused by the next. Set SECRET_KEY in the environment or .env.",
            id="recsite.W002",
        )
    ]
