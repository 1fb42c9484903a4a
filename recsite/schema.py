"""OpenAPI: document our session tokens as the bearer JWTs they are, our strict inputs as
closed objects of strings without NUL, and the 413 every body may get (the error shape
itself is common.schema's)."""

from django.core.validators import RegexValidator
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension


class SessionTokenScheme(SimpleJWTScheme):
    target_class = "recsite.access.tokens.SessionTokenAuthentication"
    name = "bearerAuth"


class StrictSerializerScheme(OpenApiSerializerExtension):
    """A StrictSerializer refuses unknown keys: `additionalProperties: false` says so."""

    target_class = "common.validation.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class StrictCharFieldScheme(OpenApiSerializerFieldExtension):
    """DRF's CharField refuses NUL characters with a 400: say so."""

    target_class = "common.validation.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if any(isinstance(v, RegexValidator) for v in self.target.validators):
            return schema  # the field's own pattern says more, and spectacular keeps the first
        return {**schema, "pattern": "^[^\\u0000]*$"}


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
