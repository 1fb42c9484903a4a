"""Request limits whose counts every worker and replica share, taken atomically, per client
(recsite.access.clients) unless a limit says otherwise.

A limit is N hits per period per key (a client, a token, or one login form's failures). Its
recent hits live in one database row; taking a hit locks that row (SELECT ... FOR UPDATE on
PostgreSQL, the IMMEDIATE transaction on SQLite), so simultaneous requests queue on it and a
burst lets through exactly N, whatever the number of workers and replicas.
"""

import contextlib
import hashlib
import logging
import math
import random
import threading
import time

from django.db import DatabaseError, transaction
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from common.models import RecentHits
from recsite.access.clients import client_key

logger = logging.getLogger("recsite.throttles")

# About one take in this many also deletes the rows whose hits have all aged out (as Django's
# database cache culls), so that many one-time clients do not grow the table for ever.
CULL_EVERY = 500
KEY_LENGTH = RecentHits._meta.get_field("key").max_length


class Limit:
    """The rate of ``scope`` in the settings' DEFAULT_THROTTLE_RATES (read on every use, so
    that it follows the settings), counted per key in the shared table."""

    timer = staticmethod(time.time)

    def __init__(self, scope: str):
        self.scope = scope
        rate = api_settings.DEFAULT_THROTTLE_RATES[scope]
        self.count, self.period = SimpleRateThrottle.parse_rate(None, rate)

    def take(self, key: str) -> float | None:
        """Count one hit for ``key`` if the limit has room: None. If not, nothing is
        counted and the answer is how many seconds until the oldest hit in the way ages out."""
        now = self.taken_at = self.timer()

        def take_one(hits):
            recent = [at for at in hits if at > now - self.period]
            if len(recent) >= self.count:
                return recent, max(self.period - (now - recent[self.count - 1]), 1.0)
            return [now, *recent][: self.count], None

        return _changed(f"{self.scope}:{key}", take_one, expires=now + self.period, now=now)

    def give_back(self, key: str) -> None:
        """Uncount the hit this Limit took for ``key``: one that turned out not to count."""

        def without_mine(hits):
            mine = hits.index(self.taken_at) if self.taken_at in hits else len(hits)
            return hits[:mine] + hits[mine + 1 :], None

        _changed(f"{self.scope}:{key}", without_mine, expires=None)

    def is_full(self, key: str) -> bool:
        """Whether the limit's last hit was just taken (for a log line when it fills)."""
        now = self.timer()
        hits = _changed(f"{self.scope}:{key}", lambda hits: (hits, hits), expires=None)
        return sum(1 for at in hits if at > now - self.period) >= self.count


def _changed(key: str, change, *, expires: float | None, now: float | None = None):
    """Apply ``change`` (hits -> (new hits, answer)) to the row of ``key`` under its lock and
    return the answer. Should the database fail, this process counts alone for a while: the
    limit stays on while the database is down, and each request does not wait for it again
    (with a pool, a database that is down costs its whole DB_POOL_TIMEOUT)."""
    if len(key) > KEY_LENGTH:  # an address a proxy forwarded can be any text
        key = key[:50] + hashlib.sha256(key.encode()).hexdigest()
    global _database_failed_at
    if time.monotonic() - _database_failed_at > RETRY_DATABASE_AFTER:
        try:
            with transaction.atomic():
                return _change_row(key, change, expires, now)
        except DatabaseError:
            logger.warning("Limits count per process: the database failed.")
            _database_failed_at = time.monotonic()
    with _PROCESS_LOCK:
        _PROCESS_HITS[key], answer = change(_PROCESS_HITS.get(key, []))
        return answer


# Seconds that limits count per process after the database failed, before trying it again.
RETRY_DATABASE_AFTER = 10
_database_failed_at = -math.inf
_PROCESS_LOCK = threading.Lock()
_PROCESS_HITS: dict[str, list[float]] = {}


def _change_row(key: str, change, expires: float | None, now: float | None):
    rows = RecentHits.objects
    for _ in range(2):  # a cull may delete an expired row between the insert and the lock
        rows.bulk_create([RecentHits(key=key, hits=[], expires=0)], ignore_conflicts=True)
        row = rows.select_for_update().filter(key=key).first()
        if row is not None:
            break
    hits, answer = change(row.hits)
    if hits != row.hits:
        row.hits = hits
        row.expires = max(row.expires, expires or 0)
        row.save(update_fields=["hits", "expires"])
    if now is not None and random.randrange(CULL_EVERY) == 0:  # on the limits' own clock
        rows.filter(expires__lt=now).delete()
    return answer


def forget_process_counts() -> None:
    """Forget what this process counted while the database was down (for tests)."""
    global _database_failed_at
    with _PROCESS_LOCK:
        _PROCESS_HITS.clear()
        _database_failed_at = -math.inf


class RateThrottle(BaseThrottle):
    """A DRF throttle over one Limit: ``scope`` per ``key(request)``, per client unless a
    subclass says otherwise."""

    scope = ""

    def key(self, request) -> str:
        return client_key(request)

    def allow_request(self, request, view):
        self.seconds = Limit(self.scope).take(self.key(request))
        return self.seconds is None

    def wait(self):
        return self.seconds


# --- The forms that take a password ------------------------------------------------------


@contextlib.contextmanager
def password_attempt(request, *, scope: str, login: str):
    """One checked password: the client's attempt (``scope``, per client) and, until the
    password proves right, a share of ``login``'s budget of failed attempts of all clients
    together ("login_failures"). Both are taken before the password is checked, so a burst
    cannot check more than the budget allows. Raises Throttled when either is spent; yields
    a function to call when the password was wrong: otherwise the budget's share is given
    back. Read the request's body before: a body that never arrives is no attempt."""
    per_client, budget = Limit(scope), Limit("login_failures")
    client = client_key(request)
    wait = per_client.take(client)
    if wait is not None:
        raise Throttled(wait)
    wait = budget.take(login)
    if wait is not None:
        per_client.give_back(client)  # refused before any check: no attempt
        raise Throttled(wait)
    failed = False

    def wrong():
        nonlocal failed
        failed = True

    try:
        yield wrong
    finally:
        if not failed:
            budget.give_back(login)
        elif budget.is_full(login):
            logger.warning(
                "The %s login's budget of failed attempts (%s) is spent: every login is "
                "refused until the oldest failure ages out.",
                login,
                api_settings.DEFAULT_THROTTLE_RATES["login_failures"],
            )
