"""Webhook endpoints of a department, and every delivery of an event to one, with each attempt kept."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models

from config.personal import Category, personal
from events.models import EventType

# Events an endpoint may ask for (the ping is sent to whoever asks for one, whatever they subscribed to).
SUBSCRIBABLE = [value for value in EventType.values if value != EventType.WEBHOOK_TEST]
RESPONSE_BODY_KEPT = 1024


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey("appointments.Department", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    # The event types wanted; empty means every event.
    event_types = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    # After a rotation the secret it replaced signs too, beside the new one, until then (Standard Webhooks' list of
    # signatures), so receivers can switch without missing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    # Set when a delivery first fails after a success; cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True, default="", editable=False)
    # Who created it, or who took it over (None for endpoints older than the field, or whose creator was deleted):
    # a deactivated creator's endpoints wait for a manager to keep or remove them.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "webhook endpoint"
        # The one permission for endpoints, their deliveries and secrets (webhooks.permissions), instead of
        # Django's view/add/change/delete: the API has no such split, and one rule cannot drift between doors.
        permissions = [("manage_endpoint", "Can manage webhook endpoints, their deliveries and secrets")]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, at: datetime) -> list[str]:
        """The secrets a message sent at `at` is signed with: the current one, and the previous while it lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and at < expires:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def wants(self, event_type: str) -> bool:
        return event_type == EventType.WEBHOOK_TEST or not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    """One event for one endpoint: the same `webhook-id` (the event's) and body on every attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # An attempt in flight holds the delivery until then (a crashed worker's hold simply expires).
    held_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["endpoint", "status"], condition=models.Q(status="pending"), name="delivery_pending")
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint.url}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why there is no status code (timeout, refused address, connection error), or "" when there is one.
    error = models.CharField(max_length=300, blank=True, default="")
    response_body = personal(
        models.TextField(blank=True, default=""), Category.COPY, "what the receiver answered, to find a fault"
    )

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        # No time: the back office shows an attempt's time beside it, in the department's zone (issue 17.10).
        return f"HTTP {self.status_code}" if self.status_code else "no answer"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
