"""The organisation's OpenID Connect providers, as allauth providers (several: one allauth "app" each, configured
by OIDC_PROVIDERS; discovery from each issuer's /.well-known/openid-configuration).

allauth's own openid_connect provider is the base: discovery, the authorisation code with PKCE, the token call,
the ID token's issuer, audience and expiry checked with PyJWT. Two checks it leaves out, which staff sign-in needs,
are added here: the ID token's signature is always checked against the provider's published keys (allauth skips
it when the token came straight from the token endpoint, which the specification allows over TLS; we check it
anyway, so a compromised or misconfigured transport cannot hand us a forged identity), and a nonce is sent with
each sign-in and must come back in the ID token (a token replayed from another sign-in is refused).
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

PROVIDER = "organisation"


class OrganisationAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        return verified_id_token(self.openid_config, app.client_id, id_token)

    def get_callback_url(self, request: HttpRequest, app: Any) -> str:
        url = reverse(f"{PROVIDER}_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, url, self.redirect_uri_protocol)


def verified_id_token(openid_config: dict[str, Any], client_id: str, id_token: str) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's published key), issuer, audience and expiry are
    checked; allauth's OAuth2Error otherwise (also for a token without a key id or with a key the provider does
    not publish, which allauth's key lookup answers with a KeyError)."""
    try:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=openid_config["jwks_uri"],
            issuer=openid_config["issuer"],
            audience=client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
    except (KeyError, ValueError, TypeError, jwt.PyJWTError) as error:
        raise OAuth2Error("Invalid id_token") from error


class OrganisationProvider(OpenIDConnectProvider):
    id = PROVIDER
    name = "Your organisation"
    oauth2_adapter_class = OrganisationAdapter
    pkce_enabled_default = True

    def get_oauth2_adapter(self, request: HttpRequest) -> OrganisationAdapter:
        return OrganisationAdapter(request, self.app.provider_id)

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse(f"{PROVIDER}_login", kwargs={"provider_id": self.app.provider_id})
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self) -> str:
        return reverse(f"{PROVIDER}_callback", kwargs={"provider_id": self.app.provider_id})

    def redirect(
        self, request: HttpRequest, process: Any, next_url: str | None = None, data: Any = None, **kwargs: Any
    ) -> HttpResponse:
        # The nonce goes to the provider in the request and is kept in allauth's state for this sign-in (the
        # session), where the adapter of accounts.sso.receivers compares it with the ID token's.
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        auth_params["nonce"] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


provider_classes = [OrganisationProvider]
