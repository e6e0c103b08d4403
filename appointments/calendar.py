"""The back office's calendar (issue 24.1): a day with a column per agent of a department, or an agent's week with a
column per day, on a grid of quarter hours of the department's clock. Built here as plain data (which block goes in
which column and rows, side by side where they overlap), in a constant number of queries whatever the week holds;
appointments/admin/calendar.py renders it and moves a block through `appointment_update`, as the API does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from appointments.local_time import local_clock, local_day, local_span
from appointments.models import FINAL_STATUSES, RESCHEDULABLE_STATUSES, Appointment, Department
from appointments.words import staff_name

SLOT_MINUTES = 15
FIRST_HOUR, LAST_HOUR = 7, 19  # the grid's hours unless an appointment of the range lies outside them
MAX_LANES = 4  # overlapping blocks share their column side by side, up to four; more sit on the last lane
DAY, WEEK = "day", "week"


@dataclass
class Block:
    appointment: Appointment
    column: int  # 1-based among the grid's columns (after the time column)
    row: int  # the first quarter hour, 0-based from the grid's first hour
    span: int  # quarter hours
    lane: int = 0
    lanes: int = 1
    label: str = ""  # its times, labelled with the zone
    movable: bool = False
    agent: str = ""  # who runs it, as every page names them (`agent_label`)


@dataclass
class AgendaItem:
    """One line of the phone's list: the grid's columns say whose an appointment is, so each line says it itself."""

    appointment: Appointment
    span: str  # its day and times, labelled with the zone
    agent: str  # `agent_label`


@dataclass
class Column:
    key: str  # the agent's id ("" for no agent) or the day (ISO)
    heading: str
    agent_id: int | None
    day: date
    is_today: bool = False
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Calendar:
    department: Department
    zone: ZoneInfo
    view: str
    day: date  # the day shown, or the week's Monday
    agent: Any  # the agent whose week it is (None: the department's day)
    columns: list[Column]
    first_hour: int
    last_hour: int
    now_row: int | None  # the current quarter hour, on today's column(s), or None when not shown
    now_label: str
    agenda: list[AgendaItem]  # in time order: the phone's list

    @property
    def rows(self) -> list[tuple[int, str]]:
        """Each quarter hour's row and its label ("" except on the hour)."""
        count = (self.last_hour - self.first_hour) * 60 // SLOT_MINUTES
        return [
            (i, f"{self.first_hour + i * SLOT_MINUTES // 60:02d}:00" if i * SLOT_MINUTES % 60 == 0 else "")
            for i in range(count)
        ]

    @property
    def row_count(self) -> int:
        return (self.last_hour - self.first_hour) * 60 // SLOT_MINUTES

    @property
    def blocks(self) -> list[Block]:
        return [block for column in self.columns for block in column.blocks]


def department_agents(department: Department) -> QuerySet[Any]:
    """The staff who can run the department's appointments: its active staff members (as the services check)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, departments=department)
        .order_by("first_name", "last_name", "username")
    )


def agent_label(appointment: Appointment) -> str:
    """Whose an appointment is, in words: the agent's full name, else their username (`staff_name`), or "No agent"."""
    return staff_name(appointment.agent) if appointment.agent is not None else "No agent"


