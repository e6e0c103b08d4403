"""Times a person reads: each department's own zone, always labelled, one format for every page and message
(issue 17.10). This module is where the format is declared; everything else (the back office's pages, their
templates through `appointments.templatetags.local_time`, the services' messages, the commands' output) calls it:

- `local_date`: a day, `Thu 10 Jun 2027` (`DAY_FORMAT`, which Django's own dates in the back office derive from too:
  config/formats/en/formats.py, so its "last login" and "Recent actions" say a day the same way, issue 24.5);
- `local_label`: a moment, `Thu 10 Jun 2027, 10:00 BST`;
- `local_clock`: its time of day alone, `10:00 BST`, where the day is already said (the waiting room of today);
- `local_iso`: a moment for a machine that shows it as the department's clock, `2027-06-10T10:00:00+01:00` (the
  free times' `local_start`, issue 23.1);
- `local_span`: a start and an end, `Thu 10 Jun 2027, 10:00 to 10:45 BST` (both labelled when the clocks change
  in between: `Sun 28 Mar 2027, 00:30 GMT to 02:30 BST`);
- `local_words`: a moment in words for the claimant, in their language (issue 22.1): `Thursday 10 June 2027 at
  10:00 BST`, `Dydd Iau 10 Mehefin 2027 am 10:00 BST`; written on the server, so a page's dates are in its
  language whatever the browser's locale.

The API's fields stay in UTC (the contract); docs/decisions.md lists where each time is shown in which zone.
Here, below every app, so that the admin's shared plumbing (config.admin) and every app label times alike; a
staff member's own zone (`staff_zone`, from their departments) is appointments.local_time's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import dateformat, translation
from django.utils.translation import gettext

# The one format of a day and of a time of day on every back-office page, declared once in Django's date format
# syntax (the `date` filter's): `Thu 10 Jun 2027` and `10:00`. The functions below and Django's DATE_FORMAT and
# DATETIME_FORMAT (config/formats/en/formats.py) derive from these two.
DAY_FORMAT = "D j M Y"
CLOCK_FORMAT = "H:i"


def _english(value: date | datetime, format_string: str) -> str:
    # Staff pages are English (docs/decisions.md): a day's and a month's names in English whatever the language the
    # request runs in (a claimant's page in Welsh names its days with local_words).
    with translation.override("en"):
        return dateformat.format(value, format_string)


def local_date(day: date) -> str:
    """A day, `Thu 10 Jun 2027`."""
    return _english(day, DAY_FORMAT)


def local_clock(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_english(local, CLOCK_FORMAT)} {local.tzname()}"


def local_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local_date(local.date())}, {local_clock(local, zone)}"


def local_iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def local_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() != last.date():
        return f"{local_label(first, zone)} to {local_label(last, zone)}"
    if first.tzname() != last.tzname():
        return f"{local_label(first, zone)} to {local_clock(last, zone)}"
    return f"{local_label(first, zone).removesuffix(f' {first.tzname()}')} to {local_clock(last, zone)}"


def local_words(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """A moment in words in `language` (`en`, `cy`): the day and month named in it (Django's translations)."""
    local = moment.astimezone(zone)
    with translation.override(language):
        # Translators: a day and a time, "Thursday 10 June 2027 at 10:00 BST".
        return gettext("%(day)s at %(clock)s") % {
            "day": dateformat.format(local, "l j F Y"),
            "clock": local_clock(local, zone),
        }


def local_day(now: datetime, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of the local day of `now` (and the `days - 1` after it), right across a change of clocks."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=days), time.min, tzinfo=zone)
    # In UTC: arithmetic on two times of one zone object would count wall-clock hours, not elapsed ones.
    return start.astimezone(UTC), end.astimezone(UTC)


def local_week(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday to Sunday of the local week of `now`."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time.min, tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_readings(day: Any, clock: Any, zone: ZoneInfo) -> list[str]:
    """The readings of a wall-clock time the clocks repeat, in order (`["01:30 BST", "01:30 GMT"]` the night they go
    back in Europe/London); [] for a time that happens once (or never)."""
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    # Two offsets also in the hour the clocks skip (the gap): a time that exists twice reads back as itself.
    skipped = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive
    if skipped or first.utcoffset() == second.utcoffset():
        return []
    return [local_clock(first, zone), local_clock(second, zone)]


def local_moment(day: Any, clock: Any, zone: ZoneInfo, reading: int | None = None) -> datetime:
    """The wall-clock time in the zone, as UTC; a time that does not exist is refused, and one that exists twice
    too unless `reading` says which (0: the first, before the clocks go back; 1: the second, local_readings)."""
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(f"{clock:%H:%M} does not exist that day in {zone.key} (the clocks go forward).")
    if first.utcoffset() != second.utcoffset():
        if reading in (0, 1):
            return (first, second)[reading].astimezone(UTC)
        readings = local_readings(day, clock, zone)
        raise ValidationError(
            f"{clock:%H:%M} happens twice that day in {zone.key} (the clocks go back): choose "
            f"{readings[0]} or {readings[1]}.",
            code="repeated",
        )
    return first.astimezone(UTC)
