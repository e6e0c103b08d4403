"""A department's free times (issue 23.1): read its rules, hours, days that differ and its agents' live
appointments in a handful of queries, and hand them to appointments.free_times' arithmetic. One reader for every
door: the API's `GET /departments/{id}/slots`, the back office's booking form and reschedule, the claimant's
change of time (appointments.services.claimant_change) and the times offered to whoever just lost one.

With no agent asked for, each free start is offered once, with the agent the round robin gives it: the department's
agents with hours of their own, least recently given an appointment first (never: first of all; ties by id),
each start going to the first of them free then (docs/decisions.md, "Any agent"). A department none of whose
agents has hours of their own offers its own hours, unassigned (agent_id null), where nobody's time is taken.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from appointments.availability import MAX_BUFFER, BookingRules
from appointments.free_times import (
    DAY,
    Calendar,
    Clock,
    Span,
    Week,
    free_starts,
    from_minutes,
    to_minutes,
    to_minutes_up,
)
from appointments.models import MAX_DURATION, Department
from appointments.selectors.free_times import SLOT_BUSY, SLOT_HOURS, booking_rules_of, days_that_differ, last_given

MAX_RANGE = timedelta(days=31)  # the longest window one request may ask for
NEXT_TIMES = 3  # offered to whoever loses a time
NEXT_TIMES_WITHIN = timedelta(days=14)


@dataclass(frozen=True)
class FreeTime:
    start: datetime
    end: datetime
    agent_id: int | None


def rules_of(department: Department) -> BookingRules:
    """The department's booking rules, or the defaults when it has never set any."""
    found = booking_rules_of(department.pk)
    return found if found is not None else BookingRules(department=department)


def _minutes(clock: time | None, *, end: bool = False) -> int:
    if clock is None:
        return DAY if end else 0
    minutes = clock.hour * 60 + clock.minute
    return DAY if end and minutes == 0 else minutes


def _hours(department: Department) -> tuple[list[int], list[tuple[Any, ...]]]:
    """The department's weekly hours (its own and its agents': active staff members), and those agents, by id: one
    query."""
    rows = SLOT_HOURS.rows(department.pk)
    return sorted({row[0] for row in rows if row[0] is not None}), rows


def agents_with_hours(department: Department) -> list[int]:
    """The department's agents (active staff members) with working hours of their own, by id."""
    return _hours(department)[0]


def round_robin(department: Department, agents: Iterable[int]) -> list[int]:
    """The agents in the order "any agent" tries them: least recently given an appointment of this department
    (by when that appointment was made) first, one never given any before all, ties by id."""
    agents = list(agents)
    last = last_given(department.pk, agents)
    return sorted(agents, key=lambda agent: (agent in last, last.get(agent) or datetime.min, agent))


def free_times(
    *,
    department: Department,
    start: datetime,
    end: datetime,
    duration: int,
    now: datetime,
    agent_id: int | None = None,
    exclude: uuid.UUID | None = None,
) -> list[FreeTime]:
    """The free times starting in [start, end): inside the department's booking window (its minimum notice to book
    from `now`, no further ahead than its horizon), inside the agent's working hours, and clear, with the
    department's buffers, of every live appointment of the agent (in any department; `exclude`: the one being
    moved) with that appointment's buffers. `agent_id`: that agent's alone (none if they have no hours here)."""
    found = free_minutes(
        department=department, start=start, end=end, duration=duration, now=now, agent_id=agent_id, exclude=exclude
    )
    return [FreeTime(from_minutes(moment), from_minutes(moment + duration), agent) for moment, agent in found.starts]


@dataclass(frozen=True)
class FreeMinutes:
    """free_times' answer as the arithmetic finds it: (start, agent) with the start in minutes since the epoch,
    soonest first, and the department's clock over the window (its offsets), for an answer written without
    datetimes (the API's, issue 26)."""

    starts: list[tuple[int, int | None]]
    clock: Clock | None


