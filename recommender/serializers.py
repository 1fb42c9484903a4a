from django.core.validators import MaxLengthValidator
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from coldstart.domain import GENDER_CODES, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS
from coldstart.serving import MAX_RECS, Answer
from common.validation import (
    NOT_PLAIN,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    choice_field,
    integer_field,
    string_field,
)
from movies.models import MAX_MOVIE_ID, Movie
from recommender import request_ids
from recommender.serving import MAX_ANSWERS, served_genres, served_recommender

DEFAULT_RECS = 10
MAX_GENRES = 50
MAX_EXCLUDE = 2000
DEFAULT_QUESTIONS = 5
MAX_QUESTIONS = 20
ANSWER_KEYS = ("movie_id", "rating", "seen")
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


# --- Interview answers --------------------------------------------------------------------

NOT_ANSWERS = (
    "The parameter 'answers' must be a list of answers, each "
    '{"movie_id": int, "rating": 1-5} or {"movie_id": int, "seen": true or false}'
)
_ANSWER_KEY_SET = frozenset(ANSWER_KEYS)


def _answer(item) -> Answer | ErrorDetail:
    """One item of ``answers``, or what is wrong with it (its place not yet named)."""
    if type(item) is not dict:
        return ErrorDetail(
            'must be an object: {"movie_id", "rating"} or {"movie_id", "seen"}', "invalid"
        )
    if not item.keys() <= _ANSWER_KEY_SET:
        return ErrorDetail(f"the only valid keys are: {_quoted(ANSWER_KEYS)}", "unknown")
    if "movie_id" not in item:
        return ErrorDetail("Missing parameter: 'movie_id'", "required")
    movie_id, rating, seen = item["movie_id"], item.get("rating"), item.get("seen")
    if type(movie_id) is not int:
        return ErrorDetail("'movie_id' must be an integer", "invalid")
    if "seen" in item and type(seen) is not bool:
        return ErrorDetail("'seen' must be true or false", "invalid")
    if "rating" in item:
        if type(rating) is not int or not MIN_SCORE <= rating <= MAX_SCORE:
            return ErrorDetail(
                f"'rating' must be an integer between {MIN_SCORE} and {MAX_SCORE}", "invalid"
            )
        if seen is False:
            return ErrorDetail("a 'rating' cannot go with \"seen\": false", "invalid")
        return Answer(movie_id, rating, True)
    if seen is None:
        return ErrorDetail(
            f"Missing parameter: 'rating' ({MIN_SCORE}-{MAX_SCORE}) or 'seen' (true or false)",
            "required",
        )
    return Answer(movie_id, None, seen)


def answers_from(data) -> list[Answer]:
    """The ``answers`` of a request, or a ValidationError naming every bad item.

    Items are checked one by one (at most MAX_ANSWERS small objects); their ids against
    the served catalogue's ids in memory, never a query. Without a served model the
    catalogue check is left out: the view answers 503 next.
    """
    if type(data) is not list:
        raise ValidationError(ErrorDetail(NOT_ANSWERS, "not_a_list"))
    if len(data) > MAX_ANSWERS:
        message = f"The parameter 'answers' must hold at most {MAX_ANSWERS} answers"
        raise ValidationError(ErrorDetail(message, "max_length"))
    answers, problems = [], {}
    first_at: dict[object, int] = {}  # by movie_id, valid or not
    for index, item in enumerate(data):
        answer = _answer(item)
        movie_id = item.get("movie_id") if type(item) is dict else None
        if type(movie_id) is int:
            first_at.setdefault(movie_id, index)
        if isinstance(answer, ErrorDetail):
            problems[index] = answer
        elif first_at[movie_id] != index:
            problems[index] = ErrorDetail(
                f"movie {movie_id} is answered twice (also answers[{first_at[movie_id]}])",
                "duplicate",
            )
        else:
            answers.append(answer)
    for index in _not_in_catalogue(
        {answer.movie_id: first_at[answer.movie_id] for answer in answers}
    ):
        problems[index] = ErrorDetail(
            f"movie {data[index]['movie_id']} is not in the catalogue", "does_not_exist"
        )
    if problems:
        raise ValidationError(
            {
                index: [ErrorDetail(f"answers[{index}]: {problem}", problem.code)]
                for index, problem in sorted(problems.items())
            }
        )
    return answers


