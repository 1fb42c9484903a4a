"""The one error shape every 4xx and 5xx takes (recsite.exceptions), for OpenAPI."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    "Error",
    {
        "message": serializers.CharField(help_text="One sentence naming the problem."),
        "code": serializers.CharField(help_text="A stable machine word."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Validation errors only: every problem, by field.",
        ),
    },
)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


# A query string past gunicorn's request-line limit (4,094 bytes by default) is answered
# by the server itself, before the app: no body of the error shape.
URI_TOO_LONG = OpenApiResponse(description="The request line is too long (gunicorn answers)")

# The 401 of every operation that needs a token.
NOT_AUTHENTICATED = error_response("Missing, expired or invalid token")
