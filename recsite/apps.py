from django.apps import AppConfig


class RecsiteConfig(AppConfig):
    """The core app: what every endpoint shares, whichever app it belongs to.

    Settings, the root URLconf, authentication and login, the error shape, JSON parsing
    and rendering, the middleware, the probes, the OpenAPI extensions and system checks
    (registered below) and the cache table the settings configure (its migration).
    """

    name = "recsite"

    def ready(self):
        from recsite import checks, schema  # noqa: F401
