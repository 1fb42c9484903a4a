from django.core.validators import MaxLengthValidator
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from common.validation import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    choice_field,
    integer_field,
    string_field,
)
from movies.models import MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS, Gender, Movie
from recommender import request_ids
from recommender.serving import MAX_RECS, served_genres

DEFAULT_RECS = 10
MAX_GENRES = 50
MAX_EXCLUDE = 2000
MAX_MOVIE_ID = 2**31 - 1  # PositiveIntegerField's bound on every database
NO_SIGNAL = (
    f"Missing parameter: 'rating' (an integer from {MIN_SCORE} to {MAX_SCORE}) or "
    "'chose' (true); feedback needs at least one of them"
)


def _list_field(name: str, child, *, what: str, max_length: int, **kwargs):
    not_a_list = f"The parameter '{name}' must be a list of {what}"
    return serializers.ListField(
        child=child,
        max_length=max_length,
        required=False,
        error_messages={
            "null": not_a_list,
            "not_a_list": not_a_list,
            "empty": f"The parameter '{name}' must not be empty",
            "min_length": f"The parameter '{name}' must not be empty",
            "max_length": f"The parameter '{name}' must hold at most {max_length} {what}",
        },
        **kwargs,
    )


def _quoted(names) -> str:
    return ", ".join(f"'{name}'" for name in names)


class RecommendInputSerializer(StrictSerializer):
    """Who the recommendations are for (age, gender, occupation), how many, and filters."""

    age = integer_field("age", MIN_AGE, MAX_AGE)
    gender = choice_field("gender", Gender.values)
    occupation = choice_field("occupation", OCCUPATIONS)
    max_recs = integer_field("max_recs", 1, MAX_RECS, required=False, default=DEFAULT_RECS)
    genres = _list_field(
        "genres",
        StrictCharField(
            error_messages={
                "invalid": "The parameter 'genres' must be a list of genre names",
                "null": "The parameter 'genres' must be a list of genre names",
                "max_length": "The parameter 'genres' must be a list of genre names",
            },
            allow_blank=True,
            trim_whitespace=False,
            max_length=40,
        ),
        what="genre names",
        min_length=1,
        max_length=MAX_GENRES,
        allow_empty=False,
        help_text="Only movies having any of these genres.",
    )
    exclude = _list_field(
        "exclude",
        StrictIntegerField(
            min_value=1,
            max_value=MAX_MOVIE_ID,
            error_messages={
                key: "The parameter 'exclude' must be a list of movie ids (positive integers)"
                for key in ("invalid", "null", "min_value", "max_value", "max_string_length")
            },
        ),
        what="movie ids",
        max_length=MAX_EXCLUDE,
        help_text="Movie ids the person has seen: never recommended, nor their other ids.",
    )

    def validate_genres(self, value):
        known = served_genres()
        if known is None:  # nothing to check against; the view answers 503 next
            return value
        unknown = sorted(set(value).difference(known))
        if unknown:
            raise ValidationError(
                "The parameter 'genres' must only name the following genres: "
                f"{_quoted(known)}; unknown: {_quoted(unknown)}",
                code="invalid_choice",
            )
        return value


# One instance serves every request: building a serializer deep-copies all of its
# fields, which costs more than ranking; validation itself keeps no state on it.
_RECOMMEND_INPUT = RecommendInputSerializer()
_PLAIN_KEYS = frozenset(("age", "gender", "occupation", "max_recs"))
_GENDERS = frozenset(Gender.values)
_OCCUPATIONS = frozenset(OCCUPATIONS)


def recommend_input(data) -> dict:
    """The request's validated fields, or a ValidationError listing every problem.

    The usual request (demographics and maybe max_recs, each plainly valid) is checked
    here directly: DRF's field machinery is most of the view's own time. Anything else
    goes to the serializer, which has the final word and words the errors; the tests
    check that both agree on every profile.
    """
    if type(data) is dict and data.keys() <= _PLAIN_KEYS:
        age, gender = data.get("age"), data.get("gender")
        occupation, max_recs = data.get("occupation"), data.get("max_recs", DEFAULT_RECS)
        if (
            type(age) is int
            and MIN_AGE <= age <= MAX_AGE
            and type(gender) is str
            and gender in _GENDERS
            and type(occupation) is str
            and occupation in _OCCUPATIONS
            and type(max_recs) is int
            and 1 <= max_recs <= MAX_RECS
        ):
            return {"age": age, "gender": gender, "occupation": occupation, "max_recs": max_recs}
    return _RECOMMEND_INPUT.run_validation(data)


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


class FeedbackInputSerializer(StrictSerializer):
    request_id = string_field(
        "request_id",
        required=False,
        validators=[MaxLengthValidator(request_ids.MAX_LENGTH, request_ids.NOT_OURS)],
    )
    age = integer_field("age", MIN_AGE, MAX_AGE)
    gender = choice_field("gender", Gender.values)
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
    metrics = serializers.DictField(
        help_text="Offline metrics, when measured: cold-start (`summary`) and, for the "
        "default, with answers (`answers`: interview-5/10 and first-1/3/5/10 NDCG@10 "
        "against the demographic-only ranking, with the lift's 95% CI)."
    )
    file = ModelFileSerializer()
