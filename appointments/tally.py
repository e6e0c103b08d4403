"""The appointments' counts per department and status, kept by PostgreSQL (issue 26.3), importable from
appointments.models as the other models."""

from __future__ import annotations

from django.db import models

from appointments.models import Status
from appointments.tenancy import InDepartmentsQuerySet


class AppointmentTally(models.Model):
    """How many appointments a department has in a status, kept by PostgreSQL as they are written (issue 26.3).

    The API's list answers Laravel's exact `total` from these rows when it filters by nothing but tenancy, `status`
    and `department_id`, instead of counting every appointment the caller may see (linear in them). Triggers on the
    appointments' table (migration 0014) add to them in the same transaction as each insert, delete, change of
    status or move of department, whatever writes it (the API, the back office, the commands, the retention, raw
    SQL), so that the sum of a department's and status's rows is its count at any snapshot. A writer never waits
    on another here: it adds to one of the rows no other transaction holds (`FOR UPDATE SKIP LOCKED`), or to a new
    row when every one is held, so a department's concurrent creates do not queue on one row, and no two writers
    can deadlock. Not written on SQLite, where the list counts its rows as before.
    """

    department = models.ForeignKey(
        "appointments.Department", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    count = models.BigIntegerField(help_text="What this row adds to its department's and status's count (may be < 0).")

    objects = InDepartmentsQuerySet["AppointmentTally"].as_manager()

    class Meta:
        indexes = [models.Index(fields=["department", "status"], name="appointment_tally_dept_status")]

    def __str__(self) -> str:
        return f"{self.status}: {self.count:+d}"
