"""The appointments' counts per department and status (AppointmentTally, kept by PostgreSQL's triggers, migration
0014): whether they still equal a count of the rows, and starting them again from the rows. For operators
(`manage.py appointment_tally`), after a write that bypassed the triggers (they were disabled, or a restore ran with
`session_replication_role = replica`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum

from appointments.models import Appointment, AppointmentTally
from appointments.selectors.tally import tallied


def tally_drift() -> dict[tuple[Any, str], tuple[int, int]]:
    """Each department and status whose tally differs from a count of its appointments: (tallied, counted). Read in
    one snapshot (REPEATABLE READ, when it starts the transaction), so that writes meanwhile cannot show as one."""
    starts = not connection.in_atomic_block
    with transaction.atomic():
        if tallied() and starts:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counted = Counter(Appointment.objects.values_list("department_id", "status"))
        sums = AppointmentTally.objects.values_list("department_id", "status").annotate(total=Sum("count")).order_by()
        kept = Counter({(department, status): total for department, status, total in sums})
    return {key: (kept[key], counted[key]) for key in {*counted, *kept} if kept[key] != counted[key]}


def tally_rebuild() -> int:
    """The tally started again from the rows, as migration 0014's backfill does; writes to the appointments wait
    for it (a SHARE lock), reads do not. Returns how many rows the tally holds."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE appointments_appointment IN SHARE MODE")
        cursor.execute("DELETE FROM appointments_appointmenttally")
        cursor.execute(
            "INSERT INTO appointments_appointmenttally (department_id, status, count) "
            "SELECT department_id, status, count(*) FROM appointments_appointment GROUP BY 1, 2"
        )
        return cursor.rowcount
