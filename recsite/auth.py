"""Session tokens: issued for the shared session password, verified without a database.

There are no per-person accounts: one shared session password buys an access token,
and tokens are checked from their signature and claims alone. A token also carries a
fingerprint of the password it was issued for, so changing SESSION_PASSWORD retires
every token issued before. Login attempts are throttled with counts in the shared cache.

Decoding a token and checking its signature costs about 0.1 ms, a fifth of a
recommendation's time in the server, so each process remembers the tokens it has verified
(a bounded number); expiry and the password fingerprint are still checked on every request.
"""

import functools
import hashlib
import hmac
import ipaddress
import logging
import math

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

logger = logging.getLogger("recsite.auth")

SESSION_SUBJECT = "session"
PASSWORD_CLAIM = "pwd"
# Verified tokens by their raw bytes; when full it starts over. Only tokens that passed
# SimpleJWT's full check get in (each from a throttled login), and a signature once good
# stays good in this process: SimpleJWT fixes its key at import.
VERIFIED_TOKENS_MAX = 1024
_verified: dict[bytes, AccessToken] = {}


def password_fingerprint() -> str:
    """Identifies the current session password without revealing it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, settings.SESSION_PASSWORD.encode(), hashlib.sha256).hexdigest()[:16]


def password_matches(candidate: str) -> bool:
    """Constant time in the candidate's content and length: digests of equal size are
    compared, so not even the password's length leaks."""
    return hmac.compare_digest(
        hashlib.sha256(candidate.encode()).digest(),
        hashlib.sha256(settings.SESSION_PASSWORD.encode()).digest(),
    )


def token_lifetime_seconds() -> int:
    return int(jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def issue_access_token() -> AccessToken:
    token = AccessToken()
    token.set_exp(lifetime=jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME)  # read per call
    token["sub"] = SESSION_SUBJECT
    token[PASSWORD_CLAIM] = password_fingerprint()
    return token


class SessionTokenAuthentication(JWTStatelessUserAuthentication):
    """SimpleJWT's stateless check, plus: the token's password is still the current one."""

    def get_validated_token(self, raw_token):
        token = _verified.get(raw_token)
        if token is None or has_expired(token):
            token = super().get_validated_token(raw_token)  # signature, type and expiry
            if len(_verified) >= VERIFIED_TOKENS_MAX:
                _verified.clear()
            _verified[raw_token] = token
        if not hmac.compare_digest(str(token.get(PASSWORD_CLAIM, "")), password_fingerprint()):
            raise InvalidToken(
                {"detail": "Token was issued for a previous session password.",
                 "code": "token_not_valid"}
            )  # fmt: skip
        return token


def has_expired(token: AccessToken) -> bool:
    """SimpleJWT's own expiry check (leeway included), as of now."""
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        return True
    return False


# --- Throttles ---------------------------------------------------------------------------


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


class LoginThrottle(SharedCounts, ScopedRateThrottle):
    """/api/login attempts per client (throttle_scope "login")."""


class ClientThrottle(SharedCounts, SimpleRateThrottle):
    """Requests per client at the rate of its ``scope``."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AdminLoginThrottle(ClientThrottle):
    """Admin login attempts per client: each costs a full password hash."""

    scope = "admin_login"


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


class ApiLoginFailures(FailedLogins):
    login = "api"


class AdminLoginFailures(FailedLogins):
    login = "admin"


def throttle_admin_login(login_view):
    """The admin's login view, throttled like /api/login: attempts per client and failed
    attempts of all clients together. A refused attempt is answered before any hashing."""
    # Imported here: recsite.exceptions imports DRF's views, which import this module.
    from recsite.exceptions import json_error

    @functools.wraps(login_view)
    def view(request, *args, **kwargs):
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        throttles = (AdminLoginThrottle(), AdminLoginFailures())
        refused = [throttle for throttle in throttles if not throttle.allow_request(request, None)]
        if refused:
            wait = max((t.wait() or 0 for t in refused), default=0) or None
            response = json_error(Throttled(wait))
            if wait is not None:
                response["Retry-After"] = str(math.ceil(wait))
            return response
        response = login_view(request, *args, **kwargs)
        if not request.user.is_authenticated:  # the form was refused
            AdminLoginFailures.record()
        return response

    return view


class FeedbackTokenThrottle(SharedCounts, SimpleRateThrottle):
    """Feedback per access token (its jti), whichever client sends it."""

    scope = "feedback_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.get("jti", "")}


class FeedbackClientThrottle(ClientThrottle):
    """Feedback per client, whatever tokens it holds."""

    scope = "feedback_client"
