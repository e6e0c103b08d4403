"""The error pages a claimant may meet (issue 22.1): Django's 400, 403, 404 and 500 and a refused form token, in
the page's language with `lang` matching the text (config/urls.py names these handlers, the settings the token's).

The language is the one the claimant's page was speaking when it failed (meetings.page_language.use_language keeps
it on the request: a Welsh claimant's failed page is Welsh), else the switch's, the browser's last choice or its
Accept-Language. The back office, the API and the staff's sign-in keep Django's and the API's own answers, in
English, byte for byte. A 500 page reads no database (it may be why the page failed) and no request context.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views import csrf, defaults

from appointments.models import organisation_contact
from meetings.page_language import language_switch, request_language

# Pages that are not the claimants': staff's and integrations', which stay as Django and the API answer them.
_NOT_CLAIMANTS = ("/admin/", "/api/", "/accounts/")


def _claimants(request: HttpRequest) -> bool:
    return not request.path.startswith(_NOT_CLAIMANTS)


def _language(request: HttpRequest) -> str:
    return getattr(request, "page_language", None) or request_language(request)


def _page(request: HttpRequest, status: int, template: str = "") -> HttpResponse:
    with translation.override(_language(request)):
        context = {"contact": organisation_contact(), "languages": language_switch()}
        response = HttpResponse(render_to_string(template or f"errors/{status}.html", context), status=status)
        response["Content-Language"] = translation.get_language() or ""
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    return _page(request, 400) if _claimants(request) else defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    return _page(request, 403) if _claimants(request) else defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    return _page(request, 404) if _claimants(request) else defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponseBase:
    return _page(request, 500) if _claimants(request) else defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    """A form token refused (CSRF_FAILURE_VIEW): the page was open too long or its cookie went. A step the page
    posts as JSON gets its message the way the page shows a step's errors; a form, a page."""
    if not _claimants(request):
        return csrf.csrf_failure(request, reason)
    if request.content_type == "application/json":
        with translation.override(_language(request)):
            message = gettext("This page has expired. Please reload the page and try again.")
        return JsonResponse({"message": message}, status=403)
    return _page(request, 403, "errors/403_csrf.html")
