"""Request throttles whose counts every worker and replica share, keyed by a client
address that only a declared proxy can vouch for. Shared by the apps; imports neither."""

import ipaddress
import logging

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

logger = logging.getLogger("recsite.throttles")


def client_ip(request) -> str:
    """The client's address: the socket's, unless the socket is a proxy the operator
    declared (TRUSTED_PROXIES). Then it is the nearest X-Forwarded-For address that is not
    such a proxy: the one that proxy saw, since proxies append and clients can only prepend.
    From anyone else X-Forwarded-For, X-Real-IP and Forwarded change nothing."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted_proxy(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    hops = [address.strip() for address in forwarded if address.strip()]
    for address in reversed(hops):
        if not _is_trusted_proxy(address):
            return address
    return hops[0] if hops else remote


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


class SharedCounts:
    """Counts in the default cache, which every worker and replica share (the database
    cache), per client_ip and at the rates in settings. Should that cache fail, this
    process counts alone: the throttle stays on while the database is down."""

    local_cache = LocMemCache("recsite-throttles", {})

    def get_rate(self):  # read per request, not at import: rates follow the settings
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except DatabaseError:
            logger.warning("Throttle %s counts per process: the shared cache failed.", self.scope)
            self.cache = self.local_cache
            return super().allow_request(request, view)


class ClientThrottle(SharedCounts, SimpleRateThrottle):
    """Requests per client at the rate of its ``scope``."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedLogins(SharedCounts, SimpleRateThrottle):
    """Failed logins of all clients together, at the "login_failures" rate: once that many
    failed within the last period, every login waits until the oldest of them is older,
    so a guesser with many addresses gets no more than that budget. Failures that happen
    at the same moment in several workers may miss each other's count: the budget can be
    passed by as many as there are workers."""

    scope = "login_failures"
    login = ""  # which login form: each has a budget of its own

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.login}

    def throttle_success(self):
        return True  # asking costs nothing: only failures are counted, by record()

    def wait(self):
        """Until enough failures have aged out of the period to leave room for one."""
        oldest_in_the_way = self.history[self.num_requests - 1]
        return max(self.duration - (self.now - oldest_in_the_way), 1)

    @classmethod
    def record(cls) -> None:
        """Count one failed login."""
        counter = cls()
        counter.now, key = counter.timer(), counter.get_cache_key(None, None)

        def add_one(cache):
            history = cache.get(key, [])
            recent = [at for at in history if at > counter.now - counter.duration]
            cache.set(key, [counter.now, *recent][: counter.num_requests], counter.duration)

        try:
            add_one(counter.cache)
        except DatabaseError:
            logger.warning("Failed logins are counted per process: the shared cache failed.")
            add_one(counter.local_cache)


class LoginThrottle(SharedCounts, ScopedRateThrottle):
    """/api/login attempts per client (throttle_scope "login")."""


class AdminLoginThrottle(ClientThrottle):
    """Admin login attempts per client: each costs a full password hash."""

    scope = "admin_login"


class ApiLoginFailures(FailedLogins):
    login = "api"


class AdminLoginFailures(FailedLogins):
    login = "admin"
