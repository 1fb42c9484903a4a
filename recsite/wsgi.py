"""WSGI entry point for gunicorn: ``recsite.wsgi:application``."""

import contextlib
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")

application = get_wsgi_application()

from recsite.middleware import bounded_chunked_bodies  # noqa: E402 (imports DRF: needs settings)

application = bounded_chunked_bodies(application)


def _warm_up():
    """Load the model and rank every profile now, so that requests do not pay for it
    (503s say why later if there is no model)."""
    from recommender.serving import ModelUnavailable, warm_up

    with contextlib.suppress(ModelUnavailable):
        warm_up()


_warm_up()
