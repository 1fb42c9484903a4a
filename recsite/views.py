from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from common.schema import NOT_AUTHENTICATED

MessageSerializer = inline_serializer("Message", {"message": serializers.CharField()})
WelcomeSerializer = inline_serializer(
    "Welcome",
    {
        "message": serializers.CharField(),
        "links": serializers.DictField(child=serializers.URLField()),
    },
)


LINKS = (
    "docs",
    "schema",
    "login",
    "recommend",
    "interview",
    "feedback",
    "model",
    "healthz",
    "try",
)


class HomeApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        summary="Welcome, with links to the docs",
        tags=["operations"],
        responses={200: WelcomeSerializer},
    )
    def get(self, request):
        # Absolute links: the browsable API makes them clickable.
        links = {name: reverse(name, request=request) for name in LINKS}
        return Response(
            {
                "message": "Welcome to recsite: movie recommendations for new users. "
                "POST /api/login, then POST /api/recommend. API docs: /api/docs/. "
                "Try it in a browser: /try/.",
                "links": links,
            }
        )


class ProtectedApi(APIView):
    @extend_schema(
        summary="Check that a token works",
        tags=["authentication"],
        responses={
            200: MessageSerializer,
            401: NOT_AUTHENTICATED,
        },
    )
    def get(self, request):
        return Response({"message": "Protected"})
