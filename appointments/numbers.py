"""The managers' numbers per agent over a date range (issue 24.7): appointments, completed, no-shows, missed by the
organisation, the claimants' average wait in the waiting room and the sessions' average overrun, and the same as CSV.
Three queries whatever the number of agents or appointments: the counts and overruns grouped by agent, the waits
grouped by agent (meetings' participants, through appointments.hooks), and the agents' names."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, DateTimeField, DurationField, ExpressionWrapper, F, Func, Q, QuerySet, Value
from django.db.models.functions import Greatest

from appointments import hooks
from appointments.exports import _cell, _Line
from appointments.models import Outcome, Status

# The longest range the page and the export take: a year, and a day for a leap year.
MAX_DAYS = 366
NOBODY = "Nobody assigned"


@dataclass(frozen=True)
class AgentNumbers:
    """One agent's figures over the range (agent_id None: appointments nobody was given)."""

    agent_id: int | None
    agent: str
    appointments: int
    completed: int
    no_shows: int
    missed: int  # missed by the organisation: the claimant came and the session was not started (issue 17.2)
    average_wait: timedelta | None  # the claimants' wait from joining the waiting room to being let in
    waits_recorded: int
    average_overrun: timedelta | None  # past the booked end, over completed sessions (an early end counts as 0)
    overruns_recorded: int


def range_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the first day's midnight to the midnight after the last, in the zone (a day of 23 or 25 hours at a
    change of clocks is the day it is)."""
    return (
        datetime.combine(first, time(), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=zone),
    )


class Minutes(Func):
    """An integer column of minutes as a duration, as each database keeps durations: an interval on PostgreSQL,
    microseconds on SQLite (Django's own form there; its SQLite functions refuse an integer times a duration)."""

    output_field = DurationField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="make_interval(mins => %(expressions)s)", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s * 60000000)", **extra)


def _overrun() -> Greatest:
    booked_end = ExpressionWrapper(F("appointment_at") + Minutes("duration_in_minutes"), output_field=DateTimeField())
    over = ExpressionWrapper(F("session_ended_at") - booked_end, output_field=DurationField())
    return Greatest(over, Value(timedelta(0)), output_field=DurationField())


def _staff_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def agent_numbers(appointments: QuerySet[Any], start: datetime, end: datetime) -> list[AgentNumbers]:
    """Each agent's figures for the appointments (already scoped to the viewer) booked in [start, end), by name;
    the appointments nobody was given last."""
    booked = appointments.filter(appointment_at__gte=start, appointment_at__lt=end)
    ended = Q(status=Status.COMPLETED, session_ended_at__isnull=False)
    rows = (
        booked.values("agent_id")
        .annotate(
            total=Count("pk"),
            completed=Count("pk", filter=Q(status=Status.COMPLETED)),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
            missed=Count("pk", filter=Q(outcome=Outcome.MISSED_BY_ORGANISATION)),
            overrun=Avg(_overrun(), filter=ended),
            overruns=Count("pk", filter=ended),
        )
        .order_by()
    )
    counted = {row["agent_id"]: row for row in rows}
    waits = hooks.claimant_waits_by_agent.get()(booked)  # meetings.selectors.claimant_waits_by_agent
    users = get_user_model().objects.filter(pk__in=[pk for pk in counted if pk is not None])
    names = {user.pk: _staff_name(user) for user in users.only("pk", "username", "first_name", "last_name")}
    found = []
    for agent_id, row in counted.items():
        wait = waits.get(agent_id, {"average": None, "recorded": 0})
        found.append(
            AgentNumbers(
                agent_id=agent_id,
                agent=names.get(agent_id, NOBODY) if agent_id is not None else NOBODY,
                appointments=row["total"],
                completed=row["completed"],
                no_shows=row["no_shows"],
                missed=row["missed"],
                average_wait=wait["average"],
                waits_recorded=wait["recorded"],
                average_overrun=row["overrun"],
                overruns_recorded=row["overruns"],
            )
        )
    found.sort(key=lambda numbers: (numbers.agent_id is None, numbers.agent.casefold(), numbers.agent_id or 0))
    return found


def _seconds(span: timedelta | None) -> int | str:
    return "" if span is None else round(span.total_seconds())


CSV_HEADER = (
    "agent",
    "appointments",
    "completed",
    "no-shows",
    "missed by the organisation",
    "average wait (seconds)",
    "claimants' waits recorded",
    "average overrun (seconds)",
    "completed sessions timed",
)


def agent_numbers_csv(numbers: list[AgentNumbers], first: date, last: date) -> Iterator[str]:
    """The figures as CSV (the page's table, seconds as whole numbers, blank where nothing was recorded), the range
    in a first line a spreadsheet shows above the table."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(["from", first.isoformat(), "to", last.isoformat()])
    yield writer.writerow(CSV_HEADER)
    for row in numbers:
        yield writer.writerow(
            [
                _cell(row.agent),
                row.appointments,
                row.completed,
                row.no_shows,
                row.missed,
                _seconds(row.average_wait),
                row.waits_recorded,
                _seconds(row.average_overrun),
                row.overruns_recorded,
            ]
        )


def chosen_range(asked: Any, today: date) -> tuple[date, date, str | None]:
    """The days the page was asked for (`from`, `to`: ISO dates, both included), else this week (Monday to Sunday),
    with what was wrong with the asking, if anything."""
    monday = today - timedelta(days=today.weekday())
    week = (monday, monday + timedelta(days=6))
    written = (asked.get("from", "").strip(), asked.get("to", "").strip())
    if not any(written):
        return (*week, None)
    try:
        first, last = (date.fromisoformat(value) for value in written)
    except ValueError:
        return (*week, "Enter both days as dates (for example 2026-10-01), or leave both blank for this week.")
    if last < first:
        return (*week, "The last day is before the first.")
    if (last - first).days + 1 > MAX_DAYS:
        return (*week, f"Choose at most {MAX_DAYS} days.")
    return first, last, None
