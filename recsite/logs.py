"""Logging pieces that settings.LOGGING names. Logging is configured before the apps are
loaded, so this module imports nothing that needs them (the middleware does)."""

import logging


class TracebacksOnly(logging.Filter):
    """For ``django.request``, which reports every 4xx and 5xx a second time: keep only the
    records that carry a traceback (a view that crashed)."""

    def filter(self, record):
        return record.exc_info is not None
