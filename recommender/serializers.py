from rest_framework import serializers

from movies.models import GENDERS, MAX_AGE, MIN_AGE, OCCUPATIONS
from recommender.serving import MAX_RECS
from recsite.validation import StrictSerializer, choice_field, integer_field

DEFAULT_RECS = 10


class RecommendInputSerializer(StrictSerializer):
    age = integer_field("age", MIN_AGE, MAX_AGE)
    gender = choice_field("gender", [g for g, _ in GENDERS])
    occupation = choice_field("occupation", OCCUPATIONS)
    max_recs = integer_field("max_recs", 1, MAX_RECS, required=False, default=DEFAULT_RECS)


class RecommendedMovieSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField()


class RecommendOutputSerializer(serializers.Serializer):
    """Documents the response; the view builds it directly (it is on the hot path)."""

    recommendations = serializers.ListField(child=serializers.CharField())
    items = RecommendedMovieSerializer(many=True)
    model_version = serializers.CharField()
    request_id = serializers.CharField()
