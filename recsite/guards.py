"""Guards around every view: an oversized body or a lost database gets a clear JSON error.

DRF's JSON parser reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
never fires for API views: the size is checked here, before any view runs. A database
error in a view that DRF does not handle (the admin) becomes a 503 instead of a 500.
"""

import io
import logging

from django.conf import settings

from recsite.exceptions import DATABASE_ERRORS, DatabaseUnavailable, RequestTooLarge, json_error

logger = logging.getLogger("recsite.api")


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
        logger.error("Database unavailable for %s", request.path, exc_info=exception)
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
