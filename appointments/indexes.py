"""The appointments table's indexes, each with the request it serves (the list's orders and views, issue 26.3):
declared here so the model stays readable; the migrations hold the same."""

from django.db import models
from django.db.models import Q

APPOINTMENT_INDEXES = [
    models.Index(fields=["department", "appointment_at", "id"], name="appointment_dept_time_id"),
    models.Index(fields=["department", "status", "appointment_at"], name="appointment_dept_status_time"),
    # The live ones (what is still to come or waiting: a day or two of rows whatever the table's past), in
    # the list's order: ?status=scheduled,waiting and the back office's late ones read only these.
    models.Index(
        fields=["department", "appointment_at", "id"],
        name="appointment_live_dept_time",
        condition=Q(status__in=["scheduled", "waiting"]),
    ),
    # The list's sorts (?sort=status, reference, duration_in_minutes), each in its order with the id last,
    # so a page reads its rows in order and stops instead of sorting every row the caller may see.
    models.Index(fields=["status", "id"], name="appointment_status_id"),
    models.Index(fields=["reference", "id"], name="appointment_reference_id"),
    models.Index(fields=["duration_in_minutes", "id"], name="appointment_duration_id"),
    # ?is_interpreter_needed=true: its page in the list's order and its total from this index alone.
    models.Index(
        fields=["department", "appointment_at", "id"],
        name="appointment_interpreter_time",
        condition=Q(is_interpreter_needed=True),
    ),
    # Missed by the organisation and not yet followed up: Needs attention reads these alone.
    models.Index(
        fields=["appointment_at"],
        name="appointment_missed_open",
        condition=Q(outcome__isnull=False, followed_up_at__isnull=True),
    ),
]
