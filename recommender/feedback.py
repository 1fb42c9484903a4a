"""POST /api/feedback: a person's rating or choice of a movie, kept for the next model.

The recommend path stores nothing (it runs no SQL), so feedback carries the person's
demographics itself; ``request_id`` is kept only as a reference to the recommend response
and groups one person's feedback into one rater when training.
"""

from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from movies.models import GENDERS, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS, Movie
from movies.services import feedback_record
from recommender import request_ids
from recsite.auth import FeedbackClientThrottle, FeedbackTokenThrottle
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
        validators=[MaxLengthValidator(request_ids.MAX_LENGTH, request_ids.NOT_OURS)],
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

    def validate(self, attrs):
        """A request_id must be one that /api/recommend issued for these demographics."""
        if "request_id" in attrs:
            demographics = {key: attrs[key] for key in ("age", "gender", "occupation")}
            try:
                request_ids.verify(attrs["request_id"], **demographics)
            except request_ids.RequestIdError as error:
                raise ValidationError(
                    {"request_id": [ErrorDetail(error.message, code=error.code)]}
                ) from None
        return attrs

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
    throttle_classes = (FeedbackTokenThrottle, FeedbackClientThrottle)

    @extend_schema(
        summary="Record that a person rated or chose a movie",
        description=(
            "Send the demographics the recommendation was asked for, the movie, and a "
            "`rating` (1-5), `chose: true`, or both. `request_id` (from /api/recommend, "
            "within 24 hours, for the same demographics) is optional; feedback that shares "
            "it counts as one person when training with `train_model --with-feedback`, and "
            "a repeat for the same movie updates the earlier feedback. Without it, a "
            "token's feedback counts as one person."
        ),
        request=FeedbackInputSerializer,
        responses={
            201: FeedbackOutputSerializer,
            400: OpenApiResponse(
                description="Invalid or missing parameter, unknown movie, or a request_id "
                "this service did not issue for these demographics in the last 24 hours"
            ),
            401: OpenApiResponse(description="Missing, expired or invalid token"),
            429: OpenApiResponse(description="Too much feedback; see Retry-After"),
        },
    )
    def post(self, request):
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_id = request.auth.get("jti", "")  # one person per token, without request_id
        feedback = feedback_record(**serializer.validated_data, token_id=token_id)
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)
