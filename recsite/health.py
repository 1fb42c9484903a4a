"""Probes for load balancers and orchestrators: open to all, cheap, never cached.

``/healthz`` answers as long as the process can serve a request (liveness: restart it if
not); ``/readyz`` also checks that a model is loaded and the database answers (readiness:
send it traffic only then). A failure names the check, never a server path or error; the
details go to the log.
"""

import logging

from django.db import DatabaseError, connection
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.serving import get_recommender

logger = logging.getLogger("recsite.health")

CHECKS = serializers.DictField(child=serializers.ChoiceField(["ok", "failed"]))


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("Readiness: the database is unreachable.")
        return False
    return True


def served_model_version() -> str | None:
    """The served model's version; loads the model on first use, so readiness warms it."""
    try:
        return get_recommender().version
    except APIException as exc:
        logger.error("Readiness: %s", exc.detail)
        return None


@method_decorator(never_cache, name="dispatch")
class ProbeApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class LivenessApi(ProbeApi):
    @extend_schema(
        summary="Liveness: the process is up (no database, no model)",
        tags=["operations"],
        responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})},
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessApi(ProbeApi):
    @extend_schema(
        summary="Readiness: a model is loaded and the database answers; 503 otherwise",
        tags=["operations"],
        responses={
            200: inline_serializer(
                "Readiness",
                {
                    "status": serializers.CharField(),
                    "checks": CHECKS,
                    "model_version": serializers.CharField(),
                },
            ),
            503: inline_serializer(
                "NotReady",
                {
                    "message": serializers.CharField(),
                    "code": serializers.CharField(),
                    "checks": CHECKS,
                },
            ),
        },
    )
    def get(self, request):
        version = served_model_version()
        checks = {"database": database_ok(), "model": version is not None}
        summary = {name: "ok" if ok else "failed" for name, ok in checks.items()}
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            body = {
                "message": f"Not ready: the {' and '.join(failed)} check"
                f"{'s' if len(failed) > 1 else ''} failed.",
                "code": "not_ready",
                "checks": summary,
            }
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ready", "checks": summary, "model_version": version})
