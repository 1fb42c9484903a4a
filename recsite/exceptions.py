"""Every API error in one shape (SPEC §4): ``message``, ``code``, and for validation
``errors`` listing each field's problems."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("recsite.api")


def _flatten(detail, prefix=""):
    """{field: [messages]} from DRF's nested detail, with codes beside each message."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield prefix or "non_field_errors", detail


def error_body(exc) -> dict:
    if isinstance(exc, ValidationError):
        errors, first = {}, None
        for field, detail in _flatten(exc.detail):
            errors.setdefault(field, []).append(str(detail))
            first = first or detail
        return {
            "message": str(first),
            "code": getattr(first, "code", None) or "invalid",
            "errors": errors,
        }
    detail = exc.detail
    if isinstance(detail, dict):  # SimpleJWT's InvalidToken: {"detail", "code", "messages"}
        message, code = detail.get("detail", ""), detail.get("code")
    else:
        message, code = detail, getattr(detail, "code", None)
    if isinstance(exc, ParseError):
        message = f"Missing JSON request: the body is not valid JSON ({message})"
    return {"message": str(message), "code": str(code or exc.default_code)}


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        view = context.get("view").__class__.__name__
        logger.error("Unhandled error in %s", view, exc_info=exc)
        return Response(
            {"message": "The server failed to answer this request.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(exc)
    return response
