from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from recsite.schema import error_response

MessageSerializer = inline_serializer("Message", {"message": serializers.CharField()})


class HomeApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(summary="Welcome message", responses={200: MessageSerializer})
    def get(self, request):
        return Response(
            {
                "message": "Welcome to recsite: movie recommendations for new users. "
                "POST /api/login, then POST /api/recommend. API docs: /api/docs/."
            }
        )


class ProtectedApi(APIView):
    @extend_schema(
        summary="Check that a token works",
        responses={
            200: MessageSerializer,
            401: error_response("Missing, expired or invalid token"),
        },
    )
    def get(self, request):
        return Response({"message": "Protected"})
