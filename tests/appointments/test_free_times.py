"""The free times' arithmetic against a brute-force oracle (issue 23.5).

Hypothesis generates weekly hours, days off and extra days, buffers, other appointments, slot lengths, durations and
zones (Europe/London and America/New_York on the days their clocks change among them). The oracle knows nothing of
appointments.free_times' pieces and offsets: for every UTC minute it asks zoneinfo for the wall-clock time and the
local day, and whether that day's rules work that minute; a start is free when every minute of the appointment is
worked, no minute of it with the buffers is busy, and its wall-clock minute is a multiple of the slot length. The
offered starts must be exactly the oracle's: none overlaps, none is outside hours, none that fits is missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appointments.free_times import Calendar, Week, free_starts, from_minutes, to_minutes

ZONES = ["Europe/London", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kathmandu"]
# The days the clocks change in 2027, and ordinary ones.
CHANGES = [date(2027, 3, 28), date(2027, 10, 31), date(2027, 3, 14), date(2027, 11, 7), date(2027, 4, 4)]
DAYS_AROUND = 2  # the window: the generated day and the next


def _spans(max_size: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    span = st.tuples(st.integers(0, 1435), st.integers(5, 600)).map(lambda s: (s[0], min(1440, s[0] + s[1])))
    return st.lists(span, max_size=max_size)


@st.composite
def cases(draw: st.DrawFn) -> dict:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first = draw(st.sampled_from(CHANGES)) - timedelta(days=draw(st.integers(0, 1)))
    days = [first + timedelta(days=n) for n in range(DAYS_AROUND)]
    hours = {weekday: draw(_spans(2)) for weekday in range(7)}
    off = {day: draw(st.one_of(st.just([(0, 1440)]), _spans(1))) for day in days if draw(st.booleans())}
    extra = {day: draw(_spans(1)) for day in days if draw(st.booleans())}
    base = to_minutes(datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    busy = [
        (start, start + length)
        for start, length in draw(
            st.lists(st.tuples(st.integers(base - 600, base + 3 * 1440), st.integers(5, 300)), max_size=5)
        )
    ]
    return {
        "zone": zone,
        "days": days,
        "week": Week(hours=hours, off=off, extra=extra),
        "busy": busy,
        "duration": draw(st.integers(5, 240)),
        "step": draw(st.sampled_from([5, 10, 15, 30, 45, 60, 90])),
        "before": draw(st.integers(0, 60)),
        "after": draw(st.integers(0, 60)),
        "lowest": base + draw(st.integers(-300, 600)),
        "highest": base + DAYS_AROUND * 1440 - draw(st.integers(-300, 600)),
    }


def offered(case: dict) -> list[int]:
    calendar = Calendar(case["zone"], case["days"][0] - timedelta(days=1), case["days"][-1] + timedelta(days=1))
    return free_starts(
        worked=calendar.worked(case["week"]),
        busy=case["busy"],
        duration=case["duration"],
        step=case["step"],
        before=case["before"],
        after=case["after"],
        clock=calendar.clock,
        lowest=case["lowest"],
        highest=case["highest"],
    )


def oracle(case: dict) -> list[int]:
    """Minute by minute, with zoneinfo's answer for each minute's wall-clock time."""
    week: Week = case["week"]
    zone: ZoneInfo = case["zone"]
    first = case["lowest"] - 300 - 1440
    last = case["highest"] + 300 + 1440
    worked, busy, aligned = [], [], []
    for minute in range(first, last):
        local = from_minutes(minute).astimezone(zone)
        of_day = local.hour * 60 + local.minute
        local_day = local.date()
        in_window = case["days"][0] - timedelta(days=1) <= local_day <= case["days"][-1] + timedelta(days=1)
        day_minutes = week.hours.get(local_day.weekday(), [])
        works = any(a <= of_day < b for a, b in day_minutes) or any(
            a <= of_day < b for a, b in week.extra.get(local_day, [])
        )
        works = works and not any(a <= of_day < b for a, b in week.off.get(local_day, []))
        worked.append(works and in_window)
        busy.append(any(a <= minute < b for a, b in case["busy"]))
        aligned.append(of_day % case["step"] == 0)
    worked_sum, busy_sum = [0], [0]
    for works, taken in zip(worked, busy, strict=True):
        worked_sum.append(worked_sum[-1] + works)
        busy_sum.append(busy_sum[-1] + taken)
    starts = []
    for start in range(case["lowest"], case["highest"]):
        i = start - first
        end = i + case["duration"]
        if not aligned[i] or worked_sum[end] - worked_sum[i] != case["duration"]:
            continue
        low, high = i - case["before"], end + case["after"]
        if busy_sum[high] - busy_sum[low] == 0:
            starts.append(start)
    return starts


EVERY_DAY = {weekday: [(540, 1020)] for weekday in range(7)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
@example(  # London's clocks go back: 01:00 to 02:00 is worked twice, once in BST and once in GMT
    {
        "zone": ZoneInfo("Europe/London"),
        "days": [date(2027, 10, 31), date(2027, 11, 1)],
        "week": Week(hours={6: [(0, 180)]}),
        "busy": [],
        "duration": 30,
        "step": 30,
        "before": 0,
        "after": 0,
        "lowest": to_minutes(datetime(2027, 10, 30, 12, tzinfo=UTC)),
        "highest": to_minutes(datetime(2027, 11, 2, tzinfo=UTC)),
    }
)
def test_offered_starts_are_exactly_the_oracles(case: dict) -> None:
    assert offered(case) == oracle(case)


def test_the_hour_the_clocks_skip_is_not_offered_and_the_repeated_one_is_offered_twice() -> None:
    london = ZoneInfo("Europe/London")
    base = {"busy": [], "duration": 60, "step": 60, "before": 0, "after": 0, "zone": london}
    spring = {
        **base,
        "days": [date(2027, 3, 28)],
        "week": Week(hours={6: [(0, 240)]}),
        "lowest": to_minutes(datetime(2027, 3, 27, 12, tzinfo=UTC)),
        "highest": to_minutes(datetime(2027, 3, 29, tzinfo=UTC)),
    }
    labels = [f"{from_minutes(m).astimezone(london):%H:%M %Z}" for m in offered(spring)]
    assert labels == ["00:00 GMT", "02:00 BST", "03:00 BST"]  # 01:00 does not exist that night
    autumn = {**spring, "days": [date(2027, 10, 31)], "week": Week(hours={6: [(0, 180)]})}
    autumn |= {
        "lowest": to_minutes(datetime(2027, 10, 30, 12, tzinfo=UTC)),
        "highest": to_minutes(datetime(2027, 11, 1, tzinfo=UTC)),
    }
    labels = [f"{from_minutes(m).astimezone(london):%H:%M %Z}" for m in offered(autumn)]
    assert labels == ["00:00 BST", "01:00 BST", "01:00 GMT", "02:00 GMT"]


def test_a_busy_time_with_its_buffers_keeps_the_neighbouring_starts_free_only_when_the_buffers_fit() -> None:
    utc = ZoneInfo("UTC")
    day = date(2027, 6, 7)
    nine = to_minutes(datetime(2027, 6, 7, 9, tzinfo=UTC))
    case = {
        "zone": utc,
        "days": [day],
        "week": Week(hours={0: [(540, 720)]}),
        "busy": [(nine + 60, nine + 90)],  # 10:00 to 10:30 taken (its own buffers included)
        "duration": 30,
        "step": 15,
        "before": 10,
        "after": 10,
        "lowest": nine,
        "highest": nine + 180,
    }
    labels = [f"{from_minutes(m):%H:%M}" for m in offered(case)]
    assert labels == ["09:00", "09:15", "10:45", "11:00", "11:15", "11:30"]
    assert offered(case) == oracle(case)
