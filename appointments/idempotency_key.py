"""A create request's Idempotency-Key and the answer it got (appointments.api.idempotency), importable from
appointments.models as before."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from config.personal import Category, Erase, personal


class IdempotencyKey(models.Model):
    """A create request's `Idempotency-Key` and the response it got, replayed to retries for 24 hours.

    Keys are per caller. The row is written in the same transaction as the appointment, so a key is taken
    exactly when its appointment exists; a concurrent request with the same key waits on the unique index.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body as parsed.")
    response_status = models.PositiveSmallIntegerField(null=True)
    # The created appointment as answered, claimant included.
    response_body = personal(
        models.JSONField(null=True), Category.COPY, "replayed to a retry of the create for 24 hours", Erase.SCRUB
    )
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return self.key
