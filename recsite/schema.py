"""OpenAPI: document our session tokens as the bearer JWTs they are, our strict inputs as
closed objects of strings without NUL, and the one error shape every 4xx and 5xx takes."""

from django.core.validators import RegexValidator
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class SessionTokenScheme(SimpleJWTScheme):
    target_class = "recsite.auth.SessionTokenAuthentication"
    name = "bearerAuth"


class StrictSerializerScheme(OpenApiSerializerExtension):
    """A StrictSerializer refuses unknown keys: `additionalProperties: false` says so."""

    target_class = "recsite.validation.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class StrictCharFieldScheme(OpenApiSerializerFieldExtension):
    """DRF's CharField refuses NUL characters with a 400: say so."""

    target_class = "recsite.validation.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if any(isinstance(v, RegexValidator) for v in self.target.validators):
            return schema  # the field's own pattern says more, and spectacular keeps the first
        return {**schema, "pattern": "^[^\\u0000]*$"}


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


def document_body_limit(result, generator, request, public):
    """Every operation with a body may answer 413 (recsite.middleware): say so, in our shape."""
    too_large = {
        "description": "The request body is larger than MAX_REQUEST_BODY",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault("413", too_large)
    return result
