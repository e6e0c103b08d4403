"""Issuing and revoking API tokens, for the admin and the create_api_token command alike."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import ApiToken


def api_token_create(*, user: Any, name: str = "", expires_in: timedelta | None) -> tuple[ApiToken, str]:
    """Issue a bearer token for a user; returns the row and the secret, which is shown once and never stored."""
    # knox's manager stores only the digest and turns the timedelta into an expiry date (None: never).
    token, secret = ApiToken.objects.create(user=user, expiry=expires_in, name=name)
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token at once; the row stays, so who had access and until when stays answerable."""
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token
