"""The claimant of an appointment and the department-defined data collected about them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class FieldType(models.TextChoices):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    EMAIL = "email"


class ClaimantDataField(models.Model):
    """A piece of claimant data a department collects for each of its appointments."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey("appointments.Department", on_delete=models.CASCADE, related_name="data_fields")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.STRING)
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in which the fields are listed.")

    if TYPE_CHECKING:
        department_id: uuid.UUID

    class Meta:
        ordering = ["department", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="claimant_field_name_unique_in_dept"),
            models.CheckConstraint(condition=Q(type__in=FieldType.values), name="claimant_field_type_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="claimant_field_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type}{', required' if self.required else ''})"


# The claimant's columns a client may write (the API's `claimant` object, the change form's claimant fields), declared
# once (issue 19.1); tests/appointments/test_writable_fields.py PATCHes and saves each one and reads it back.
CLAIMANT_WRITABLE_FIELDS: tuple[str, ...] = ("name", "phone_number", "email", "date_of_birth")


class Claimant(models.Model):
    """The person the appointment is with; one per appointment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="claimant")
    name = models.CharField(max_length=255)
    phone_number = models.CharField(max_length=20, null=True, blank=True, help_text="E.164, e.g. +447911123456")
    email = models.EmailField(max_length=254, null=True, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    # Every change, with who made it: services write through config.history (docs/decisions.md, issue 19.3).
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        appointment_id: uuid.UUID

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="claimant_name_not_empty"),
            models.CheckConstraint(
                condition=Q(phone_number__isnull=True) | Q(phone_number__startswith="+"),
                name="claimant_phone_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def data_items(self) -> list[ClaimantData]:
        """The data items with their fields, in the department's order: the ones read with the claimant
        (`prefetch_related("data")` ordered by field, as `Appointment.objects.with_related()` does), else one
        query. A change that edits items in memory edits these, so what is shown after it is what was written."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "data" in cache:
            return list(cache["data"])
        return list(ClaimantData.objects.filter(claimant=self).select_related("field").order_by_field())

    def keep_data_items(self, items: list[ClaimantData]) -> None:
        """Items read with the claimant (in the department's order, with their fields), kept as Django keeps a
        `prefetch_related("data")`: `data_items()` and `data.all()` answer with them."""
        prefetched = self.data.all()
        prefetched._result_cache, prefetched._prefetch_done = items, True  # type: ignore[attr-defined]
        self._prefetched_objects_cache = {**getattr(self, "_prefetched_objects_cache", {}), "data": prefetched}

    def forget_data_items(self) -> None:
        """After items were added, re-pointed or deleted in the database: the next `data_items()` reads them."""
        getattr(self, "_prefetched_objects_cache", {}).pop("data", None)


class ClaimantDataQuerySet(models.QuerySet["ClaimantData"]):
    def order_by_field(self) -> ClaimantDataQuerySet:
        return self.order_by("field__position", "field__name")


class ClaimantData(models.Model):
    """A claimant's value for one of the department's data fields, stored in a canonical text form."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claimant = models.ForeignKey(Claimant, on_delete=models.CASCADE, related_name="data")
    field = models.ForeignKey(ClaimantDataField, on_delete=models.PROTECT, related_name="values")
    value = models.TextField(null=True, blank=True, max_length=2000)

    objects = ClaimantDataQuerySet.as_manager()
    # Every change, with who made it: services write through config.history (docs/decisions.md, issue 19.3).
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        claimant_id: uuid.UUID
        field_id: uuid.UUID

    class Meta:
        verbose_name_plural = "claimant data"
        constraints = [
            models.UniqueConstraint(fields=["claimant", "field"], name="claimant_data_one_per_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field.name}: {self.value}"
