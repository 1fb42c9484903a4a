"""Signed request ids: /api/recommend issues them, /api/feedback takes back only its own.

A request id is ``<id>:<time issued>:<signature>``, an HMAC with SECRET_KEY salted with
the demographics the recommendation was for. So feedback that quotes one is checked
without storing anything on the recommend path: a made-up id, an id older than MAX_AGE or
one quoted for other demographics is refused.
"""

from datetime import timedelta

from django.core import signing

MAX_AGE = timedelta(hours=24)
MAX_LENGTH = 128  # a 32-character id signed takes 83
NOT_OURS = (
    "The parameter 'request_id' must be the request_id of a /api/recommend response of "
    "this service, sent with the same age, gender and occupation"
)
EXPIRED = (
    "The parameter 'request_id' has expired: feedback that quotes it must come within "
    f"{MAX_AGE.total_seconds() / 3600:.0f} hours of the recommendation"
)


class RequestIdError(ValueError):
    """The request id was not issued here for these demographics, or too long ago."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def _signer(age: int, gender: str, occupation: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"recsite.request_id:{age}:{gender}:{occupation}")


def sign(request_id: str, *, age: int, gender: str, occupation: str) -> str:
    """The id a recommend response carries: ``request_id`` with the time and signature."""
    return _signer(age, gender, occupation).sign(request_id)


def verify(signed: str, *, age: int, gender: str, occupation: str) -> str:
    """The id inside ``signed``, if this service issued it for these demographics within
    MAX_AGE; else RequestIdError saying which."""
    try:
        return _signer(age, gender, occupation).unsign(signed, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise RequestIdError(EXPIRED, "expired_request_id") from None
    except signing.BadSignature:
        raise RequestIdError(NOT_OURS, "invalid_request_id") from None
