"""GET /api/model: what the served artifact is, so an operator can trust (or doubt) it."""

from pathlib import Path

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.serving import Recommender, get_recommender


def model_card(*, recommender: Recommender) -> dict:
    """The artifact's own account of itself, plus its file's name and size.

    The file's directory is left out: clients have no business knowing server paths.
    """
    artifact = recommender.artifact
    path = Path(settings.ML_MODEL_PATH)
    try:
        size = path.stat().st_size
    except OSError:  # replaced or removed since it was loaded
        size = None
    return {
        "model_version": recommender.version,
        "algorithm": artifact["algorithm"],
        "params": artifact["params"],
        "trained_at": artifact["trained_at"],
        "fit_seconds": artifact.get("fit_seconds"),
        "data": artifact["data"],
        "versions": artifact["versions"],
        "metrics": artifact.get("metrics", {}),
        "file": {"name": path.name, "size_bytes": size},
    }


class ModelFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True)


class ModelCardSerializer(serializers.Serializer):
    model_version = serializers.CharField(help_text="The same string /api/recommend returns.")
    algorithm = serializers.CharField()
    params = serializers.DictField(help_text="The estimator's get_params().")
    trained_at = serializers.DateTimeField()
    fit_seconds = serializers.FloatField(allow_null=True)
    data = serializers.DictField(
        help_text="SHA-256 fingerprint of the training data and its counts of ratings, "
        "raters, movies and feedback ratings."
    )
    versions = serializers.DictField(child=serializers.CharField())
    metrics = serializers.DictField(help_text="Offline metrics, when measured.")
    file = ModelFileSerializer()


class ModelCardApi(APIView):
    @extend_schema(
        summary="Describe the model being served",
        responses={
            200: ModelCardSerializer,
            401: OpenApiResponse(description="Missing, expired or invalid token"),
            503: OpenApiResponse(description="No trained model is available"),
        },
    )
    def get(self, request):
        return Response(model_card(recommender=get_recommender()))
