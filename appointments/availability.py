"""When a department can be booked (issue 23.1): its booking rules, the weekly working hours of each agent (and of
the department as a whole, for unassigned appointments) in the department's zone, and the days that differ (leave,
bank holidays, a one-off late day). appointments.slots reads them into free times; appointments.free_times is the
arithmetic. Imported by appointments.models, so Django knows these models; they import nothing of it (their
foreign keys name it)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, IntegerField, Q

from config.local_time import local_date

MAX_BUFFER = 240  # minutes; the agent-overlap check reads this far around a time (appointments.services.shared)
SLOT_CHOICES = [(minutes, f"{minutes} minutes") for minutes in (5, 10, 15, 20, 30, 45, 60, 90, 120)]
MIDNIGHT = time(0, 0)


class Buffered(models.Model):
    """The department's buffers as they were when the appointment was last booked, moved or given its agent: an
    assigned live appointment takes its agent's time from `buffer_before` before its start to `buffer_after` after
    its end, and on PostgreSQL the agent-overlap exclusion constraint reads these columns (migration 0009)."""

    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, editable=False, validators=[MaxValueValidator(MAX_BUFFER)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, editable=False, validators=[MaxValueValidator(MAX_BUFFER)]
    )

    class Meta:
        abstract = True


class BookingRules(models.Model):
    """A department's booking rules; a department without a row has the defaults (`rules_of`)."""

    department = models.OneToOneField(
        "appointments.Department", on_delete=models.CASCADE, primary_key=True, related_name="booking_rules"
    )
    slot_minutes = models.PositiveSmallIntegerField(
        "slot length",
        choices=SLOT_CHOICES,
        default=30,
        help_text="Free times start on the department's clock at multiples of this from midnight (30: :00 and :30).",
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        "buffer before (minutes)", default=0, validators=[MaxValueValidator(MAX_BUFFER)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        "buffer after (minutes)", default=0, validators=[MaxValueValidator(MAX_BUFFER)]
    )
    notice_to_book_minutes = models.PositiveIntegerField(
        "minimum notice to book (minutes)", default=60, validators=[MaxValueValidator(60 * 24 * 90)]
    )
    notice_to_reschedule_minutes = models.PositiveIntegerField(
        "minimum notice to reschedule (minutes)", default=24 * 60, validators=[MaxValueValidator(60 * 24 * 90)]
    )
    notice_to_cancel_minutes = models.PositiveIntegerField(
        "minimum notice to cancel (minutes)", default=24 * 60, validators=[MaxValueValidator(60 * 24 * 90)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        "bookable this many days ahead", default=60, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    max_claimant_reschedules = models.PositiveSmallIntegerField(
        "reschedules a claimant may make", default=2, validators=[MaxValueValidator(20)]
    )

    class Meta:
        verbose_name = verbose_name_plural = "booking rules"
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_before_minutes__lte=MAX_BUFFER, buffer_after_minutes__lte=MAX_BUFFER),
                name="booking_rules_buffers_bounded",
            ),
            models.CheckConstraint(condition=Q(horizon_days__gte=1), name="booking_rules_horizon_positive"),
        ]

    def __str__(self) -> str:
        return "Booking rules"


class Weekday(models.IntegerChoices):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


def _ends_after_start() -> Q:
    return Q(ends_at__gt=F("starts_at")) | Q(ends_at=MIDNIGHT)


def _check_member(row: WorkingHours | HoursException) -> None:
    if (
        row.agent_id is not None
        and row.department_id is not None
        and not row.department.members.filter(pk=row.agent_id, is_staff=True).exists()
    ):
        raise ValidationError({"agent": "The agent must be a staff member of the department."})


class WorkingHours(models.Model):
    """One weekly stretch of work, in the department's zone: an agent's, or the department's as a whole (no
    agent: the hours of its unassigned appointments). An end of 00:00 is midnight at the end of the day."""

    department = models.ForeignKey("appointments.Department", on_delete=models.CASCADE, related_name="working_hours")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="working_hours",
        help_text="Blank: the department's own hours, for appointments nobody is assigned to.",
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField("from")
    ends_at = models.TimeField("until", help_text="00:00 is midnight at the end of the day.")

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["agent_id", "weekday", "starts_at"]
        constraints = [models.CheckConstraint(condition=_ends_after_start(), name="working_hours_ends_after_start")]
        indexes = [models.Index(fields=["department", "agent"], name="working_hours_department_agent")]

    def __str__(self) -> str:
        return f"{Weekday(self.weekday).label} {self.starts_at:%H:%M} to {self.ends_at:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.ends_at != MIDNIGHT and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The hours must end after they start (00:00 for midnight)."})
        _check_member(self)


class HoursException(models.Model):
    """A day that differs from the week, in the department's zone: not working (leave, a bank holiday; the whole
    day, or from one time to another) or working extra (a one-off late day). The department's (no agent) apply to
    every agent and to its own hours; where both say something of one time, not working wins."""

    class Kind(models.TextChoices):
        OFF = "off", "Not working"
        EXTRA = "extra", "Working extra"

    department = models.ForeignKey("appointments.Department", on_delete=models.CASCADE, related_name="hours_exceptions")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="hours_exceptions",
        help_text="Blank: the whole department (a bank holiday).",
    )
    day = models.DateField()
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.OFF)
    starts_at = models.TimeField("from", null=True, blank=True, help_text="Blank with 'until': the whole day.")
    ends_at = models.TimeField("until", null=True, blank=True, help_text="00:00 is midnight at the end of the day.")
    note = models.CharField(max_length=100, blank=True, default="", help_text="Annual leave, Bank holiday")

    class Meta:
        ordering = ["day", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["off", "extra"]), name="hours_exception_kind_valid"),
            models.CheckConstraint(
                condition=(Q(starts_at__isnull=True, ends_at__isnull=True) & Q(kind="off"))
                | (Q(starts_at__isnull=False, ends_at__isnull=False) & _ends_after_start()),
                name="hours_exception_times",
            ),
        ]
        indexes = [models.Index(fields=["department", "day"], name="hours_exception_department_day")]

    def __str__(self) -> str:
        return f"{local_date(self.day)}: {self.get_kind_display()}"

    def clean(self) -> None:
        super().clean()
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValidationError({"ends_at": "Give both times, or neither for the whole day."})
        if self.starts_at is None and self.kind == self.Kind.EXTRA:
            raise ValidationError({"starts_at": "Working extra needs the times."})
        if self.starts_at is not None and self.ends_at is not None and MIDNIGHT != self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The times must end after they start (00:00 for midnight)."})
        _check_member(self)


class EpochMinutes(Func):
    """A moment as whole minutes since the epoch, rounded down (free_times.to_minutes): an integer to read, where
    parsing a month of twenty agents' datetimes took longer than the database took to find them."""

    output_field = IntegerField()
    template = "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / 60)"  # SQLite; '%%%%': halved twice

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra_context)
