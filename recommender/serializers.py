from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from movies.models import GENDERS, MAX_AGE, MIN_AGE, OCCUPATIONS
from recommender.serving import MAX_RECS, served_genres
from recsite.validation import (
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    choice_field,
    integer_field,
)

DEFAULT_RECS = 10
MAX_GENRES = 50
MAX_EXCLUDE = 2000
MAX_MOVIE_ID = 2**31 - 1


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
    gender = choice_field("gender", [g for g, _ in GENDERS])
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
_GENDERS = frozenset(g for g, _ in GENDERS)
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
