"""The ledger's rows: one `Entry` per thing that happened to an appointment, chained per appointment, and the
daily `Digest` of every chain's head (ledger/__init__.py says what they are for and how they are read)."""

from __future__ import annotations

import pgtrigger
from django.db import models

from config.personal import Category, Erase
from config.personal import personal as mark


class ActorType(models.TextChoices):
    STAFF = "staff"  # a signed-in user in the back office
    API_USER = "api_user"  # the user behind an API token
    CLAIMANT = "claimant"
    INTERPRETER = "interpreter"
    GUEST = "guest"
    AGENT = "agent"  # the agent's participant (acting from a link: not the back office's staff user)
    SYSTEM = "system"  # the service itself: the worker's tasks, rules that follow a change
    COMMAND = "command"  # an operator's management command


class Channel(models.TextChoices):
    API = "api"
    BACK_OFFICE = "back_office"
    CLAIMANT_PAGE = "claimant_page"  # the participants' own pages (/join/<token>): claimant, interpreter, guest
    COMMAND = "command"
    WORKER = "worker"


class _ChangesMoreThanErasing(pgtrigger.Condition):
    """An UPDATE that does anything but empty `personal`: any other column differs, or `personal` is not NULL."""

    def __init__(self) -> None:
        super().__init__("erase")

    def resolve(self, model: type[models.Model]) -> str:
        others = pgtrigger.AnyChange(exclude=["personal"]).resolve(model)
        return f'NEW."personal" IS NOT NULL OR ({others})'


class Entry(models.Model):
    """One thing that happened to an appointment. The hashed part is every column but `personal` and `id`;
    `personal` holds the personal values (names, a claimant's old and new details, a free-text reason) with a
    salt, and only their digest (`personal_digest`) is hashed, so emptying `personal` leaves the chain whole."""

    id = models.BigAutoField(primary_key=True)
    # No foreign key constraint and no cascade: the ledger outlives its appointment, and is never deleted with it.
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    sequence = models.PositiveIntegerField()  # 1, 2, 3… within the appointment
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=20, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    type = models.CharField(max_length=64)  # the webhooks' names (appointment.updated…) and the ledger's own
    data = models.JSONField(default=dict)  # what happened, without personal values (hashed)
    personal_digest = models.CharField(max_length=64, blank=True)  # SHA-256 of `personal` as written; "" if none
    personal = mark(  # {"salt", "values"}: erasable (to NULL, the one change the trigger lets through), not hashed
        models.JSONField(null=True, blank=True),
        Category.COPY,
        "the ledger's personal values: who acted, a claimant's old and new details, a reason as written",
        Erase.EMPTY,
    )
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["appointment_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "sequence"], name="ledger_entry_sequence_unique"),
        ]
        triggers = [
            pgtrigger.Protect(name="ledger_entry_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="ledger_entry_only_erase", operation=pgtrigger.Update, condition=_ChangesMoreThanErasing()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence} of {self.appointment_id}"

    @property
    def personal_values(self) -> dict[str, object]:
        """The personal values written with the entry, or {} once erased (or when there were none)."""
        return dict((self.personal or {}).get("values") or {})


class Digest(models.Model):
    """Once a day, every appointment's chain head, grouped by department, in one SHA-256 (logged for an operator
    to keep elsewhere): the ledger as it stood can be checked against it later."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()
    digest = models.CharField(max_length=64)
    # Per department (by id): how many chains and the digest of their heads.
    departments = models.JSONField(default=dict)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.digest}"
