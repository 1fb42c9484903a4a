"""Session tokens: issued for the shared session password, verified without a database.

There are no per-person accounts: one shared session password buys an access token,
and tokens are checked from their signature and claims alone. A token also carries a
fingerprint of the password it was issued for, so changing SESSION_PASSWORD retires
every token issued before. Login attempts are limited (recsite.access.limits).

Decoding a token and checking its signature is a large share of a recommendation's time
in the server (docs/performance.md), so each process remembers the tokens it has verified
(a bounded number); expiry and the password fingerprint are still checked on every request.
"""

import hmac

from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import aware_utcnow

from recsite.access.password import password_fingerprint

SESSION_SUBJECT = "session"
PASSWORD_CLAIM = "pwd"
# Verified tokens by their raw bytes; when full it starts over. Only tokens that passed
# SimpleJWT's full check get in (each from a throttled login), and a signature once good
# stays good in this process: SimpleJWT fixes its key at import.
VERIFIED_TOKENS_MAX = 1024
_verified: dict[bytes, Token] = {}


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
                {
                    "detail": "Token was issued for a previous session password.",
                    "code": "token_not_valid",
                }
            )
        return token


def has_expired(token: Token) -> bool:
    """SimpleJWT's own expiry check (leeway included), as of now."""
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        return True
    return False