def free_minutes(
    *,
    department: Department,
    start: datetime,
    end: datetime,
    duration: int,
    now: datetime,
    agent_id: int | None = None,
    exclude: uuid.UUID | None = None,
    rules: BookingRules | None = None,
) -> FreeMinutes:
    """free_times, in minutes (see there); `rules`: the department's, when the caller read them already."""
    rules = rules or rules_of(department)
    lowest = max(to_minutes_up(start), to_minutes_up(now + timedelta(minutes=rules.notice_to_book_minutes)))
    highest = min(to_minutes_up(end), to_minutes(now + timedelta(days=rules.horizon_days)) + 1)
    if lowest >= highest:
        return FreeMinutes([], None)
    zone = ZoneInfo(department.time_zone)
    first_day = from_minutes(lowest).astimezone(zone).date() - timedelta(days=1)
    last_day = from_minutes(highest + duration).astimezone(zone).date() + timedelta(days=1)
    staffed, hours = _hours(department)
    agents: list[int | None]
    if agent_id is not None:
        agents = [agent_id] if agent_id in staffed else []
    else:
        agents = list(round_robin(department, staffed)) if staffed else [None]
    if not agents:
        return FreeMinutes([], None)
    weeks = _weeks(department, hours, agents, first_day, last_day)
    busy = _busy([agent for agent in agents if agent is not None], lowest, highest + duration, exclude)
    calendar = Calendar(zone, first_day, last_day)
    worked: dict[int, list[Span]] = {}  # by week: agents who work the same week share it
    taken: dict[int, int | None] = {}
    for agent in agents:  # in the round robin's order: the first free agent keeps a start
        week = weeks[agent]
        stretches = worked.get(id(week))
        if stretches is None:
            stretches = worked[id(week)] = calendar.worked(week)
        for moment in free_starts(
            worked=stretches,
            busy=busy.get(agent, ()) if agent is not None else (),
            duration=duration,
            step=rules.slot_minutes,
            before=rules.buffer_before_minutes,
            after=rules.buffer_after_minutes,
            clock=calendar.clock,
            lowest=lowest,
            highest=highest,
            skip=taken,
        ):
            taken[moment] = agent
    return FreeMinutes(sorted(taken.items()), calendar.clock)


def _weeks(
    department: Department,
    hours_rows: list[tuple[Any, ...]],
    agents: list[int | None],
    first: date,
    last: date,
) -> dict[int | None, Week]:
    """Each agent's week (None: the department's own): their hours and days that differ, with the department's
    days that differ (a bank holiday) for everyone. Agents whose weeks are the same share one Week."""
    hours: dict[int | None, dict[int, list[Span]]] = {agent: defaultdict(list) for agent in agents}
    for owner, weekday, starts, ends in hours_rows:
        if owner in hours:
            hours[owner][weekday].append((_minutes(starts), _minutes(ends, end=True)))
    shared: dict[str, dict[date, list[Span]]] = {"off": defaultdict(list), "extra": defaultdict(list)}
    own: dict[int | None, dict[str, dict[date, list[Span]]]] = {
        agent: {"off": defaultdict(list), "extra": defaultdict(list)} for agent in agents
    }
    for who, day, kind, begins, finishes in days_that_differ(department.pk, first, last):
        target = shared if who is None else own.get(who)
        if target is not None:
            target[kind][day].append((_minutes(begins), _minutes(finishes, end=True)))
    weeks: dict[int | None, Week] = {}
    alike: dict[Hashable, Week] = {}
    for agent in agents:
        mine = own[agent] if agent is not None else {"off": {}, "extra": {}}
        off = {day: [*shared["off"].get(day, []), *mine["off"].get(day, [])] for day in {*shared["off"], *mine["off"]}}
        extra = {
            day: [*shared["extra"].get(day, []), *mine["extra"].get(day, [])]
            for day in {*shared["extra"], *mine["extra"]}
        }
        key = tuple(tuple(sorted((k, tuple(v)) for k, v in part.items())) for part in (hours[agent], off, extra))
        if key not in alike:
            alike[key] = Week(hours=dict(hours[agent]), off=off, extra=extra)
        weeks[agent] = alike[key]
    return weeks


def _busy(agents: list[int], lowest: int, highest: int, exclude: uuid.UUID | None) -> dict[int, list[Span]]:
    """Each agent's live appointments near the window, as spans with their own buffers."""
    if not agents:
        return {}
    reach = timedelta(minutes=MAX_DURATION + 2 * MAX_BUFFER)
    busy: dict[int, list[Span]] = defaultdict(list)
    but = exclude or uuid.UUID(int=0)  # no appointment's id
    for agent, start, minutes, before, after in SLOT_BUSY.rows(
        tuple(agents), from_minutes(lowest) - reach, from_minutes(highest) + reach, but
    ):
        busy[agent].append((start - before, start + minutes + after))
    return busy


def next_free_times(
    *,
    department: Department,
    after: datetime,
    duration: int,
    now: datetime,
    agent_id: int | None = None,
    exclude: uuid.UUID | None = None,
    within: timedelta = NEXT_TIMES_WITHIN,
    count: int = NEXT_TIMES,
) -> list[FreeTime]:
    """The next few free times from `after` (what whoever just lost a time is offered instead; the back office's
    forms ask for more, further ahead)."""
    window = {"start": after, "end": after + within}
    found = free_times(department=department, duration=duration, now=now, agent_id=agent_id, exclude=exclude, **window)
    return found[:count]


def pick_agent(*, department: Department, start: datetime, duration: int, now: datetime) -> FreeTime | None:
    """ "Any agent": the free time at `start` with the agent the round robin gives it, or None if nobody is free."""
    found = free_times(department=department, start=start, end=start + timedelta(minutes=1), duration=duration, now=now)
    return found[0] if found and found[0].start == start else None
