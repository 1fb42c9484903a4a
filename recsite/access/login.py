"""The logins: the session password checked under the login limits (for /api/login and
/try/), POST /api/login (the session password in, an access token out), and the admin's
login view, throttled alike."""

import functools
import math

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from common.schema import error_response
from common.validation import StrictSerializer, string_field
from recsite.access.limits import password_attempt
from recsite.access.password import password_matches
from recsite.access.tokens import issue_access_token, token_lifetime_seconds
from recsite.exceptions import json_error


def session_password_accepted(request, candidate: str) -> bool:
    """Whether ``candidate`` is the session password, as /api/login and /try/ check it: the
    login limits count first (per client, and failed logins of all clients together), then
    the constant-time comparison. Raises Throttled. Read the request's body before."""
    with password_attempt(request, scope="login", login="api") as wrong:
        if password_matches(candidate):
            return True
        wrong()
        return False


def throttle_admin_login(login_view):
    """The admin's login view, throttled like /api/login: attempts per client and failed
    attempts of all clients together. A refused attempt is answered before any hashing."""

    @functools.wraps(login_view)
    def view(request, *args, **kwargs):
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        if not request.POST.get("password"):  # read first: no password, no attempt
            return login_view(request, *args, **kwargs)
        try:
            with password_attempt(request, scope="admin_login", login="admin") as wrong:
                response = login_view(request, *args, **kwargs)
                if not request.user.is_authenticated:  # the form was refused
                    wrong()
        except Throttled as exc:
            response = json_error(exc)
            response["Retry-After"] = str(math.ceil(exc.wait or 1))
        return response

    return view


class InvalidPassword(APIException):
    """401 without DRF's WWW-Authenticate dance: the login view takes no credentials."""

    status_code = 401
    default_code = "invalid_password"
    default_detail = "Invalid session password."


class LoginSerializer(StrictSerializer):
    session_password = string_field("session_password", max_length=1024)


@extend_schema(
    summary="Exchange the session password for an access token",
    tags=["authentication"],
    responses={
        200: inline_serializer(
            "LoginResult",
            {
                "access_token": serializers.CharField(),
                "token_type": serializers.CharField(),
                "expires_in": serializers.IntegerField(),
            },
        ),
        400: error_response("Missing or malformed session_password"),
        401: error_response("Wrong session password"),
        429: error_response("Too many attempts; see Retry-After"),
    },
)
class LoginApi(GenericAPIView):
    """The body is read and its shape checked before any limit is spent: only a password
    that is checked counts as an attempt, and only a wrong one as a failure."""

    serializer_class = LoginSerializer
    authentication_classes = ()
    permission_classes = ()

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not session_password_accepted(request, serializer.validated_data["session_password"]):
            raise InvalidPassword()
        token = issue_access_token()
        return Response(
            {
                "access_token": str(token),
                "token_type": "Bearer",
                "expires_in": token_lifetime_seconds(),
            }
        )
