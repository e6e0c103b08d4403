"""API tokens: who may call the API, as whom, and until when."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A bearer token for the API, stored only as knox's SHA-512 digest; it acts as its user.

    Revoking keeps the row (who had access, and until when, stays answerable); an expired or revoked token
    is refused with 401.
    """

    # Annotated by hand: knox is untyped, so the stubs' plugin cannot infer fields on this subclass.
    name: models.CharField[str, str] = models.CharField(
        max_length=100, blank=True, help_text="What the token is for, e.g. the integration."
    )
    revoked_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True, blank=True)
    last_used_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.user})"

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expiry is None or self.expiry > now)
