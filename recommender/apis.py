"""The recommender's API: one thin class per operation (parse, call, shape)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from coldstart.serving import Profile
from common.schema import NOT_AUTHENTICATED, error_response
from movies.services import feedback_record
from recommender import request_ids
from recommender.selectors import model_card
from recommender.serializers import (
    FeedbackInputSerializer,
    FeedbackOutputSerializer,
    InterviewInputSerializer,
    InterviewOutputSerializer,
    ModelCardSerializer,
    RecommendInputSerializer,
    RecommendOutputSerializer,
)
from recommender.serving import get_recommender
from recsite.access.limits import RateThrottle

NO_MODEL = error_response("No trained model is available")
# One instance of each serves every request: building a serializer deep-copies all of its
# fields, which costs more than ranking; validation itself keeps no state on it.
RECOMMEND_INPUT = RecommendInputSerializer()
INTERVIEW_INPUT = InterviewInputSerializer()


def signed_request_id(request, profile: Profile) -> str:
    """recsite.middleware's id for this request, signed for this profile: feedback quotes it."""
    return request_ids.sign(
        request.request_id, age=profile.age, gender=profile.gender, occupation=profile.occupation
    )


class RecommendApi(APIView):
    @extend_schema(
        summary="Recommend movies for a new user known by age, gender and occupation",
        tags=["recommendations"],
        request=RecommendInputSerializer,
        responses={
            200: RecommendOutputSerializer,
            400: error_response("Invalid or missing parameter"),
            401: NOT_AUTHENTICATED,
            503: NO_MODEL,
        },
    )
    def post(self, request):
        data = RECOMMEND_INPUT.run_validation(request.data)
        recommender = get_recommender()
        profile = Profile(age=data["age"], gender=data["gender"], occupation=data["occupation"])
        items = recommender.recommend(
            profile,
            data["max_recs"],
            genres=data.get("genres", ()),
            exclude=data.get("exclude", ()),
            answers=data.get("answers", ()),
        )
        return Response(
            {
                "recommendations": [item["title"] for item in items],
                "items": items,
                "model_version": recommender.version,
                "request_id": signed_request_id(request, profile),
            }
        )


class InterviewApi(APIView):
    @extend_schema(
        summary="The movies to ask a new user about next",
        tags=["recommendations"],
        description=(
            "Ask the person about these movies (liked it, rated it 1-5, seen it, not seen "
            "it), send their `answers` here for the next questions, and to /api/recommend "
            "for recommendations that take them into account. Never asks about an answered "
            "movie, the `unknown` placeholder, or two ids of one title."
        ),
        request=InterviewInputSerializer,
        responses={
            200: InterviewOutputSerializer,
            400: error_response(
                "Invalid or missing parameter, or an answer the catalogue cannot take"
            ),
            401: NOT_AUTHENTICATED,
            503: NO_MODEL,
        },
    )
    def post(self, request):
        data = INTERVIEW_INPUT.run_validation(request.data)
        profile = Profile(age=data["age"], gender=data["gender"], occupation=data["occupation"])
        questions = get_recommender().questions(profile, data.get("answers", ()), data["n"])
        return Response({"questions": questions, "request_id": signed_request_id(request, profile)})


class FeedbackTokenThrottle(RateThrottle):
    """Feedback per access token (its jti), whichever client sends it."""

    scope = "feedback_token"

    def key(self, request) -> str:
        return request.auth.get("jti", "")


class FeedbackClientThrottle(RateThrottle):
    """Feedback per client, whatever tokens it holds."""

    scope = "feedback_client"


class FeedbackApi(APIView):
    throttle_classes = (FeedbackTokenThrottle, FeedbackClientThrottle)

    @extend_schema(
        summary="Record that a person rated or chose a movie",
        tags=["feedback"],
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
            400: error_response(
                "Invalid or missing parameter, unknown movie, or a request_id this service "
                "did not issue for these demographics in the last 24 hours"
            ),
            401: NOT_AUTHENTICATED,
            429: error_response("Too much feedback; see Retry-After"),
        },
    )
    def post(self, request):
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_id = request.auth.get("jti", "")  # one person per token, without request_id
        feedback = feedback_record(**serializer.validated_data, token_id=token_id)
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)


class ModelCardApi(APIView):
    @extend_schema(
        summary="Describe the model being served",
        tags=["operations"],
        responses={
            200: ModelCardSerializer,
            401: NOT_AUTHENTICATED,
            503: NO_MODEL,
        },
    )
    def get(self, request):
        return Response(model_card(recommender=get_recommender()))
