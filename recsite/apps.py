from django.apps import AppConfig


class RecsiteConfig(AppConfig):
    """The project package as an app, so it can register its OpenAPI extensions and its
    system checks."""

    name = "recsite"

    def ready(self):
        from recsite import checks, schema  # noqa: F401
