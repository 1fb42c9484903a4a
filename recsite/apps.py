from django.apps import AppConfig


class RecsiteConfig(AppConfig):
    """The project package as an app, so it can register its OpenAPI extensions."""

    name = "recsite"

    def ready(self):
        from recsite import schema  # noqa: F401
