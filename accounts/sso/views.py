"""allauth's OpenID Connect sign-in and callback, with the adapter of provider.py (the signature always checked)."""

from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest, HttpResponse

from accounts.sso.provider import OrganisationAdapter


@login_not_required
def login(request: HttpRequest, provider_id: str) -> Any:
    try:
        return OAuth2LoginView.adapter_view(OrganisationAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return OAuth2CallbackView.adapter_view(OrganisationAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
