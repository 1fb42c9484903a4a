"""ASGI entry point, for servers that prefer it; gunicorn uses recsite.wsgi."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")

application = get_asgi_application()
