"""The agent's day: the appointments list opens on today in the department's own time zone, what is still to
come first, each status a badge with its name, a Join button on calls that can be joined now, quick views
(this week, waiting now, needs attention), every time labelled with its zone, right across a change of clocks."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.local_time import local_day, local_label, local_week
from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.models import Meeting, Participant, Role
from tests.factories import make_appointment
from tests.helpers import claimant_joins, logged_in, rewrite, staff

LIST = "/admin/appointments/appointment/"
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def desk(department):
    return logged_in(staff("desk", department))


def refs(response) -> list[str]:
    return [a.reference for a in response.context["cl"].result_list]


def at(department, when: datetime, reference: str, **options) -> Appointment:
    """An appointment at `when`; one in the past is booked ahead and moved back, as the clock would."""
    claimant = {"name": f"Claimant {reference}", "data": {"Case number": reference}}
    ahead = max(when, timezone.now() + timedelta(minutes=1))
    made = make_appointment(department, appointment_at=ahead, reference=reference, claimant=claimant, **options)
    if ahead != when:
        rewrite(Appointment.objects.filter(pk=made.pk), appointment_at=when)
        rewrite(Meeting.objects.filter(appointment=made), start_date=when, end_date=when + timedelta(hours=1))
    return Appointment.objects.get(pk=made.pk)


class TestLocalTime:
    @pytest.mark.parametrize(
        ("moment", "label"),
        [
            (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Sun 29 Mar 2026, 00:30 GMT"),  # before the clocks go forward
            (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Sun 29 Mar 2026, 02:30 BST"),  # after
            (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Sun 25 Oct 2026, 01:30 BST"),  # before they go back
            (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Sun 25 Oct 2026, 01:30 GMT"),  # the same hour again
        ],
    )
    def test_labels_are_local_and_name_the_zone(self, moment: datetime, label: str) -> None:
        assert local_label(moment, LONDON) == label

    def test_a_day_across_a_change_of_clocks_is_23_or_25_hours(self) -> None:
        spring = local_day(datetime(2026, 3, 29, 12, tzinfo=UTC), LONDON)
        autumn = local_day(datetime(2026, 10, 25, 12, tzinfo=UTC), LONDON)
        assert spring[1] - spring[0] == timedelta(hours=23)
        assert autumn[1] - autumn[0] == timedelta(hours=25)
        assert spring[0] == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
        assert autumn[0] == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)

    def test_the_week_runs_monday_to_sunday_in_the_zone(self) -> None:
        start, end = local_week(datetime(2026, 11, 25, 12, tzinfo=UTC), NEW_YORK)
        assert start == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday 00:00 EST
        assert end - start == timedelta(days=7)


class TestToday:
    def test_the_list_opens_on_today_in_the_departments_zone(self, desk, department) -> None:
        department.time_zone = "America/New_York"
        department.save()
        start, end = local_day(timezone.now(), NEW_YORK)
        at(department, start - timedelta(minutes=30), "YESTERDAY")
        at(department, start + timedelta(hours=23, minutes=30), "LATE-TONIGHT")  # past midnight in UTC, maybe
        at(department, end + timedelta(minutes=30), "TOMORROW")
        response = desk.get(LIST)
        assert refs(response) == ["LATE-TONIGHT"]
        page = response.content.decode()
        label = local_label(start + timedelta(hours=23, minutes=30), NEW_YORK)
        assert label.endswith(("EST", "EDT"))
        assert label in page
        # "All" and a search look through everything.
        assert len(refs(desk.get(LIST, {"show": "all"}))) == 3
        assert refs(desk.get(LIST, {"q": "TOMORROW"})) == ["TOMORROW"]

    def test_what_is_to_come_first_with_badges_and_join_on_calls_open_now(self, desk, department, agent) -> None:
        now = timezone.now()
        start, end = local_day(now, ZoneInfo(department.time_zone))
        if end - now < timedelta(hours=3) or now - start < timedelta(hours=3):
            pytest.skip("needs three hours of today on either side of now")  # the clock is near local midnight
        done = at(department, now + timedelta(minutes=5), "DONE")
        appointment_update(appointment=done, data={"status": Status.IN_PROGRESS}, actor=agent.user)
        appointment_update(appointment=done, data={"status": Status.COMPLETED}, actor=agent.user)
        rewrite(Appointment.objects.filter(pk=done.pk), appointment_at=now - timedelta(hours=2))
        at(department, now + timedelta(minutes=10), "SOON")
        at(department, now + timedelta(hours=2), "LATER")
        response = desk.get(LIST)
        assert refs(response) == ["SOON", "LATER", "DONE"]
        page = response.content.decode()
        assert '<span class="status-badge status-completed">Completed</span>' in page
        assert '<span class="status-badge status-scheduled">Scheduled</span>' in page
        soon = Appointment.objects.get(reference="SOON")
        assert page.count('class="button join-button"') == 1
        assert f'href="/admin/appointments/appointment/{soon.pk}/meeting/"' in page

    def test_waiting_now_and_needs_attention(self, desk, department, agent) -> None:
        now = timezone.now()
        waiting = at(department, now + timedelta(minutes=10), "WAITING")
        claimant_joins(waiting)  # the claimant in the waiting room makes it waiting
        at(department, now - timedelta(minutes=20), "LATE")
        locked = at(department, now + timedelta(days=3), "LOCKED")
        rewrite(Participant.objects.filter(appointment=locked, role=Role.CLAIMANT), identity_locked_at=now)
        at(department, now + timedelta(days=3), "FINE")
        assert refs(desk.get(LIST, {"show": "waiting"})) == ["WAITING"]
        assert sorted(refs(desk.get(LIST, {"show": "attention"}))) == ["LATE", "LOCKED"]

    def test_query_count_stays_the_same_as_the_day_fills(self, desk, department) -> None:
        start, _end = local_day(timezone.now(), ZoneInfo(department.time_zone))

        def queries(count: int) -> int:
            for n in range(count):
                at(department, start + timedelta(hours=1, minutes=n), f"R{count}-{n}")
            desk.get(LIST)
            with CaptureQueriesContext(connection) as captured:
                response = desk.get(LIST)
            assert response.status_code == 200
            return len(captured)

        assert queries(2) == queries(20)


class TestProduct:
    def test_the_back_office_names_the_product_on_every_page_with_its_icon(self, desk, appointment) -> None:
        for url, where in (
            ("/admin/", "Back office"),
            (LIST, "Today"),
            (f"{LIST}?show=all", "Appointments"),
            (f"{LIST}{appointment.pk}/change/", "Change appointment"),
        ):
            page = desk.get(url).content.decode()
            title = page.split("<title>")[1].split("</title>")[0]
            assert where in title, url
            assert title.endswith("| Appointments back office")
            assert '<div id="site-name"><a href="/admin/">Appointments</a></div>' in page
            assert 'rel="icon" href="/static/brand/favicon.svg"' in page
            assert "Django" not in page.split("<body")[0]
        assert f'href="{LIST}"' in desk.get("/admin/").content.decode()  # "View site": the agent's day

    def test_favicon_ico_leads_to_the_icon(self, client) -> None:
        response = client.get("/favicon.ico")
        assert (response.status_code, response["Location"]) == (301, "/static/brand/favicon.svg")
        assert client.get("/static/brand/favicon.svg").status_code == 200


class TestExport:
    def rows(self, response) -> list[list[str]]:
        import csv
        import io

        assert response.streaming
        text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
        return list(csv.reader(io.StringIO(text)))

    def test_the_filtered_list_streams_as_csv_in_local_time(self, desk, department, other_department) -> None:
        department.time_zone = "America/New_York"
        department.save()
        when = timezone.now() + timedelta(days=3)
        at(department, when, "KEEP", is_interpreter_needed=True, interpreter_language="Welsh")
        at(department, when + timedelta(hours=1), "=HYPERLINK(1)")
        make_appointment(other_department, appointment_at=when, reference="THEIRS")
        page = desk.get(LIST, {"show": "all"}).content.decode()
        assert f'href="{LIST}export.csv?show=all"' in page
        response = desk.get(f"{LIST}export.csv", {"show": "all"})
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "no-store" in response["Cache-Control"]
        header, *rows = self.rows(response)
        assert header[:3] == ["reference", "time (local)", "time zone"]
        assert sorted(row[0] for row in rows) == ["'=HYPERLINK(1)", "KEEP"]  # a formula is made text
        keep = next(row for row in rows if row[0] == "KEEP")
        local = when.astimezone(NEW_YORK).replace(second=0, microsecond=0)
        assert keep[1] == local.isoformat(timespec="minutes")
        assert keep[2] == "America/New_York"
        assert keep[header.index("interpreter")] == "Welsh"
        # The filters of the list apply: a search narrows it.
        assert [row[0] for row in self.rows(desk.get(f"{LIST}export.csv", {"q": "KEEP"}))[1:]] == ["KEEP"]

    def test_query_count_does_not_grow_with_rows(self, desk, department) -> None:
        def queries(count: int) -> int:
            for n in range(count):
                at(department, timezone.now() + timedelta(days=2, minutes=n), f"E{count}-{n}")
            with CaptureQueriesContext(connection) as captured:
                self.rows(desk.get(f"{LIST}export.csv", {"show": "all"}))
            return len(captured)

        assert queries(2) == queries(25)

    def test_no_view_permission_no_export(self, department) -> None:
        nobody = staff("nobody", department)
        nobody.groups.clear()
        assert logged_in(nobody).get(f"{LIST}export.csv").status_code == 403


class TestDashboard:
    URL = "/admin/appointments/appointment/dashboard/"

    def test_the_week_by_status_per_day_the_no_show_rate_and_the_wait(self, department, agent) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        now = timezone.now()
        start, _end = local_week(now, LONDON)
        monday_noon = start + timedelta(hours=12)
        done = at(department, monday_noon, "DONE")
        rewrite(
            Appointment.objects.filter(pk=done.pk),
            status=Status.COMPLETED,
            session_started_at=monday_noon,
            session_ended_at=monday_noon + timedelta(hours=1),
        )
        claimant = Participant.objects.get(appointment=done, role=Role.CLAIMANT)
        rewrite(
            Participant.objects.filter(pk=claimant.pk),
            joined_waiting_at=monday_noon - timedelta(minutes=4, seconds=30),
            admitted_at=monday_noon,
        )
        missed = at(department, monday_noon + timedelta(hours=2), "MISSED")
        rewrite(Appointment.objects.filter(pk=missed.pk), status=Status.NO_SHOW)
        at(department, start - timedelta(days=1), "LAST-WEEK")
        response = manager.get(self.URL)
        assert response.status_code == 200
        summary = response.context["summary"]
        assert summary["total"] == 2
        assert summary["no_show_rate"] == 0.5
        assert summary["average_wait"] == timedelta(minutes=4, seconds=30)
        monday = summary["rows"][0]
        assert monday[2] == 2
        page = response.content.decode()
        assert "50%" in page
        assert "4 min 30 s" in page
        assert '<script src="/static/vendor/chartjs/chart.umd.min.js" defer></script>' in page
        assert 'id="week-data" type="application/json"' in page

    def test_agents_do_not_see_it_and_queries_stay_the_same(self, department) -> None:
        assert logged_in(staff("desk-2", department)).get(self.URL).status_code == 403
        manager = logged_in(staff("manager", department, group="Department managers"))
        start, _end = local_week(timezone.now(), LONDON)

        def queries(count: int) -> int:
            for n in range(count):
                at(department, start + timedelta(days=n % 7, hours=10, minutes=n), f"D{count}-{n}")
            with CaptureQueriesContext(connection) as captured:
                assert manager.get(self.URL).status_code == 200
            return len(captured)

        assert queries(2) == queries(21)


def test_every_time_on_the_change_and_history_pages_is_in_the_departments_zone_labelled(desk, department) -> None:
    """One format per page, in the department's zone: the record, the meeting, recent changes, the participants
    panel and the history page (a revoked guest's link carries a time too)."""
    from meetings.services import participant_invite_guest, participant_revoke

    department.time_zone = "America/New_York"
    department.save()
    appointment = at(department, timezone.now() + timedelta(days=2), "ZONED")
    guest = participant_invite_guest(appointment=appointment, display_name="Lawyer", actor=None)
    participant_revoke(participant=guest, actor=None)
    revoked = Participant.objects.get(pk=guest.pk).revoked_at
    assert revoked is not None
    page = desk.get(f"{LIST}{appointment.pk}/change/").content.decode()
    assert f"revoked {local_label(revoked, NEW_YORK)}" in page
    assert local_label(appointment.created_at, NEW_YORK) in page
    assert local_label(appointment.meeting.start_date, NEW_YORK) in page
    assert not re.search(r"\d\d:\d\d(:\d\d)? UTC", page)  # no time left in UTC
    history = desk.get(f"{LIST}{appointment.pk}/history/").content.decode()
    assert local_label(appointment.created_at, NEW_YORK)[:-4] in history  # the creation, to the minute
    assert "(UTC)" not in history
