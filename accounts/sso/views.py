"""allauth's OpenID Connect sign-in and callback, with the adapter of provider.py (the signature always checked).
A provider that cannot be reached (its discovery, keys or token endpoint) is said as such, on a page of the back
office, rather than as a server error: it is the day the break-glass account is for."""

import logging
from collections.abc import Callable
from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from requests import RequestException

from accounts.sso.provider import OrganisationAdapter

logger = logging.getLogger(__name__)


def _through(view: Any, request: HttpRequest, provider_id: str) -> Any:
    try:
        return view.adapter_view(OrganisationAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except RequestException as error:
        logger.warning("Organisation sign-in unreachable provider=%s error=%s", provider_id, type(error).__name__)
        return TemplateResponse(
            request,
            "admin/organisation_unavailable.html",
            {"title": "Your organisation's sign-in is not answering"},
            status=503,
            headers={"Retry-After": "60"},
        )


def _view(view: Any) -> Callable[[HttpRequest, str], Any]:
    @login_not_required
    def through(request: HttpRequest, provider_id: str) -> Any:
        return _through(view, request, provider_id)

    return through


login = _view(OAuth2LoginView)
callback = _view(OAuth2CallbackView)
