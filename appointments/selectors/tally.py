"""How many appointments a caller may see, read from the counts PostgreSQL keeps per department and status
(appointments.models.AppointmentTally, issue 26.3): the list's total when it filters by nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, models
from django.db.models import F, Func, QuerySet

from appointments.models import AppointmentTally
from config.prepared import VisibleTo


def tallied() -> bool:
    """Whether the appointments' counts per department and status are kept (AppointmentTally: PostgreSQL's
    triggers), so that a list filtered by nothing but them reads its total from the tally, not its rows."""
    return connection.vendor == "postgresql"


# The sum of the tally's rows a read keeps (0 for none; an integer, not the numeric SUM makes of bigints), as HOW_MANY
# counts: a plain aggregate, no GROUP BY.
_TALLY_SUM = Func(
    F("count"), template="CAST(COALESCE(SUM(%(expressions)s), 0) AS bigint)", output_field=models.BigIntegerField()
)


def tally_read(narrow: Callable[..., QuerySet[Any]]) -> VisibleTo:
    """How many appointments the caller may see, from the tally's rows of their departments that `narrow(rows,
    *markers)` keeps (by status and department, the tally's columns), compiled once (config.prepared)."""
    return VisibleTo(AppointmentTally, lambda rows, *markers: narrow(rows, *markers).order_by().values_list(_TALLY_SUM))
