"""POST /api/login: the session password in, an access token out."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework_simplejwt.views import TokenViewBase

from recsite.auth import (
    ApiLoginFailures,
    LoginThrottle,
    issue_access_token,
    password_matches,
    token_lifetime_seconds,
)
from recsite.schema import error_response
from recsite.validation import StrictSerializer, string_field


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
