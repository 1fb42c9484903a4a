from django.urls import path

from recommender.apis import FeedbackApi, InterviewApi, ModelCardApi, RecommendApi

urlpatterns = [
    path("api/recommend", RecommendApi.as_view(), name="recommend"),
    path("api/interview", InterviewApi.as_view(), name="interview"),
    path("api/feedback", FeedbackApi.as_view(), name="feedback"),
    path("api/model", ModelCardApi.as_view(), name="model"),
]