def _not_in_catalogue(places: dict[int, int]) -> list[int]:
    """Places of the answered ids (``{movie_id: place}``) that the served catalogue does
    not hold; ids beyond any database's range are never in it."""
    recommender = served_recommender()
    return [
        place
        for movie_id, place in places.items()
        if not 0 < movie_id <= MAX_MOVIE_ID
        or (recommender is not None and movie_id not in recommender.column_of)
    ]


# The schema of one answer; AnswersField checks the items itself (answers_from).
class AnswerSerializer(StrictSerializer):
    """What the person said about one movie: `rating` (seen it, this is what I think),
    `"seen": false` (have not seen it) or `"seen": true` (seen it, no opinion)."""

    movie_id = serializers.IntegerField(min_value=1, max_value=MAX_MOVIE_ID)
    rating = serializers.IntegerField(
        min_value=MIN_SCORE, max_value=MAX_SCORE, required=False, help_text="Seen it: this much."
    )
    seen = serializers.BooleanField(
        required=False,
        help_text="false: not seen (no rating then); true: seen, with or without a rating.",
    )


class AnswersField(serializers.ListField):
    """What the person said about movies they were asked about (answers_from)."""

    def __init__(self, **kwargs):
        super().__init__(
            child=AnswerSerializer(),
            max_length=MAX_ANSWERS,
            required=False,
            # DRF formats its messages: the braces of the example must be doubled.
            error_messages={"null": NOT_ANSWERS.replace("{", "{{").replace("}", "}}")},
            **kwargs,
        )

    def to_internal_value(self, data):
        return answers_from(data)

    def plain_value(self, data):
        """The answers when all are good (StrictSerializer's quick path), else NOT_PLAIN."""
        try:
            return answers_from(data)
        except ValidationError:
            return NOT_PLAIN


class ProfileSerializer(StrictSerializer):
    """Who the person is, as coldstart.domain bounds it: every input names them."""

    age = integer_field("age", MIN_AGE, MAX_AGE)
    gender = choice_field("gender", GENDER_CODES)
    occupation = choice_field("occupation", OCCUPATIONS)


class RecommendInputSerializer(ProfileSerializer):
    """Who the recommendations are for (age, gender, occupation), how many, and filters."""

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
    answers = AnswersField(
        help_text="What the person said about movies (see /api/interview): never "
        "recommended, nor their other ids."
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


class InterviewInputSerializer(ProfileSerializer):
    """Who is being asked, what they answered so far, and how many questions to ask next."""

    answers = AnswersField(help_text="The answers so far; those movies are not asked again.")
    n = integer_field("n", 1, MAX_QUESTIONS, required=False, default=DEFAULT_QUESTIONS)


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


class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())


class InterviewOutputSerializer(serializers.Serializer):
    """Documents the response; the view builds it directly."""

    questions = QuestionSerializer(many=True)
    request_id = serializers.CharField()


class FeedbackInputSerializer(ProfileSerializer):
    """Who the person is, the movie, and what they thought of it or chose."""

    request_id = string_field(
        "request_id",
        required=False,
        validators=[MaxLengthValidator(request_ids.MAX_LENGTH, request_ids.NOT_OURS)],
    )
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

    def get_fields(self):
        """``request_id`` first, where the API has always listed it."""
        fields = super().get_fields()
        return {"request_id": fields.pop("request_id"), **fields}

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
        "against the demographic-only ranking, with the lift's 95% CI, and the checks "
        "interview-5/10-among-rated and -no-opinion); each with `over_seeds`, its mean, "
        "min and max over the evaluation's `seeds`."
    )
    file = ModelFileSerializer()
