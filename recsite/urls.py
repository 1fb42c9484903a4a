from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from recsite.access.login import LoginApi, throttle_admin_login
from recsite.health import LivenessApi, ReadinessApi
from recsite.views import HomeApi, ProtectedApi

urlpatterns = [
    path("", HomeApi.as_view(), name="home"),
    path("protected", ProtectedApi.as_view(), name="protected"),
    path("api/protected", ProtectedApi.as_view(), name="api-protected"),
    path("api/login", LoginApi.as_view(), name="login"),
    path("", include("recommender.urls")),
    path("", include("movies.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script comes from /api/docs/?script and its page's style from a
    # stylesheet, not inline: the Content-Security-Policy (recsite.middleware) allows neither.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="recsite/swagger_ui.html"
        ),
        name="docs",
    ),
    # Ahead of the admin's own URLs: its login view, throttled (recsite.access.login).
    path("admin/login/", throttle_admin_login(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", LivenessApi.as_view(), name="healthz"),
    path("readyz", ReadinessApi.as_view(), name="readyz"),
]

# Errors outside DRF views get the API's JSON shape too (recsite.exceptions).
handler400 = "recsite.exceptions.bad_request"
handler404 = "recsite.exceptions.page_not_found"
handler500 = "recsite.exceptions.server_error"
