"""Test settings: fixed secrets, fast hashing, no .env surprises."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-hs256-signing")
os.environ.setdefault("SESSION_PASSWORD", "test-password")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request lines in test output
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
os.environ.setdefault("SECURE_COOKIES", "0")

from recsite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps, as in development: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