def _minutes(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute


def block_label(appointment: Appointment, zone: ZoneInfo) -> str:
    """A block's times without its day (its column says it): `10:00 to 10:30 GMT`, each labelled when the clocks
    change in between. The page's script shows it on a block it has just moved, from the move's answer."""
    start, end = appointment.appointment_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    if start.tzname() != end.tzname():
        return f"{local_clock(start, zone)} to {local_clock(end, zone)}"
    return f"{start:%H:%M} to {local_clock(end, zone)}"


def _lanes(blocks: list[Block]) -> None:
    """Overlapping blocks of one column side by side: each takes the first lane free at its start; a group of blocks
    that overlap one another shares the number of lanes it needed."""
    blocks.sort(key=lambda b: (b.row, -b.span))
    group: list[Block] = []
    ends: list[int] = []
    group_end = -1
    for block in [*blocks, None]:
        if block is None or block.row >= group_end:
            for member in group:
                member.lanes = min(len(ends), MAX_LANES)
            if block is None:
                break
            group, ends, group_end = [], [], -1
        lane = next((i for i, end in enumerate(ends) if end <= block.row), len(ends))
        if lane == len(ends):
            ends.append(block.row + block.span)
        else:
            ends[lane] = block.row + block.span
        block.lane = min(lane, MAX_LANES - 1)
        group.append(block)
        group_end = max(group_end, block.row + block.span)


def calendar_of(
    appointments: QuerySet[Appointment],
    *,
    department: Department,
    view: str,
    day: date,
    agent: Any,
    now: datetime,
) -> Calendar:
    """The calendar of `department` (the day, a column per agent) or of `agent` (the week from `day`'s Monday, a
    column per day), from `appointments` (the viewer's, already scoped). Two queries: the agents, the appointments."""
    zone = ZoneInfo(department.time_zone)
    today = now.astimezone(zone).date()
    if view == WEEK:
        day = day - timedelta(days=day.weekday())
        days = 7
    else:
        days = 1
    start, _ = local_day(datetime.combine(day, time(12), tzinfo=zone), zone)
    _, end = local_day(datetime.combine(day + timedelta(days=days - 1), time(12), tzinfo=zone), zone)
    rows = appointments.filter(department=department, appointment_at__gte=start, appointment_at__lt=end)
    if agent is not None:
        rows = rows.filter(agent=agent)
    found = list(rows.select_related("claimant", "agent").order_by("appointment_at", "id"))
    if view == WEEK:
        columns = [
            Column(
                key=(day + timedelta(days=i)).isoformat(),
                heading=f"{day + timedelta(days=i):%a} {(day + timedelta(days=i)).day}",
                agent_id=agent.pk if agent is not None else None,
                day=day + timedelta(days=i),
                is_today=day + timedelta(days=i) == today,
            )
            for i in range(7)
        ]
        index = {column.key: column for column in columns}
        placed = [(index[a.appointment_at.astimezone(zone).date().isoformat()], a) for a in found]
    else:
        people = [agent] if agent is not None else list(department_agents(department))
        columns = [Column(key=str(p.pk), heading=staff_name(p), agent_id=p.pk, day=day) for p in people]
        if any(a.agent_id is None for a in found):
            columns.append(Column(key="", heading="No agent", agent_id=None, day=day))
        index = {column.key: column for column in columns}
        # An appointment of an agent who is no longer a member still shows, in a column of its own.
        for a in found:
            staff = a.agent
            if staff is not None and str(staff.pk) not in index:
                index[str(staff.pk)] = Column(key=str(staff.pk), heading=staff_name(staff), agent_id=staff.pk, day=day)
                columns.append(index[str(a.agent_id)])
        placed = [(index[str(a.agent_id) if a.agent_id else ""], a) for a in found]
        for column in columns:
            column.is_today = day == today
    first = min([FIRST_HOUR, *(_minutes(a.appointment_at, zone) // 60 for a in found)])
    last = max([LAST_HOUR, *(math.ceil(min(24 * 60, _minutes(a.appointment_at, zone) + a.duration_in_minutes) / 60)
                              for a in found)])  # fmt: skip
    last = min(24, max(last, first + 1))
    for number, column in enumerate(columns, start=1):
        column.blocks = []
        for found_column, appointment in placed:
            if found_column is not column:
                continue
            begin = _minutes(appointment.appointment_at, zone) - first * 60
            span = max(1, math.ceil(appointment.duration_in_minutes / SLOT_MINUTES))
            row = begin // SLOT_MINUTES
            span = min(span, (last - first) * 60 // SLOT_MINUTES - row)
            column.blocks.append(
                Block(
                    appointment=appointment,
                    column=number,
                    row=row,
                    span=max(1, span),
                    label=block_label(appointment, zone),
                    movable=appointment.status in RESCHEDULABLE_STATUSES and appointment.status not in FINAL_STATUSES,
                    agent=agent_label(appointment),
                )
            )
        _lanes(column.blocks)
    now_minutes = _minutes(now, zone) - first * 60
    shows_now = any(column.is_today for column in columns) and 0 <= now_minutes < (last - first) * 60
    return Calendar(
        department=department,
        zone=zone,
        view=view,
        day=day,
        agent=agent,
        columns=columns,
        first_hour=first,
        last_hour=last,
        now_row=now_minutes // SLOT_MINUTES if shows_now else None,
        now_label=f"Now {local_clock(now, zone)}",
        agenda=[AgendaItem(a, local_span(a.appointment_at, a.ends_at, zone), agent_label(a)) for a in found],
    )
