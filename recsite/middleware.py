"""One structured log line per request, for operators and log pipelines.

The line holds the method, the path without its query string, the status, the duration,
the request id and the served model's version when the response names one; never headers
(the token) nor bodies (the session password). The formatter in settings.LOGGING turns
it into JSON.
"""

import logging
import time
import uuid

logger = logging.getLogger("recsite.requests")

# Load balancers poll these every few seconds: their successes are logged at DEBUG.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RequestLogMiddleware:
    """Outermost middleware: times everything inside it and sees every final status.

    It gives each request an id (``request.request_id``) and keeps the one a response
    body already carries (/api/recommend's), so the log line, the ``X-Request-ID`` header
    and the body agree, and feedback that quotes the id can be traced to its request.
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
        request_id = str(body.get("request_id") or request.request_id)
        response["X-Request-ID"] = request_id
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
                "request_id": request_id,
                "model_version": body.get("model_version"),
            },
        )
        return response


class TracebacksOnly(logging.Filter):
    """For ``django.request``, which reports every 4xx and 5xx a second time: keep only the
    records that carry a traceback (a view that crashed)."""

    def filter(self, record):
        return record.exc_info is not None
