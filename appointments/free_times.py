"""The arithmetic of free times (issue 23.1), without the database: weekly hours and the days that differ, in a
zone's wall-clock minutes, made into stretches of UTC time; and the starts in them where an appointment of a
given length fits without touching anyone's busy time.

Times here are whole minutes: of the local day (0 to 1440) for hours, since the Unix epoch (UTC) for moments.
A local day's hours become UTC through the zone's offsets piece by piece, so a day the clocks change has its real
length (a stretch over 01:00 to 02:00 on the night the clocks go back is worked twice, once in each offset; the
hour the clocks skip is not worked). Starts are on the department's clock at multiples of the slot length from
midnight (30: :00 and :30), in whichever offset is in force at that moment. tests/appointments/test_free_times.py
checks all this against a minute-by-minute oracle, with generated hours, zones and days the clocks change.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

DAY = 1440
MINUTE = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
Span = tuple[int, int]  # [start, end): minutes of the local day, or minutes since the epoch (UTC)


def to_minutes(moment: datetime) -> int:
    """The moment's minute since the epoch (rounded down)."""
    return (moment - EPOCH) // MINUTE


def to_minutes_up(moment: datetime) -> int:
    return -((EPOCH - moment) // MINUTE)


def from_minutes(minutes: int) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union, sorted, with spans that overlap or touch made one."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(spans: Sequence[Span], cut: Span) -> list[Span]:
    kept: list[Span] = []
    for start, end in spans:
        if end <= cut[0] or start >= cut[1]:
            kept.append((start, end))
            continue
        if start < cut[0]:
            kept.append((start, cut[0]))
        if end > cut[1]:
            kept.append((cut[1], end))
    return kept


@dataclass(frozen=True)
class Week:
    """Someone's weekly hours (by weekday, Monday 0) and the days that differ, in local minutes of the day."""

    hours: Mapping[int, Sequence[Span]]
    off: Mapping[date, Sequence[Span]] = field(default_factory=dict)  # (0, 1440): the whole day
    extra: Mapping[date, Sequence[Span]] = field(default_factory=dict)

    def day(self, day: date) -> tuple[Span, ...]:
        """The day's worked minutes: its weekday's hours and any extra, less what is off (off wins)."""
        spans = merge([*self.hours.get(day.weekday(), ()), *self.extra.get(day, ())])
        for cut in self.off.get(day, ()):
            spans = subtract(spans, cut)
        return tuple(spans)


class Clock:
    """A zone's offsets from UTC over a window, as constant pieces: found by probing once a day and bisecting to
    the minute where two probes differ (no zone changes its clocks twice within a day)."""

    def __init__(self, zone: tzinfo, first: int, last: int) -> None:
        self.zone = zone
        self.starts: list[int] = [first]
        self.offsets: list[int] = [self._offset(first)]
        probe = first
        while probe < last:
            nxt = min(probe + DAY, last)
            after = self._offset(nxt)
            if after != self.offsets[-1]:
                low, high = probe, nxt  # offset(low) is the old one, offset(high) the new one
                while high - low > 1:
                    middle = (low + high) // 2
                    low, high = (middle, high) if self._offset(middle) == self.offsets[-1] else (low, middle)
                self.starts.append(high)
                self.offsets.append(after)
            probe = nxt

    def _offset(self, minutes: int) -> int:
        offset = from_minutes(minutes).astimezone(self.zone).utcoffset()
        assert offset is not None
        return offset // MINUTE

    def offset_at(self, minutes: int) -> int:
        """The zone's offset from UTC (in minutes) at this moment of the window."""
        return self.offsets[max(bisect_right(self.starts, minutes) - 1, 0)]

    def pieces(self, start: int, end: int) -> Iterable[tuple[int, int, int]]:
        """(piece start, piece end, offset) of the pieces meeting [start, end)."""
        index = max(bisect_right(self.starts, start) - 1, 0)
        while index < len(self.starts) and self.starts[index] < end:
            piece_end = self.starts[index + 1] if index + 1 < len(self.starts) else end
            yield max(self.starts[index], start), min(piece_end, end), self.offsets[index]
            index += 1

    def utc(self, day: date, spans: Sequence[Span]) -> list[Span]:
        """The UTC minutes whose wall-clock time in the zone falls in `spans` of `day`."""
        wall = (datetime.combine(day, datetime.min.time()) - NAIVE_EPOCH) // MINUTE
        found: list[Span] = []
        for start, end in spans:
            # Offsets are under a day either way: the UTC minutes are within a day of the wall-clock ones.
            for piece_start, piece_end, offset in self.pieces(wall + start - DAY, wall + end + DAY):
                low, high = max(wall + start - offset, piece_start), min(wall + end - offset, piece_end)
                if low < high:
                    found.append((low, high))
        return found


class Calendar:
    """Worked UTC stretches of weeks in one zone over a window of local days, each day's conversion made once for
    every week that works the same minutes that day (a department's agents mostly do)."""

    def __init__(self, zone: tzinfo, first_day: date, last_day: date) -> None:
        self.days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        start = (datetime.combine(first_day, datetime.min.time()) - NAIVE_EPOCH) // MINUTE - 2 * DAY
        end = (datetime.combine(last_day, datetime.min.time()) - NAIVE_EPOCH) // MINUTE + 3 * DAY
        self.clock = Clock(zone, start, end)
        self._converted: dict[tuple[date, tuple[Span, ...]], list[Span]] = {}

    def worked(self, week: Week) -> list[Span]:
        stretches: list[Span] = []
        for day in self.days:
            spans = week.day(day)
            if not spans:
                continue
            key = (day, spans)
            converted = self._converted.get(key)
            if converted is None:
                converted = self._converted[key] = self.clock.utc(day, spans)
            stretches.extend(converted)
        return merge(stretches)


def free_starts(
    *,
    worked: Sequence[Span],
    busy: Iterable[Span],
    duration: int,
    step: int,
    before: int,
    after: int,
    clock: Clock,
    lowest: int,
    highest: int,
    skip: Container[int] = frozenset(),
) -> list[int]:
    """Starts s in [lowest, highest) on the zone's clock at multiples of `step` from midnight where [s, s + duration)
    lies inside one worked stretch and [s - before, s + duration + after) meets no busy span (each busy span is
    another appointment's time with its own buffers); none in `skip` (starts already given to someone else)."""
    taken = merge(busy)
    starts: list[int] = []
    index, count = 0, len(taken)
    for stretch_start, stretch_end in worked:
        first, last = max(stretch_start, lowest), min(stretch_end - duration + 1, highest)
        if first >= last:
            continue
        # Within a piece of one offset, the clock's multiples of the step are an arithmetic series.
        for piece_start, piece_end, offset in clock.pieces(first, last):
            for moment in range(piece_start + (-(piece_start + offset)) % step, piece_end, step):
                if moment in skip:
                    continue
                while index < count and taken[index][1] <= moment - before:
                    index += 1
                if index < count and taken[index][0] < moment + duration + after:
                    continue
                starts.append(moment)
    return starts
