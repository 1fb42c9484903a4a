from django.urls import path

from recommender import pages
from recommender.apis import FeedbackApi, InterviewApi, ModelCardApi, RecommendApi

urlpatterns = [
    path("api/recommend", RecommendApi.as_view(), name="recommend"),
    path("api/interview", InterviewApi.as_view(), name="interview"),
    path("api/feedback", FeedbackApi.as_view(), name="feedback"),
    path("api/model", ModelCardApi.as_view(), name="model"),
    # The page for people (no JavaScript): each form posts to its own URL.
    path("try/", pages.try_page, name="try"),
    path("try/password", pages.unlock, name="try-password"),
    path("try/profile", pages.set_profile, name="try-profile"),
    path("try/answer", pages.answer, name="try-answer"),
    path("try/mark", pages.mark, name="try-mark"),
    path("try/more", pages.answer_more, name="try-more"),
    path("try/restart", pages.start_over, name="try-restart"),
]
