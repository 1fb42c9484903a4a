"""POST /api/feedback: a person's rating or choice of a movie, kept for the next model.

The recommend path stores nothing (it runs no SQL), so feedback carries the person's
demographics itself; ``request_id`` is kept only as a reference to the recommend response
and groups one person's feedback into one rater when training.
"""

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from movies.models import GENDERS, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS, Movie
from movies.services import feedback_record
from recsite.validation import (
    StrictIntegerField,
    StrictSerializer,
    choice_field,
    integer_field,
    string_field,
)

MAX_MOVIE_ID = 2**31 - 1  # PositiveIntegerField's bound on every database
NO_SIGNAL = (
    f"Missing parameter: 'rating' (an integer from {MIN_SCORE} to {MAX_SCORE}) or "
    "'chose' (true); feedback needs at least one of them"
)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF's own field would also take "yes", 1 and "on"."""

    def to_internal_value(self, data):
        if type(data) is not bool:
            self.fail("invalid")
        return data


class FeedbackInputSerializer(StrictSerializer):
    request_id = string_field(
        "request_id",
        required=False,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]{1,64}\Z",
                "The parameter 'request_id' must be the request_id of a /api/recommend "
                "response: 1 to 64 letters, digits, '-' or '_'",
            )
        ],
    )
    age = integer_field("age", MIN_AGE, MAX_AGE)
    gender = choice_field("gender", [g for g, _ in GENDERS])
    occupation = choice_field("occupation", OCCUPATIONS)
    movie_id = StrictIntegerField(
        error_messages={
            "required": "Missing parameter: 'movie_id'",
            "null": "The parameter 'movie_id' must be an integer",
            "invalid": "The parameter 'movie_id' must be an integer",
            "max_string_length": "The parameter 'movie_id' must be an integer",
        }
    )
    rating = integer_field("rating", MIN_SCORE, MAX_SCORE, required=False)
    chose = StrictBooleanField(
        required=False,
        default=False,
        error_messages={
            "invalid": "The parameter 'chose' must be true or false",
            "null": "The parameter 'chose' must be true or false",
        },
    )

    def validate_movie_id(self, value):
        if not (0 < value <= MAX_MOVIE_ID and Movie.objects.filter(pk=value).exists()):
            raise serializers.ValidationError(
                f"The parameter 'movie_id' must be the id of a movie in the catalogue; "
                f"there is no movie {value}",
                code="does_not_exist",
            )
        return value

    def to_internal_value(self, data):
        """Field errors and a missing rating-or-choice are reported together."""
        try:
            values, errors = super().to_internal_value(data), {}
        except ValidationError as exc:
            values, errors = None, exc.detail
        if "rating" not in data and data.get("chose") is not True and "chose" not in errors:
            errors.setdefault("rating", []).append(ErrorDetail(NO_SIGNAL, code="required"))
        if errors:
            raise ValidationError(errors)
        return values


class FeedbackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    request_id = serializers.CharField()
    age = serializers.IntegerField()
    gender = serializers.CharField()
    occupation = serializers.CharField()
    movie_id = serializers.IntegerField()
    rating = serializers.IntegerField(allow_null=True)
    chose = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FeedbackApi(APIView):
    @extend_schema(
        summary="Record that a person rated or chose a movie",
        description=(
            "Send the demographics the recommendation was asked for, the movie, and a "
            "`rating` (1-5), `chose: true`, or both. `request_id` (from /api/recommend) is "
            "optional; feedback that shares it counts as one person when training with "
            "`train_model --with-feedback`."
        ),
        request=FeedbackInputSerializer,
        responses={
            201: FeedbackOutputSerializer,
            400: OpenApiResponse(description="Invalid or missing parameter, or unknown movie"),
            401: OpenApiResponse(description="Missing, expired or invalid token"),
        },
    )
    def post(self, request):
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = feedback_record(**serializer.validated_data)
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)
