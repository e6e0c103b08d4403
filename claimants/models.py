"""The claimant of an appointment and the department-defined data collected about them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from config.personal import Category, personal

_WHO = "to know who the appointment is with (the agent, the claimant's messages and page)"


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
CLAIMANT_WRITABLE_FIELDS: tuple[str, ...] = ("name", "phone_number", "email", "date_of_birth", "preferred_language")


class Claimant(models.Model):
    """The person the appointment is with; one per appointment."""

    # Not a column: the data items a read or a change kept with the claimant (keep_data_items), or None.
    _kept_data_items: list[ClaimantData] | None = None

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="claimant")
    # Null only once erased (erased_at): the claimant's name is required until then.
    name = personal(models.CharField(max_length=255, null=True), Category.NAME, _WHO)
    phone_number = personal(
        models.CharField(max_length=20, null=True, blank=True, help_text="E.164, e.g. +447911123456"),
        Category.CONTACT,
        "to send the claimant their link, reminders and changes by text message",
    )
    email = personal(
        models.EmailField(max_length=254, null=True, blank=True),
        Category.CONTACT,
        "to send the claimant their link, reminders and changes by email",
    )
    date_of_birth = personal(
        models.DateField(null=True, blank=True),
        Category.DATE_OF_BIRTH,
        "to check the claimant's identity on their page",
    )
    # The language the claimant reads (issue 22.1, BCP 47: en, cy): their pages and every message from then on.
    # Null until they, the API or staff choose it (the department's default applies); absent from the API then.
    preferred_language = personal(
        models.CharField(
            "preferred language",
            max_length=8,
            choices=settings.LANGUAGES,
            null=True,
            blank=True,
            help_text="Their pages, emails, text messages and calendar invitations are in this language.",
        ),
        Category.CONTACT,
        "to show the claimant's pages and write their messages in the language they chose",
    )
    # When the claimant's personal data was erased (privacy.erasure): the appointment stays, without them.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Every change, with who made it: services write through config.history (docs/decisions.md, issue 19.3).
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        appointment_id: uuid.UUID

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="claimant_name_not_empty"),
            models.CheckConstraint(
                condition=Q(name__isnull=False) | Q(erased_at__isnull=False), name="claimant_name_until_erased"
            ),
            models.CheckConstraint(
                condition=Q(phone_number__isnull=True) | Q(phone_number__startswith="+"),
                name="claimant_phone_e164",
            ),
        ]
        # A search by a phone's beginning (+44790…) reads a range of this index (AppointmentQuerySet.search): the
        # pattern operator class lets PostgreSQL use a btree for LIKE 'prefix%' whatever the collation.
        indexes = [
            models.Index(fields=["phone_number"], name="claimant_phone_prefix", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name or "(erased)"

    def data_items(self) -> list[ClaimantData]:
        """The data items with their fields, in the department's order: the ones kept with the claimant
        (`keep_data_items`) or read with it (`prefetch_related("data")` ordered by field, as
        `Appointment.objects.with_related()` does), else one query. A change that edits items in memory edits
        these, so what is shown after it is what was written."""
        if self._kept_data_items is not None:
            return list(self._kept_data_items)
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "data" in cache:
            return list(cache["data"])
        return list(ClaimantData.objects.filter(claimant=self).select_related("field").order_by_field())

    def keep_data_items(self, items: list[ClaimantData]) -> None:
        """Items read with the claimant (in the department's order, with their fields): `data_items()` answers with
        them. Kept as a list, not in Django's prefetch cache, whose related queryset cost a change more to build
        than the items' reading (issue 26.2); `data.all()` reads the database."""
        self._kept_data_items = list(items)

    def forget_data_items(self) -> None:
        """After items were added, re-pointed or deleted in the database: the next `data_items()` reads them."""
        self._kept_data_items = None
        getattr(self, "_prefetched_objects_cache", {}).pop("data", None)


class ClaimantDataQuerySet(models.QuerySet["ClaimantData"]):
    def order_by_field(self) -> ClaimantDataQuerySet:
        return self.order_by("field__position", "field__name")


class ClaimantData(models.Model):
    """A claimant's value for one of the department's data fields, stored in a canonical text form."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claimant = models.ForeignKey(Claimant, on_delete=models.CASCADE, related_name="data")
    field = models.ForeignKey(ClaimantDataField, on_delete=models.PROTECT, related_name="values")
    value = personal(
        models.TextField(null=True, blank=True, max_length=2000),
        Category.CASE_DATA,
        "the data the department collects for the appointment (its data fields)",
    )

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
