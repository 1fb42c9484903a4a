from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from recommender.feedback import FeedbackApi
from recommender.model_card import ModelCardApi
from recommender.views import RecommendApi
from recsite.auth import throttle_admin_login
from recsite.health import LivenessApi, ReadinessApi
from recsite.login import LoginApi
from recsite.views import HomeApi, ProtectedApi

urlpatterns = [
    path("", HomeApi.as_view(), name="home"),
    path("protected", ProtectedApi.as_view(), name="protected"),
    path("api/protected", ProtectedApi.as_view(), name="api-protected"),
    path("api/login", LoginApi.as_view(), name="login"),
    path("api/recommend", RecommendApi.as_view(), name="recommend"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Ahead of the admin's own URLs: its login view, throttled (recsite.auth).
    path("admin/login/", throttle_admin_login(admin.site.login)),
    path("admin/", admin.site.urls),
    # Feedback, model card and probes (issue 7).
    path("api/feedback", FeedbackApi.as_view(), name="feedback"),
    path("api/model", ModelCardApi.as_view(), name="model"),
    path("healthz", LivenessApi.as_view(), name="healthz"),
    path("readyz", ReadinessApi.as_view(), name="readyz"),
]

# Errors outside DRF views get the API's JSON shape too (recsite.exceptions).
handler400 = "recsite.exceptions.bad_request"
handler404 = "recsite.exceptions.page_not_found"
handler500 = "recsite.exceptions.server_error"
