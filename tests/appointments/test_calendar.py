"""The calendar in the back office (issue 24.1): the department's day with a column per agent and the agent's week
with a column per day, in the department's zone, each block with its status in words; a block moved on the page is
moved by the API's service, whose refusal (the clash) comes back as its own text with nothing written; its queries
stay the same however full the week is.

Every appointment here is on a day a week ahead in the department's zone (the whole of its week is still to come,
whatever the hour the tests run at), at 10:00 and 11:00 of its clock.
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.calendar import MAX_LANES, Block, _lanes
from appointments.models import Appointment, Status
from ledger.models import Entry
from tests.factories import make_appointment
from tests.helpers import logged_in, staff

CALENDAR = "/admin/appointments/appointment/calendar/"
MOVE = "/admin/appointments/appointment/calendar/move/"


def ahead(department) -> date:
    """A day whose whole week (Monday to Sunday, in the department's zone) is still to come."""
    zone = ZoneInfo(department.time_zone)
    return (timezone.now().astimezone(zone) + timedelta(days=7)).date()


def local(department, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(department.time_zone))


def _named(username: str, department, first: str = "Dana", last: str = "Reid"):
    user = staff(username, department)
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def dana(department):
    return _named("dana", department)


@pytest.fixture
def sam(department):
    return _named("sam", department, "Sam", "Okafor")


def booked(department, day: date, hour: int, agent, reference: str, **options) -> Appointment:
    data = {"Case number": reference} if department.data_fields.filter(name="Case number").exists() else {}
    claimant = {"name": f"Claimant {reference}", "data": data}
    return make_appointment(
        department,
        appointment_at=local(department, day, hour),
        duration_in_minutes=options.pop("duration", 30),
        reference=reference,
        agent_id=agent.pk if agent else None,
        claimant=claimant,
        **options,
    )


class TestThePage:
    def test_the_day_has_a_column_per_agent_and_blocks_say_their_status(self, department, dana, sam) -> None:
        department.time_zone = "Europe/London"
        department.save(update_fields=["time_zone"])
        day = ahead(department)
        booked(department, day, 10, dana, "DANA-10")
        booked(department, day, 11, sam, "SAM-11")
        response = logged_in(dana).get(CALENDAR, {"date": day.isoformat()})
        assert response.status_code == 200
        calendar = response.context["calendar"]
        assert [c.heading for c in calendar.columns] == ["Dana Reid", "Sam Okafor"]
        assert [(b.appointment.reference, b.column, b.row, b.span) for b in calendar.blocks] == [
            ("DANA-10", 1, (10 - 7) * 4, 2),
            ("SAM-11", 2, (11 - 7) * 4, 2),
        ]
        page = response.content.decode()
        assert 'class="cal-status">Scheduled</span>' in page  # the status in words, not colour alone
        assert "status-scheduled" in page
        zone = ZoneInfo("Europe/London")
        assert str(local(department, day, 10).astimezone(zone).tzname()) in page  # times labelled with the zone
        assert 'src="/static/appointments/calendar.js"' in page
        assert "<script>" not in page
        assert "style=" not in page

    def test_the_agenda_names_each_appointments_agent(self, department, dana, sam) -> None:
        # The phone's list (the grid's columns say the agent; the list must say it on each item).
        department.time_zone = "Europe/London"
        department.save(update_fields=["time_zone"])
        day = ahead(department)
        nameless = staff("kit", department)  # no first or last name: known by the username, as the grid's heading
        booked(department, day, 10, dana, "DANA-10")
        booked(department, day, 11, sam, "SAM-11")
        booked(department, day, 12, nameless, "KIT-12")
        booked(department, day, 13, None, "NOBODY-13")
        expected = {
            ("day", ""): [
                ("DANA-10", "Dana Reid"),
                ("SAM-11", "Sam Okafor"),
                ("KIT-12", "kit"),
                ("NOBODY-13", "No agent"),
            ],
            ("week", str(sam.pk)): [("SAM-11", "Sam Okafor")],
        }
        for (view, agent), items in expected.items():
            response = logged_in(dana).get(CALENDAR, {"date": day.isoformat(), "view": view, "agent": agent})
            page = response.content.decode()
            agenda = page[page.index('<ol class="cal-agenda"') :]
            assert re.findall(r'class="cal-ref">([^<]+)</span> <span class="cal-agent">([^<]+)</span>', agenda) == items

    def test_the_week_is_an_agents_with_a_column_per_day(self, department, dana, sam) -> None:
        day = ahead(department)
        monday = day - timedelta(days=day.weekday())
        booked(department, monday + timedelta(days=2), 10, dana, "WED")
        booked(department, monday + timedelta(days=4), 10, sam, "SAMS")
        response = logged_in(dana).get(CALENDAR, {"date": day.isoformat(), "view": "week"})
        calendar = response.context["calendar"]
        assert calendar.day == monday
        assert [c.day for c in calendar.columns] == [monday + timedelta(days=i) for i in range(7)]
        assert [(b.appointment.reference, b.column) for b in calendar.blocks] == [("WED", 3)]  # Dana's own week

    def test_previous_next_and_today(self, department, dana) -> None:
        day = ahead(department)
        response = logged_in(dana).get(CALENDAR, {"date": day.isoformat()})
        assert f"date={(day - timedelta(days=1)).isoformat()}" in response.context["previous_url"]
        assert f"date={(day + timedelta(days=1)).isoformat()}" in response.context["next_url"]
        assert "date=" not in response.context["today_url"]
        today = logged_in(dana).get(response.context["today_url"]).context["calendar"]
        assert today.day == timezone.now().astimezone(ZoneInfo(department.time_zone)).date()

    def test_overlapping_blocks_share_the_column(self) -> None:
        blocks = [Block(appointment=None, column=1, row=r, span=s) for r, s in [(0, 4), (1, 2), (2, 4), (8, 1)]]  # type: ignore[arg-type]
        _lanes(blocks)
        assert [(b.row, b.lane, b.lanes) for b in blocks] == [(0, 0, 3), (1, 1, 3), (2, 2, 3), (8, 0, 1)]
        assert MAX_LANES == 4

    def test_the_queries_stay_the_same_as_the_week_fills(self, department, dana, sam) -> None:
        day = ahead(department)
        monday = day - timedelta(days=day.weekday())
        client = logged_in(dana)

        def queries(count: int, hour: int) -> int:
            for n in range(count):
                booked(department, monday + timedelta(days=n % 7), hour + n // 7, dana, f"Q{count}-{n}")
            for view in ("week", "day"):
                client.get(CALENDAR, {"date": monday.isoformat(), "view": view})
            with CaptureQueriesContext(connection) as week:
                assert client.get(CALENDAR, {"date": monday.isoformat(), "view": "week"}).status_code == 200
            with CaptureQueriesContext(connection) as one_day:
                assert client.get(CALENDAR, {"date": monday.isoformat()}).status_code == 200
            return len(week) + len(one_day)

        assert queries(2, 8) == queries(30, 9)

    def test_another_departments_appointment_is_not_shown(self, department, other_department, dana) -> None:
        day = ahead(department)
        outsider = _named("olu", other_department, "Olu", "Other")
        booked(other_department, day, 10, outsider, "OTHER")
        response = logged_in(dana).get(CALENDAR, {"date": day.isoformat(), "department": str(other_department.pk)})
        assert response.context["calendar"].department == department
        assert "OTHER" not in response.content.decode()


class TestMoving:
    def test_a_block_moved_to_another_time_and_agent_goes_through_the_service(self, department, dana, sam) -> None:
        day = ahead(department)
        moved = booked(department, day, 10, dana, "MOVE")
        entries = Entry.objects.filter(appointment_id=moved.pk).count()
        answer = logged_in(dana).post(
            MOVE, {"appointment": str(moved.pk), "date": day.isoformat(), "time": "14:15", "agent": str(sam.pk)}
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["moved"] is True
        assert answer.json()["message"].startswith("Moved MOVE to ")
        assert answer.json()["label"].startswith("14:15 to ")  # the block's new label, as the grid draws it
        moved.refresh_from_db()
        assert moved.appointment_at == local(department, day, 14, 15)
        assert moved.agent_id == sam.pk
        assert moved.meeting.start_date == moved.appointment_at  # what follows a change followed this one
        assert Entry.objects.filter(appointment_id=moved.pk).count() > entries  # in the ledger, as any change

    def test_a_clash_is_refused_with_the_services_words_and_nothing_written(self, department, dana) -> None:
        day = ahead(department)
        booked(department, day, 10, dana, "FIRST")
        second = booked(department, day, 11, dana, "SECOND")
        answer = logged_in(dana).post(
            MOVE, {"appointment": str(second.pk), "date": day.isoformat(), "time": "10:15", "agent": str(dana.pk)}
        )
        assert answer.status_code == 200  # an answer, not a failure (no console error in the agent's browser)
        assert answer.json()["moved"] is False
        errors = answer.json()["errors"]
        assert errors[0].startswith("The agent already has appointment FIRST, ")
        assert "which overlaps this one" in errors[0]
        second.refresh_from_db()
        assert second.appointment_at == local(department, day, 11)

    def test_a_time_the_clocks_skip_is_refused(self, department, dana) -> None:
        department.time_zone = "Europe/London"
        department.save(update_fields=["time_zone"])
        spring = date(timezone.now().year + 1, 3, 31)
        spring -= timedelta(days=(spring.weekday() + 1) % 7)  # the last Sunday of March
        moved = booked(department, spring, 10, dana, "SPRING")
        answer = logged_in(dana).post(MOVE, {"appointment": str(moved.pk), "date": spring.isoformat(), "time": "01:30"})
        assert answer.status_code == 200
        assert answer.json()["moved"] is False
        assert answer.json()["errors"] == ["01:30 does not exist that day in Europe/London (the clocks go forward)."]

    def test_a_final_appointment_does_not_move(self, department, dana) -> None:
        day = ahead(department)
        done = booked(department, day, 10, dana, "DONE")
        from appointments.services import appointment_cancel

        appointment_cancel(appointment=done, actor=None, reason="test")
        answer = logged_in(dana).post(MOVE, {"appointment": str(done.pk), "date": day.isoformat(), "time": "12:00"})
        assert answer.status_code == 200
        assert answer.json()["moved"] is False
        assert answer.json()["errors"]
        done.refresh_from_db()
        assert done.status == Status.CANCELLED
        assert done.appointment_at == local(department, day, 10)

    def test_a_move_without_a_day_or_time_is_malformed(self, department, dana) -> None:
        day = ahead(department)
        moved = booked(department, day, 10, dana, "MALFORMED")
        answer = logged_in(dana).post(MOVE, {"appointment": str(moved.pk), "date": day.isoformat(), "time": "noon"})
        assert answer.status_code == 422
        assert answer.json() == {"moved": False, "errors": ["Choose a day and a time."]}
        moved.refresh_from_db()
        assert moved.appointment_at == local(department, day, 10)

    def test_another_departments_appointment_cannot_be_moved(self, department, other_department, dana) -> None:
        day = ahead(department)
        outsider = booked(other_department, day, 10, None, "THEIRS")
        answer = logged_in(dana).post(MOVE, {"appointment": str(outsider.pk), "date": day.isoformat(), "time": "12:00"})
        assert answer.status_code == 403
        assert logged_in(dana).get(MOVE).status_code == 405
