"""allauth's social account adapter for the organisation's sign-in: the nonce of provider.py checked, sign-up open
only through a configured provider (there are no local sign-up pages: SOCIALACCOUNT_ONLY)."""

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.helpers import render_authentication_error
from django.http import HttpRequest

from accounts.sso.memberships import access_from_claims, memberships_apply
from accounts.sso.provider import PROVIDER
from accounts.sso.session import claims_of


def nonce_matches(state: dict[str, Any] | None, id_token: dict[str, Any] | None) -> bool:
    expected = (state or {}).get("nonce")
    return bool(expected) and isinstance(id_token, dict) and id_token.get("nonce") == expected


class OrganisationAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        if sociallogin.account.provider != PROVIDER and getattr(sociallogin.provider, "id", "") != PROVIDER:
            return
        if not nonce_matches(sociallogin.state, sociallogin.account.extra_data.get("id_token")):
            # An ID token from another sign-in (replayed) or none at all: refused like any failed sign-in.
            raise ImmediateHttpResponse(render_authentication_error(request, sociallogin.provider))
        claims = claims_of(sociallogin.account.extra_data)
        if not access_from_claims(claims).any:
            # Nothing here for them: no account is made; one that exists has left (deactivated, as the re-check does).
            if sociallogin.is_existing:
                memberships_apply(user=sociallogin.user, claims=claims)
            raise ImmediateHttpResponse(render_authentication_error(request, sociallogin.provider))

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return True
