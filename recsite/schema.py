"""OpenAPI: document our session tokens as the bearer JWTs they are."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class SessionTokenScheme(SimpleJWTScheme):
    target_class = "recsite.auth.SessionTokenAuthentication"
    name = "bearerAuth"
