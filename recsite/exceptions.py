"""Every API error in one shape (SPEC §4): ``message``, ``code``, and for validation
``errors`` listing each field's problems. No traceback ever reaches a response: it goes
to the log."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("recsite.api")

SERVER_ERROR = {"message": "The server failed to answer this request.", "code": "server_error"}
# What an unreachable, locked or closed database raises; not a bug in the request.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The database is unavailable right now; try again in a moment."


class RequestTimeout(exceptions.APIException):
    """A body that stops arriving: the server's socket timeout (gunicorn.conf.py) ran out."""

    status_code = status.HTTP_408_REQUEST_TIMEOUT
    default_code = "request_timeout"
    default_detail = "The request body did not arrive in time."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int):
        super().__init__(f"The request body is too large: the limit is {limit} bytes.")


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
        errors: dict[str, list[str]] = {}
        first = None
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
    elif isinstance(exc, UnreadablePostError):
        exc = RequestTimeout()
    elif isinstance(exc, DATABASE_ERRORS):
        logger.error("Database unavailable in %s", type(context.get("view")).__name__, exc_info=exc)
        exc = DatabaseUnavailable()
    response = exception_handler(exc, context)
    if response is None:
        view = context.get("view").__class__.__name__
        logger.error("Unhandled error in %s", view, exc_info=exc)
        return Response(SERVER_ERROR, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = error_body(exc)
    return response


def json_error(exc: exceptions.APIException) -> JsonResponse:
    """The API handler's body, for requests that DRF views do not answer."""
    return JsonResponse(error_body(exc), status=exc.status_code)


# Django's error views (urls.py handler400/404/500): JSON in the same shape, never a page.


def bad_request(request, exception):
    return JsonResponse({"message": "Bad request.", "code": "bad_request"}, status=400)


def page_not_found(request, exception):
    return json_error(exceptions.NotFound())


def server_error(request):
    return JsonResponse(SERVER_ERROR, status=500)
