from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

import config.api.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from config import health

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("brand/favicon.svg"), permanent=True)),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    # The organisation's single sign-on (django-allauth; accounts/sso/). allauth's own sign-in page is the back
    # office's, which has the organisation's buttons.
    path("accounts/login/", RedirectView.as_view(url="/admin/login/", query_string=True)),
    path("accounts/", include("allauth.urls")),
    path("", include("meetings.urls")),
    path("", include("desk.urls")),
    re_path(r"^api/v1/", include("appointments.api.urls")),
    re_path(r"^api/v1/", include("meetings.api.urls")),
    re_path(r"^api/v1/", include("webhooks.api.urls")),
    re_path(r"^api/v1/", include("privacy.api.urls")),
    re_path(
        r"^api/schema/?$",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="schema",
    ),
    re_path(
        r"^api/docs/?$",
        # The split view serves its start-up script from a URL: no inline script, so the CSP stays strict.
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", authentication_classes=[], permission_classes=[AllowAny]
        ),
        name="docs",
    ),
]

# The claimants' error pages in their language (issue 22.1); the back office's and the API's stay Django's own.
handler400 = "meetings.error_pages.bad_request"
handler403 = "meetings.error_pages.permission_denied"
handler404 = "meetings.error_pages.page_not_found"
handler500 = "meetings.error_pages.server_error"
