"""The catalogue API's query parameters and responses (movies.apis)."""

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from common.validation import StrictSerializer
from movies.catalogue import ORDERINGS, Filters
from movies.search import fold

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
MIN_YEAR, MAX_YEAR = 1, 9999
ORDERING_CHOICES = [f"{sign}{name}" for name in ORDERINGS for sign in ("", "-")]


def _query_integer(name: str, low: int, high: int, **kwargs) -> serializers.IntegerField:
    """An integer query parameter: its text is a whole number from ``low`` to ``high``."""
    not_integer = f"The parameter '{name}' must be a whole number"
    out_of_range = f"The parameter '{name}' must be between {low} and {high}"
    return serializers.IntegerField(
        min_value=low,
        max_value=high,
        required=False,
        error_messages={
            "invalid": not_integer,
            "max_string_length": not_integer,
            "min_value": out_of_range,
            "max_value": out_of_range,
        },
        **kwargs,
    )


def _quoted(names) -> str:
    return ", ".join(f"'{name}'" for name in names)


class MovieListInputSerializer(StrictSerializer):
    """What to list: a search, filters, an order and a page; every parameter optional.
    The context names the catalogue's genres (``genre_names``)."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": f"The parameter 'q' must be at most {MAX_QUERY_LENGTH} characters"
        },
        help_text="Words of the title as a person types them: any case, accents or "
        "punctuation, a leading article, a small typo; a year narrows. Best match first.",
    )
    genre = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Only movies of this genre (a name, e.g. `Comedy`); empty, as a search "
        "form sends it, is no filter.",
    )
    year_min = _query_integer("year_min", MIN_YEAR, MAX_YEAR, help_text="From this year on.")
    year_max = _query_integer("year_max", MIN_YEAR, MAX_YEAR, help_text="Up to this year.")
    ordering = serializers.ChoiceField(
        choices=ORDERING_CHOICES,
        required=False,
        error_messages={
            "invalid_choice": "The parameter 'ordering' must be one of the following: "
            + _quoted(ORDERING_CHOICES)
        },
        help_text="`-` in front for descending. Default: the best match first with `q`, "
        "else by id. Ties go to the lower id; movies without a year or mean come last.",
    )
    page = _query_integer("page", 1, 2**31 - 1, help_text="From 1.")
    page_size = _query_integer(
        "page_size", 1, MAX_PAGE_SIZE, help_text=f"Default {DEFAULT_PAGE_SIZE}."
    )

    def to_internal_value(self, data):
        """Each parameter once, and given a value unless it may be blank: a repeated or empty
        one is refused with the other problems (DRF would take an empty one as absent)."""
        errors = {
            key: [ErrorDetail(f"The parameter '{key}' must be given once", code="repeated")]
            for key, values in data.lists()
            if len(values) > 1
        }
        errors |= {
            key: [ErrorDetail(f"The parameter '{key}' must not be empty", code="blank")]
            for key, values in data.lists()
            if key in self.fields
            and values == [""]
            and not getattr(self.fields[key], "allow_blank", False)
        }
        try:
            values = super().to_internal_value(data)
        except ValidationError as exc:
            errors = {**exc.detail, **errors}
        if errors:
            raise ValidationError(errors)
        return values

    def validate_q(self, value: str) -> str:
        if value and not fold(value):
            raise ValidationError("The parameter 'q' must hold a letter or a digit", code="invalid")
        return value

    def validate_genre(self, value: str) -> str:
        if not value:
            return value
        known = self.context["genre_names"]
        by_folded = {name.casefold(): name for name in known}
        if value.casefold() not in by_folded:
            raise ValidationError(
                f"The parameter 'genre' must be one of the following: {_quoted(known)}",
                code="invalid_choice",
            )
        return by_folded[value.casefold()]

    def validate(self, attrs):
        low, high = attrs.get("year_min"), attrs.get("year_max")
        if low is not None and high is not None and low > high:
            message = "The parameter 'year_min' must not be after 'year_max'"
            raise ValidationError({"year_min": [ErrorDetail(message, code="invalid")]})
        return attrs

    def filters(self) -> Filters:
        data = self.validated_data
        keys = ("q", "genre", "year_min", "year_max", "ordering")
        return Filters(**{key: data[key] for key in keys if data.get(key) not in (None, "")})


class MovieSerializer(serializers.Serializer):
    """Documents a movie; movies.catalogue builds it."""

    id = serializers.IntegerField(help_text="What /api/recommend's `answers` and `exclude` take.")
    title = serializers.CharField(help_text="As ml-100k spells it, year included.")
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    rating_count = serializers.IntegerField(help_text="How many ratings it has.")
    mean_rating = serializers.FloatField(allow_null=True, help_text="Their mean, 1-5.")
    imdb_url = serializers.URLField(allow_null=True, help_text="Where known.")


class MoviePageSerializer(serializers.Serializer):
    """Documents a page of movies; DRF's page-number pagination builds it."""

    count = serializers.IntegerField(help_text="Movies on every page together.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MovieSerializer(many=True)
