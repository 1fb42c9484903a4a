"""The one shared session password: checked in constant time, and named by a fingerprint
that tokens and /try/ sessions carry, so that changing it retires them all."""

import hashlib
import hmac

from django.conf import settings


def password_fingerprint() -> str:
    """Identifies the current session password without revealing it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, settings.SESSION_PASSWORD.encode(), hashlib.sha256).hexdigest()[:16]


def password_matches(candidate: str) -> bool:
    """Constant time in the candidate's content and length: digests of equal size are
    compared, so not even the password's length leaks."""
    return hmac.compare_digest(
        hashlib.sha256(candidate.encode()).digest(),
        hashlib.sha256(settings.SESSION_PASSWORD.encode()).digest(),
    )
