"""Every middleware of the project, and the WSGI wrapper in front of them.

One structured log line per request, for operators and log pipelines. The line holds
the method, the path without its query string, the status, the duration, the request id
and the served model's version when the response names one; never headers (the token)
nor bodies (the session password). The formatter in settings.LOGGING turns it into JSON.

Guards around every view: an oversized body or a lost database gets a clear JSON error,
and so does an unknown API path with DEBUG on (Django's own 404 page lists every URL
pattern). DRF's JSON parser reads the request stream itself, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE never fires for API views: the size is checked here, before any
view runs. A database error in a view that DRF does not handle (the admin) becomes a 503
instead of a 500.

Every HTML response carries the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY).
"""

import io
import logging
import time
import uuid

from django.conf import settings

from recsite.exceptions import (
    DATABASE_ERRORS,
    DatabaseUnavailable,
    RequestTooLarge,
    json_error,
    page_not_found,
)

logger = logging.getLogger("recsite.requests")
api_logger = logging.getLogger("recsite.api")

# Load balancers poll these every few seconds: their successes are logged at DEBUG.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RequestLogMiddleware:
    """Outermost middleware: times everything inside it and sees every final status.

    It gives each request an id (``request.request_id``), which /api/recommend's body
    carries too, so the log line, the ``X-Request-ID`` header and the body agree, and
    feedback that quotes the id can be traced to its request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = uuid.uuid4().hex
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000

        body = getattr(response, "data", None)  # DRF responses keep their data
        body = body if isinstance(body, dict) else {}
        response["X-Request-ID"] = request.request_id
        status = response.status_code
        if status >= 500:
            level = logging.ERROR
        elif request.path in PROBE_PATHS and status < 400:
            level = logging.DEBUG
        else:
            level = logging.INFO
        logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "request_id": request.request_id,
                "model_version": body.get("model_version"),
            },
        )
        return response


class RequestSizeLimitMiddleware:
    """413 for a body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE, left unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty too
        if limit is not None and length > limit:
            return json_error(RequestTooLarge(limit))
        return self.get_response(request)


class DebugNotFoundMiddleware:
    """With DEBUG on, Django answers a 404 with its technical page, which lists every URL
    pattern, instead of handler404. API clients get handler404's JSON all the same; a
    browser outside /api/ keeps the page, a development aid."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not hasattr(response, "data")  # a DRF view's 404 has its shape already
            and not response.get("Content-Type", "").startswith("application/json")
            and wants_json(request)
        ):
            return page_not_found(request, None)
        return response


def wants_json(request) -> bool:
    """An /api/ path, or a client that prefers JSON to HTML (no Accept header, or */*, as
    DRF's content negotiation decides too)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return True
    return request.get_preferred_type(["application/json", "text/html"]) == "application/json"


class ContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY on every HTML response (the pages, the admin, the
    Swagger UI, the browsable API, Django's error pages); JSON needs none."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            " ".join([directive, *sources])
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class DatabaseUnavailableMiddleware:
    """503 for database errors escaping non-DRF views; recsite.exceptions does the same
    for DRF views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        api_logger.error("Database unavailable for %s", request.path, exc_info=exception)
        return json_error(DatabaseUnavailable())


def bounded_chunked_bodies(application):
    """WSGI wrapper: hand Django a chunked body (which it would read as empty) as one of
    at most limit + 1 bytes with a Content-Length, so the size check above sees it."""

    def wrapped(environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            stream = environ["wsgi.input"]
            body = stream.read() if limit is None else stream.read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return application(environ, start_response)

    return wrapped
