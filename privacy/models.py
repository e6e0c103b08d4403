"""What the service records about its own handling of personal data: erasures (with their receipt), requests for
access, and legal holds."""

from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.local_time import local_date, local_label
from config.personal import Category, Erase, personal

UTC = ZoneInfo("UTC")  # these stamps belong to no department's zone: labelled UTC, in the one format


class Reason(models.TextChoices):
    REQUEST = "request", "Asked for (Art. 17)"
    RETENTION = "retention", "Past the department's retention period"


class Erasure(models.Model):
    """A claimant's personal data erased: when, why, by whom (nobody: the retention task) and its receipt, the rows
    it changed per table. A second erasure of the appointment answers this receipt and changes nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="erasure")
    erased_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at"]
        # The one permission for erasing, exporting and holding (privacy.permissions), in the API and the back office.
        permissions = [("manage_personal_data", "Can erase, export and hold a claimant's personal data")]

    def __str__(self) -> str:
        return f"erased {local_label(self.erased_at, UTC)}"


class AccessKind(models.TextChoices):
    EXPORT = "export", "Everything held about the claimant"
    SEARCH = "search", "Appointments of a person"


class AccessRequest(models.Model):
    """A request for what the service holds about a person (Art. 15): who asked, when, through which door, and
    what it found. The person's email or phone number searched for is not kept."""

    kind = models.CharField(max_length=20, choices=AccessKind.choices)
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    found = models.PositiveIntegerField(default=0, help_text="Appointments answered.")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    door = models.CharField(max_length=20, help_text="api or back office")

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({local_label(self.asked_at, UTC)})"


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def active(self, today: date) -> LegalHoldQuerySet:
        """Holds in force on `today`: not lifted, and without an end or ending on it or later."""
        return self.filter(Q(until__isnull=True) | Q(until__gte=today), lifted_at__isnull=True)


class LegalHold(models.Model):
    """An appointment kept from erasure (a claim, an investigation): the retention task skips it and an erasure of
    it is refused with the reason, until it is lifted or its end date passes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey("appointments.Appointment", on_delete=models.CASCADE, related_name="legal_holds")
    # Staff's words; the claimant's name or contact details, if written in, are taken out by the erasure.
    reason = personal(
        models.TextField(max_length=1000), Category.CASE_DATA, "why the appointment is kept from erasure", Erase.SCRUB
    )
    until = models.DateField(null=True, blank=True, help_text="The last day of the hold; blank until lifted.")
    placed_at = models.DateTimeField()
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(lifted_at__isnull=True), name="legal_hold_one_in_force"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="legal_hold_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"legal hold from {local_date(self.placed_at.date())}"
