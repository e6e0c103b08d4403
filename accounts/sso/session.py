"""A single sign-on session checked again against the organisation's provider at an interval (OIDC_RECHECK_SECONDS):
the refresh token allauth keeps is exchanged at the provider's token endpoint, the user's claims are read again from
its userinfo endpoint and applied to the memberships. A provider that refuses (the account disabled there, the
grant revoked) or cannot be reached ends the session: access is never kept on an answer nobody gave."""

from __future__ import annotations

import logging
import time
from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.http import HttpRequest
from requests import RequestException

from accounts.sso.memberships import memberships_apply
from accounts.sso.provider import OrganisationAdapter, verified_id_token

logger = logging.getLogger(__name__)
CHECKED = "sso_checked_at"
PROVIDER_KEY = "sso_provider"


def claims_of(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims with userinfo's over them (fresher, and where providers put groups)."""
    return {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}


def mark_checked(request: HttpRequest, provider_id: str) -> None:
    request.session[CHECKED] = time.time()
    request.session[PROVIDER_KEY] = provider_id


def due(request: HttpRequest) -> bool:
    checked = request.session.get(CHECKED)
    return checked is not None and time.time() - float(checked) >= settings.OIDC_RECHECK_SECONDS


def recheck(request: HttpRequest) -> bool:
    """Ask the provider again; apply what it says. False: the session must end."""
    user = request.user
    provider_id = request.session.get(PROVIDER_KEY, "")
    account = SocialAccount.objects.filter(user=user, provider=provider_id).first()
    token = SocialToken.objects.filter(account=account).first() if account else None
    if token is None or not token.token_secret:
        return False
    adapter = OrganisationAdapter(request, provider_id)
    app = adapter.get_provider().app
    try:
        with get_adapter().get_requests_session() as http:
            answer = http.post(
                adapter.access_token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": token.token_secret,
                    "client_id": app.client_id,
                    "client_secret": app.secret,
                },
                timeout=10,
            )
            if answer.status_code != 200:
                logger.info("Single sign-on re-check refused user_id=%s status=%s", user.pk, answer.status_code)
                return False
            tokens = answer.json()
            claims: dict[str, Any] = {}
            if tokens.get("id_token"):
                claims = verified_id_token(adapter.openid_config, app.client_id, tokens["id_token"])
            info = http.get(
                adapter.profile_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
            )
            info.raise_for_status()
            claims = {**claims, **info.json()}
    except (RequestException, OAuth2Error, KeyError, ValueError) as error:
        logger.warning("Single sign-on re-check failed user_id=%s error=%s", user.pk, type(error).__name__)
        return False
    token.token = tokens["access_token"]
    token.token_secret = tokens.get("refresh_token") or token.token_secret
    token.save(update_fields=["token", "token_secret"])
    assert account is not None
    account.extra_data = {**account.extra_data, "userinfo": claims}
    account.save(update_fields=["extra_data"])
    memberships_apply(user=user, claims=claims)  # type: ignore[arg-type]
    if not user.is_active:
        return False  # a leaver now: their sessions are gone, this one is signed out by the caller
    mark_checked(request, provider_id)
    return True
