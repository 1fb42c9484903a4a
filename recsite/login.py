"""POST /api/login: the session password in, an access token out; and the throttles of
every form that takes a password (this one and the admin's login)."""

import functools
import math

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, Throttled
from rest_framework_simplejwt.views import TokenViewBase

from common.schema import error_response
from common.session_password import password_matches
from common.throttles import AdminLoginFailures, AdminLoginThrottle, ApiLoginFailures, LoginThrottle
from common.validation import StrictSerializer, string_field
from recsite.auth import issue_access_token, token_lifetime_seconds
from recsite.exceptions import json_error


def throttle_admin_login(login_view):
    """The admin's login view, throttled like /api/login: attempts per client and failed
    attempts of all clients together. A refused attempt is answered before any hashing."""

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


class InvalidPassword(APIException):
    """401 without DRF's WWW-Authenticate dance: the login view takes no credentials."""

    status_code = 401
    default_code = "invalid_password"
    default_detail = "Invalid session password."


class LoginSerializer(StrictSerializer):
    session_password = string_field("session_password", max_length=1024)

    def validate_session_password(self, value):
        if not password_matches(value):
            raise InvalidPassword()
        return value

    def validate(self, attrs):
        token = issue_access_token()
        return {
            "access_token": str(token),
            "token_type": "Bearer",
            "expires_in": token_lifetime_seconds(),
        }


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
class LoginApi(TokenViewBase):
    serializer_class = LoginSerializer
    throttle_classes = (LoginThrottle, ApiLoginFailures)
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except InvalidPassword:
            ApiLoginFailures.record()  # for the budget of all clients together
            raise
