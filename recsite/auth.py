"""Session tokens: issued for the shared session password, verified without a database.

There are no per-person accounts: one shared session password buys an access token,
and tokens are checked from their signature and claims alone. A token also carries a
fingerprint of the password it was issued for, so changing SESSION_PASSWORD retires
every token issued before.
"""

import hashlib
import hmac

from django.conf import settings
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

SESSION_SUBJECT = "session"
PASSWORD_CLAIM = "pwd"


def password_fingerprint() -> str:
    """Identifies the current session password without revealing it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, settings.SESSION_PASSWORD.encode(), hashlib.sha256).hexdigest()[:16]


def password_matches(candidate: str) -> bool:
    return hmac.compare_digest(candidate.encode(), settings.SESSION_PASSWORD.encode())


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
        token = super().get_validated_token(raw_token)
        if not hmac.compare_digest(str(token.get(PASSWORD_CLAIM, "")), password_fingerprint()):
            raise InvalidToken(
                {"detail": "Token was issued for a previous session password.",
                 "code": "token_not_valid"}
            )  # fmt: skip
        return token
