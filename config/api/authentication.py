"""Bearer authentication: knox's hashed tokens, with revocation and last-use tracking."""

from datetime import timedelta
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from config.api.errors import UNAUTHENTICATED_MESSAGE
from config.api.http import names_dry_run
from config.net import client_address, over_limit
from config.prepared import Prepared, columns, from_row


def _lookup(key: Any) -> Any:
    users = columns(get_user_model(), "user__")
    return get_token_model().objects.filter(token_key=key).values_list(*columns(get_token_model()), *users)


# The tokens with this key and their users, in one statement compiled once (config.prepared).
_LOOKUP = Prepared(_lookup)


def _candidates(key: str) -> list[Any]:
    """The tokens whose key is `key`, each with its user loaded, as `select_related("user")` gives them."""
    found = []
    for row in _LOOKUP.rows(key):
        api_token, api_token.user = from_row(row, [get_token_model(), get_user_model()])
        found.append(api_token)
    return found


# How often a token's last_used_at is written: once a minute is precise enough and spares a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(TokenAuthentication):
    """knox's hashed tokens behind `Authorization: Bearer`, plus revocation and last-use tracking.

    knox's own lookup decodes the token unguarded (a 500 on non-UTF-8 bytes) and deletes the user's
    expired tokens on every request (one query per token); this keeps one query and keeps the audit rows.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        try:
            if len(parts) != 2 or len(parts[1]) > 128:
                raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE)
            try:
                token = parts[1].decode("ascii")
            except UnicodeDecodeError:
                raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE) from None
            return self.authenticate_credentials(token, note_use=not names_dry_run(request))
        except exceptions.AuthenticationFailed:
            # Guessing tokens is limited per address, and only failures count: a valid token always passes, so
            # one client's bad token cannot lock out every integration behind the same NAT, egress or proxy. The
            # cost of a guess past the limit is the one indexed lookup a valid token costs too.
            # internal: DRF's `request._request` (the HttpRequest it wraps), pinned by test_internals_pinned.py.
            address = f"bad-token:{client_address(request._request)}"
            if over_limit(address, settings.API_BAD_TOKEN_LIMIT_PER_MINUTE):
                raise exceptions.Throttled(wait=60) from None
            raise

    def authenticate_credentials(self, token: str, note_use: bool = True) -> tuple[Any, Any]:
        """The token's user and the token; `note_use` False leaves its last use as it was (a dry run writes nothing)."""
        digest = hash_token(token)
        now = timezone.now()
        tokens = get_token_model().objects  # accounts.ApiToken (KNOX_TOKEN_MODEL): this module imports no app
        for api_token in _candidates(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if not compare_digest(digest, api_token.digest):
                continue
            if not api_token.is_usable(now) or not api_token.user.is_active:
                break
            stale = api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION
            if note_use and stale:
                tokens.filter(pk=api_token.pk).update(last_used_at=now)
            return api_token.user, api_token
        raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE)
