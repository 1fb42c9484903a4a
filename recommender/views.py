import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender import request_ids
from recommender.serializers import (
    RecommendInputSerializer,
    RecommendOutputSerializer,
    recommend_input,
)
from recommender.serving import Profile, get_recommender
from recsite.schema import error_response


class RecommendApi(APIView):
    @extend_schema(
        summary="Recommend movies for a new user known by age, gender and occupation",
        request=RecommendInputSerializer,
        responses={
            200: RecommendOutputSerializer,
            400: error_response("Invalid or missing parameter"),
            401: error_response("Missing, expired or invalid token"),
            503: error_response("No trained model is available"),
        },
    )
    def post(self, request):
        data = recommend_input(request.data)
        recommender = get_recommender()
        profile = Profile(age=data["age"], gender=data["gender"], occupation=data["occupation"])
        items = recommender.recommend(
            profile,
            data["max_recs"],
            genres=data.get("genres", ()),
            exclude=data.get("exclude", ()),
        )
        return Response(
            {
                "recommendations": [item["title"] for item in items],
                "items": items,
                "model_version": recommender.version,
                "request_id": request_ids.sign(
                    uuid.uuid4().hex,
                    age=profile.age,
                    gender=profile.gender,
                    occupation=profile.occupation,
                ),
            }
        )
