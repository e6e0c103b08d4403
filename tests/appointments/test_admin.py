"""The staff back office: tenancy, the change page through the services, actions, departments, tokens,
history, and hardening (login lockout, CSP)."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from appointments.admin.appointment import AppointmentAdmin
from appointments.local_time import local_label
from appointments.models import FEATURE_FIELDS, Appointment, Department, Status
from appointments.services import appointment_update
from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType
from meetings.models import Meeting
from tests.factories import UserFactory, in_days, make_appointment
from tests.helpers import (
    PASSWORD,
    allowed_moment,
    claimant_waits_while_scheduled,
    hours_forms,
    logged_in,
    staff,
    walk_to,
)
from tests.helpers import admin_change_url as change_url
from tests.helpers import admin_form_data as form_data

CHANGELIST = "/admin/appointments/appointment/"
EVERYTHING = f"{CHANGELIST}?show=all"  # the list opens on today; these tests look at every appointment
FEATURE_FLAGS = [name for name in FEATURE_FIELDS if name != "features_bandwidth"]


@pytest.fixture
def agent_user(department) -> Any:
    return staff("desk-agent", department)


@pytest.fixture
def desk(agent_user) -> Client:
    return logged_in(agent_user)


class TestEveryModel:
    @pytest.mark.parametrize("model", [Department, Appointment, ApiToken, Claimant, ClaimantData, Meeting])
    def test_every_model_has_a_changelist(self, superuser_client, appointment, model) -> None:
        assert model in site._registry
        meta = model._meta
        assert superuser_client.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200

    @pytest.mark.parametrize("model", [Claimant, ClaimantData, Meeting])
    def test_service_kept_records_cannot_be_added_or_deleted_here(self, superuser_client, appointment, model) -> None:
        meta = model._meta
        assert superuser_client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403

    def test_appointments_are_added_only_through_the_booking_form(self, superuser_client, appointment) -> None:
        page = superuser_client.get("/admin/appointments/appointment/add/")
        assert page.templates[0].name == "admin/appointments/book.html"  # the service's form, not a model form
        deleted = superuser_client.post(f"/admin/appointments/appointment/{appointment.pk}/delete/", {"post": "yes"})
        assert deleted.status_code == 403
        assert Appointment.objects.filter(pk=appointment.pk).exists()


@pytest.fixture
def superuser_client(db) -> Client:
    return logged_in(staff("boss", group="Department managers", superuser=True))


class TestTenancy:
    def test_changelist_shows_only_the_staff_members_departments(self, desk, department, other_department) -> None:
        mine = make_appointment(department, reference="MINE")
        make_appointment(other_department, reference="THEIRS", claimant={"name": "Other"})
        response = desk.get(EVERYTHING)
        assert response.status_code == 200
        shown = [a.reference for a in response.context["cl"].result_list]
        assert shown == [mine.reference]

    def test_another_departments_appointment_is_not_reachable(self, desk, other_department) -> None:
        theirs = make_appointment(other_department, claimant={"name": "Other"})
        for url in (change_url(theirs), f"{CHANGELIST}{theirs.pk}/history/"):
            response = desk.get(url)
            assert response.status_code in (302, 403, 404), url
            assert theirs.claimant.name not in response.content.decode()
        before = Appointment.objects.get(pk=theirs.pk).duration_in_minutes
        desk.post(EVERYTHING, {"action": "mark_waiting", "_selected_action": [str(theirs.pk)]})
        assert Appointment.objects.get(pk=theirs.pk).status == Status.SCHEDULED
        assert Appointment.objects.get(pk=theirs.pk).duration_in_minutes == before

    def test_cannot_move_an_appointment_to_a_department_outside_ones_own(
        self, desk, appointment, other_department
    ) -> None:
        data = form_data(desk, appointment) | {"department": str(other_department.pk)}
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 200
        assert "department" in response.context["adminform"].form.errors
        assert Appointment.objects.get(pk=appointment.pk).department_id == appointment.department_id

    def test_superuser_sees_every_department(self, superuser_client, department, other_department) -> None:
        make_appointment(department, reference="A")
        make_appointment(other_department, reference="B", claimant={"name": "X"})
        shown = {a.reference for a in superuser_client.get(EVERYTHING).context["cl"].result_list}
        assert shown == {"A", "B"}

    def test_staff_without_the_group_cannot_open_appointments(self, department, appointment) -> None:
        user = UserFactory.create(username="no-perms", is_staff=True)
        department.members.add(user)
        assert logged_in(user).get(EVERYTHING).status_code == 403


class TestChangelist:
    def test_columns_filters_search_and_date_hierarchy(self, desk, department, agent_user) -> None:
        early = make_appointment(department, reference="EARLY", appointment_at=in_days(1))
        make_appointment(
            department,
            reference="LATE",
            appointment_at=in_days(30),
            claimant={"name": "Grace Hopper", "phone_number": "+442071234567", "data": {"Case number": "1"}},
        )
        walk_to(early, Status.WAITING, agent_user)  # the claimant joins the waiting room
        page = desk.get(EVERYTHING).content.decode()
        for text in ("EARLY", "LATE", "Grace Hopper", "Claims", "Waiting", "Scheduled"):
            assert text in page
        refs = lambda response: [a.reference for a in response.context["cl"].result_list]  # noqa: E731
        assert refs(desk.get(CHANGELIST, {"status__exact": "waiting"})) == ["EARLY"]
        assert refs(desk.get(CHANGELIST, {"q": "hopper"})) == ["LATE"]
        assert refs(desk.get(CHANGELIST, {"q": "+4420712"})) == ["LATE"]
        assert refs(desk.get(CHANGELIST, {"department": str(department.pk)})) == ["EARLY", "LATE"]
        day = in_days(30)
        hierarchy = {
            "appointment_at__year": day.year,
            "appointment_at__month": day.month,
            "appointment_at__day": day.day,
        }
        assert refs(desk.get(CHANGELIST, hierarchy)) == ["LATE"]

    def test_todays_list_gives_the_clock_alone_and_every_other_list_the_date_too(self, desk, department) -> None:
        # Midday in London on a winter's day: 14:45 today is GMT, and the date is said once, by the heading.
        with time_machine.travel(datetime(2026, 12, 8, 12, 0, tzinfo=UTC), tick=False):
            make_appointment(department, reference="TODAY", appointment_at=datetime(2026, 12, 8, 14, 45, tzinfo=UTC))
            today = desk.get(CHANGELIST).content.decode()
            everything = desk.get(EVERYTHING).content.decode()
        cell = re.compile(r'<th class="field-when(?:_today)?"><a href="[^"]+">([^<]+)</a></th>')
        assert cell.findall(today) == ["14:45 GMT"]
        assert cell.findall(everything) == ["Tue 8 Dec 2026, 14:45 GMT"]

    def test_a_row_not_of_today_in_its_own_zone_keeps_its_date_in_a_one_day_list(self, department) -> None:
        model_admin = site._registry[Appointment]
        assert isinstance(model_admin, AppointmentAdmin)
        with time_machine.travel(datetime(2026, 12, 8, 23, 30, tzinfo=UTC), tick=False):
            tomorrow = make_appointment(department, appointment_at=datetime(2026, 12, 9, 0, 15, tzinfo=UTC))
            tonight = make_appointment(department, appointment_at=datetime(2026, 12, 8, 23, 45, tzinfo=UTC))
            assert model_admin.when_today(tonight) == "23:45 GMT"
            assert model_admin.when_today(tomorrow) == "Wed 9 Dec 2026, 00:15 GMT"  # never read as today's

    @pytest.mark.parametrize("rows", [3, 40])
    def test_query_count_does_not_grow_with_the_page(self, desk, department, rows) -> None:
        for n in range(rows):
            make_appointment(department, reference=f"R{n:03d}")
        desk.get(EVERYTHING)
        with CaptureQueriesContext(connection) as queries:
            response = desk.get(EVERYTHING)
        assert len(response.context["cl"].result_list) == rows
        # The live pages' version (appointments.live, issue 24.2) reads the ledger of the span's appointments only:
        # a week's at most, bounded by its time on both sides, whatever the table holds.
        live = [q["sql"] for q in queries if '"ledger_entry"' in q["sql"]]
        assert len(live) == 1
        assert '"appointment_at" >=' in live[0]
        assert '"appointment_at" <' in live[0]
        rest = [q["sql"] for q in queries if q["sql"] not in live]
        counts = [sql for sql in rest if "COUNT(" in sql.upper()]
        assert len(counts) == 1  # the page's count only, and a bounded one: never a count of the whole table
        assert "LIMIT 10001" in counts[0]
        assert "ORDER BY" not in counts[0]  # nothing sorted to be counted (issue 26.3)
        assert not [sql for sql in rest if "DISTINCT" in sql]  # the date hierarchy reads no table-wide dates
        assert len(queries) <= 12, [q["sql"][:80] for q in queries]

    def test_a_count_past_the_cap_reads_more_than(self, desk, department, monkeypatch) -> None:
        from config.admin import CappedCountPaginator

        monkeypatch.setattr(CappedCountPaginator, "cap", 3)
        for n in range(5):
            make_appointment(department, reference=f"M{n}")
        page = desk.get(EVERYTHING).content.decode()
        assert "more than 3" in page
        assert "5 appointments" not in page

    def test_date_hierarchy_over_several_pages_reads_the_bounds_from_the_index(
        self, desk, department, monkeypatch
    ) -> None:

        monkeypatch.setattr(AppointmentAdmin, "list_per_page", 1)
        first, last = in_days(1), in_days(800)
        make_appointment(department, reference="FIRST", appointment_at=first)
        make_appointment(department, reference="LAST", appointment_at=last)
        with CaptureQueriesContext(connection) as queries:
            page = desk.get(EVERYTHING).content.decode()
        for year in range(first.year, last.year + 1):
            assert f"appointment_at__year={year}" in page
        assert sum("LIMIT 1" in q["sql"] for q in queries) >= 2

    def test_date_hierarchy_drills_from_years_to_days(self, desk, department) -> None:
        when = in_days(400)
        make_appointment(department, reference="FAR", appointment_at=when)
        make_appointment(department, reference="NEAR", appointment_at=in_days(1))
        top = desk.get(EVERYTHING).content.decode()
        assert f"appointment_at__year={when.year}" in top
        month = desk.get(CHANGELIST, {"appointment_at__year": when.year}).content.decode()
        assert f"appointment_at__month={when.month}" in month
        days = desk.get(CHANGELIST, {"appointment_at__year": when.year, "appointment_at__month": when.month})
        assert f"appointment_at__day={when.day}" in days.content.decode()


class TestChangePage:
    def test_shows_claimant_data_and_the_meeting_with_a_join_link(self, desk, appointment) -> None:
        page = desk.get(change_url(appointment)).content.decode()
        assert 'name="claimant_name"' in page
        assert "Ada Lovelace" in page
        items = {item.field.name: item for item in appointment.claimant.data.all()}
        assert f'name="data_{items["Case number"].pk}"' in page
        assert "CASE-1" in page
        assert f'name="data_{items["Incident date"].pk}"' in page
        assert appointment.meeting.room_url in page
        assert "Join as agent" in page
        assert 'name="meeting' not in page  # read-only

    def test_reschedule_moves_the_meeting_and_records_who(self, desk, agent_user, appointment) -> None:
        new_time = in_days(6, hour=15)
        data = form_data(desk, appointment) | {
            "appointment_at_0": new_time.strftime("%Y-%m-%d"),
            "appointment_at_1": "15:00:00",
            "duration_in_minutes": "30",
            "claimant_name": "Ada King",
        }
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        fresh = Appointment.objects.select_related("meeting", "claimant").get(pk=appointment.pk)
        assert (fresh.appointment_at, fresh.duration_in_minutes, fresh.claimant.name) == (new_time, 30, "Ada King")
        assert (fresh.meeting.start_date, fresh.meeting.end_date) == (new_time, new_time + timedelta(minutes=30))
        assert fresh.history.latest().history_user == agent_user
        assert Meeting.history.filter(id=fresh.meeting.id).latest().history_user == agent_user

    def test_success_message_and_recent_actions_name_the_appointment_as_saved(self, desk, appointment) -> None:
        from django.contrib.admin.models import LogEntry

        new_time = in_days(9, hour=16)
        data = form_data(desk, appointment) | {
            "appointment_at_0": new_time.strftime("%Y-%m-%d"),
            "appointment_at_1": "16:00:00",
        }
        response = desk.post(change_url(appointment), data, follow=True)
        label = f"{appointment.reference} ({local_label(new_time, ZoneInfo('Europe/London'))})"
        message = next(str(m) for m in response.context["messages"])
        assert f">{label}</a>” was changed successfully." in message
        assert LogEntry.objects.get(object_id=str(appointment.pk)).object_repr == label

    def test_a_redirect_url_without_a_scheme_is_refused_as_the_api_refuses_it(self, desk, appointment) -> None:
        data = form_data(desk, appointment) | {"custom_user_post_call_redirect_url": "example.com/thanks"}
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["custom_user_post_call_redirect_url"] == ["Enter a valid http(s) URL."]
        appointment.refresh_from_db()
        assert appointment.custom_user_post_call_redirect_url is None

    def test_a_required_field_added_later_does_not_block_other_changes(self, desk, department, appointment) -> None:
        """The same rule as the API: an item left empty by a later required field blocks nothing else."""
        from claimants.services import claimant_data_field_added

        insurer = ClaimantDataField.objects.create(department=department, name="Insurer", required=True, position=9)
        claimant_data_field_added(data_field=insurer, actor=None)
        response = desk.post(change_url(appointment), form_data(desk, appointment) | {"duration_in_minutes": "50"})
        assert response.status_code == 302, response.context["adminform"].form.errors
        appointment.refresh_from_db()
        assert appointment.duration_in_minutes == 50
        # ... and emptying a required item is refused on both sides with the same rule.
        case = appointment.claimant.data.get(field__name="Case number")
        response = desk.post(change_url(appointment), form_data(desk, appointment) | {f"data_{case.pk}": ""})
        assert response.status_code == 200
        assert "is required" in response.context["adminform"].form.errors[f"data_{case.pk}"][0]
        assert ClaimantData.objects.get(pk=case.pk).value == "CASE-1"

    def test_an_invalid_change_shows_the_services_messages_and_saves_nothing(self, desk, appointment) -> None:
        case = appointment.claimant.data.get(field__name="Case number")
        date_item = appointment.claimant.data.get(field__name="Incident date")
        data = form_data(desk, appointment) | {
            "is_interpreter_needed": "on",
            "interpreter_language": "",
            "duration_in_minutes": "45",
            "claimant_name": "Changed",
            f"data_{date_item.pk}": "31/12/2024",
            f"data_{case.pk}": "NEW",
        }
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["interpreter_language"] == [
            "The “Interpreter language” field is required when an interpreter is needed."
        ]
        assert "YYYY-MM-DD" in errors[f"data_{date_item.pk}"][0]
        # The form's labels, never the API's paths (issue 24.5).
        assert errors[f"data_{date_item.pk}"][0].startswith("The “Incident date” field ")
        page = " ".join(response.content.decode().split())
        assert "claimant.data" not in page
        assert "interpreter language field" not in page
        fresh = Appointment.objects.select_related("claimant").get(pk=appointment.pk)
        assert (fresh.duration_in_minutes, fresh.claimant.name, fresh.is_interpreter_needed) == (
            60,
            "Ada Lovelace",
            False,
        )
        case.refresh_from_db()
        assert case.value == "CASE-1"

    def test_status_offers_only_what_the_lifecycle_allows_and_refuses_the_rest(self, desk, appointment) -> None:
        form = desk.get(change_url(appointment)).context["adminform"].form
        assert [value for value, _label in form.fields["status"].choices] == [
            "scheduled",
            "waiting",
            "in_progress",
            "cancelled",
            "no_show",
        ]
        response = desk.post(change_url(appointment), form_data(desk, appointment) | {"status": "completed"})
        assert "Select a valid choice." in response.context["adminform"].form.errors["status"][0]
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED

    def test_features_have_names_people_read_and_the_time_its_zone(self, desk, appointment) -> None:
        page = desk.get(change_url(appointment)).content.decode()
        created = appointment.created_at.astimezone(ZoneInfo("Europe/London"))
        assert f"{created:%a} {created.day} {created:%b %Y}, {created:%H:%M} {created.tzname()}" in page
        for label in ("Call recording", "Chat", "Participant list", "Video quality", "Time (Europe/London)"):
            assert f">{label}" in page, label
        assert "features_call_recording_enable</label>" not in page

    def test_the_time_is_shown_and_read_in_the_departments_zone(self, desk, department, appointment) -> None:
        department.time_zone = "America/New_York"
        department.save()
        appointment.refresh_from_db()
        local = appointment.appointment_at.astimezone(ZoneInfo("America/New_York"))
        form = desk.get(change_url(appointment)).context["adminform"].form
        assert form["appointment_at"].value().astimezone(ZoneInfo("America/New_York")) == local
        data = form_data(desk, appointment) | {"appointment_at_1": "09:15:00"}
        assert desk.post(change_url(appointment), data).status_code == 302
        saved = Appointment.objects.get(pk=appointment.pk).appointment_at
        assert saved.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "09:15"
        assert saved.utcoffset() == timedelta(0)  # stored in UTC, as the API shows it

    def test_saving_an_unchanged_form_writes_nothing(self, desk, appointment) -> None:
        versions = Appointment.history.filter(id=appointment.pk).count()
        response = desk.post(change_url(appointment), form_data(desk, appointment))
        assert response.status_code == 302
        assert Appointment.history.filter(id=appointment.pk).count() == versions

    def test_dates_and_times_are_written_as_the_browsers_inputs_read_them(self, desk, department) -> None:
        """`<input type="date">` reads only YYYY-MM-DD: 17/03/1984 (en-GB) was shown blank and saved empty (17.1)."""
        claimant = {"name": "Ada", "date_of_birth": date(1984, 3, 17), "data": {"Case number": "C", "Incident date":
                    "2026-05-01"}}  # fmt: skip
        appointment = make_appointment(department, appointment_at=in_days(3, 14, 45), claimant=claimant)
        page = desk.get(change_url(appointment)).content.decode()
        local = appointment.appointment_at.astimezone(appointment.zone)
        assert 'type="date" name="claimant_date_of_birth" value="1984-03-17"' in page
        assert 'value="2026-05-01"' in page
        assert f'type="date" name="appointment_at_0" value="{local:%Y-%m-%d}"' in page
        assert f'type="time" name="appointment_at_1" value="{local:%H:%M}"' in page
        assert '<label for="id_appointment_at_0">Date</label>' in page  # each input named (17.14)
        assert '<label for="id_appointment_at_1">Time</label>' in page

    def test_the_second_half_past_one_of_the_night_the_clocks_go_back_saves_unchanged(self, desk, department) -> None:
        """01:30 comes twice in London on 31 October 2027: the stored one is kept, not refused as ambiguous."""
        moment = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, the second one
        appointment = make_appointment(department, appointment_at=moment)
        data = form_data(desk, appointment) | {"appointment_at_1": "01:30", "duration_in_minutes": "45"}
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        saved = Appointment.objects.get(pk=appointment.pk)
        assert (saved.appointment_at, saved.duration_in_minutes) == (moment, 45)
        # Moving it to a time that comes twice is refused, as booking refuses it, rather than guessed.
        data["appointment_at_1"] = "01:15"
        response = desk.post(change_url(appointment), data)
        assert response.status_code == 200
        assert "happens twice that day" in str(response.context["adminform"].form.errors["appointment_at"])
        assert Appointment.objects.get(pk=appointment.pk).appointment_at == moment


class TestActions:
    def post_action(self, client: Client, action: str, *appointments: Appointment, **extra: str) -> Any:
        return client.post(
            EVERYTHING, {"action": action, "_selected_action": [str(a.pk) for a in appointments], **extra}, follow=True
        )

    def test_lifecycle_actions_go_through_the_service(self, desk, department) -> None:
        # The claimant is in the waiting room while it is scheduled: each step's rule holds (issue 17.5).
        appointment = claimant_waits_while_scheduled(make_appointment(department))
        with time_machine.travel(appointment.appointment_at, tick=True):  # the join window is open
            for action, status in [
                ("mark_waiting", "waiting"),
                ("start_session", "in_progress"),
                ("end_session", "completed"),
            ]:
                self.post_action(desk, action, appointment)
                appointment.refresh_from_db()
                assert appointment.status == status
        assert appointment.session_started_at is not None
        assert appointment.session_ended_at is not None

    def test_a_message_for_each_row_that_could_not_change(self, desk, department, agent_user) -> None:
        ok = make_appointment(department, reference="OK")
        done = make_appointment(department, reference="DONE")
        appointment_update(appointment=done, data={"status": Status.CANCELLED}, actor=agent_user)
        with time_machine.travel(allowed_moment(ok, Status.NO_SHOW), tick=False):  # past the no-show grace
            response = self.post_action(desk, "mark_no_show", ok, done)
        texts = [str(m) for m in response.context["messages"]]
        assert "1 appointment marked as no-show." in texts
        assert "DONE: The status cannot change from cancelled to no show." in texts
        assert Appointment.objects.get(pk=ok.pk).status == Status.NO_SHOW

    def test_cancel_asks_for_a_reason_then_cancels(self, desk, department) -> None:
        first = make_appointment(department, reference="C1")
        second = make_appointment(department, reference="C2")
        confirm = desk.post(
            EVERYTHING, {"action": "cancel_appointments", "_selected_action": [str(first.pk), str(second.pk)]}
        )
        assert confirm.status_code == 200
        assert "Reason" in confirm.content.decode()
        assert "C1" in confirm.content.decode()
        assert Appointment.objects.filter(status=Status.CANCELLED).count() == 0
        done = self.post_action(desk, "cancel_appointments", first, second, apply="1", cancellation_reason="Storm")
        assert "2 appointments cancelled." in [str(m) for m in done.context["messages"]]
        assert set(Appointment.objects.values_list("status", "cancellation_reason")) == {(Status.CANCELLED, "Storm")}


class TestHistory:
    def test_history_records_api_admin_and_command_changes_with_who(self, desk, agent_user, department) -> None:
        from appointments.services import appointment_mark_no_shows
        from tests.support import persona

        appointment = make_appointment(department)
        api_user = persona("integration", department)
        client = api_user.client()
        case = appointment.claimant.data.get(field__name="Case number")
        client.patch(
            f"/api/v1/appointments/{appointment.pk}",
            {"duration_in_minutes": 50, "claimant": {"data": [{"id": str(case.pk), "value": "API-1"}]}},
            format="json",
        )
        desk.post(change_url(appointment), form_data(desk, appointment) | {"claimant_email": "new@example.com"})
        # The clock moves past the meeting's end; mark_no_shows' service runs as the cron command would.
        assert len(appointment_mark_no_shows(now=timezone.now() + timedelta(days=5))) == 1

        response = desk.get(f"{CHANGELIST}{appointment.pk}/history/")
        assert response.status_code == 200
        entries = response.context["entries"]
        summary = [(e.who, e.what, [(c.field, c.old, c.new) for c in e.changes]) for e in entries]
        assert ("integration", "Appointment", [("Length (minutes)", "60", "50")]) in summary
        assert ("integration", "Claimant data: Case number", [("Value", "Case number value", "API-1")]) in summary
        assert ("desk-agent", "Claimant", [("Email", "ada@example.com", "new@example.com")]) in summary
        assert ("system", "Appointment", [("Status", "Scheduled", "No Show")]) in summary
        assert any(e.what == "Meeting" and e.who == "integration" for e in entries)
        page = response.content.decode()
        assert "API-1" in page
        assert "new@example.com" in page
        change_page = desk.get(change_url(appointment)).content.decode()
        assert f'href="{CHANGELIST}{appointment.pk}/history/"' in change_page
        assert "recent-history" in change_page
        assert "Status: Scheduled → No Show" in change_page


def department_form(department: Department) -> dict[str, Any]:
    """The department's page as a manager posts it back: its fields (position, name, type, required) unchanged."""
    fields = list(department.data_fields.order_by("position", "name"))
    data: dict[str, Any] = {
        "features_bandwidth": department.features_bandwidth,
        "reminder_hours": department.reminder_hours,
        "time_zone": department.time_zone,
        "default_language": department.default_language,
        "data_fields-TOTAL_FORMS": str(len(fields)),
        "data_fields-INITIAL_FORMS": str(len(fields)),
        "data_fields-MIN_NUM_FORMS": "0",
        "data_fields-MAX_NUM_FORMS": "1000",
        **hours_forms(department),
    }
    for name in FEATURE_FLAGS:
        if getattr(department, name):
            data[name] = "on"
    for index, field in enumerate(fields):
        data |= {
            f"data_fields-{index}-id": str(field.pk),
            f"data_fields-{index}-department": str(department.pk),
            f"data_fields-{index}-position": str(field.position),
            f"data_fields-{index}-name": field.name,
            f"data_fields-{index}-type": field.type,
        }
        if field.required:
            data[f"data_fields-{index}-required"] = "on"
    return data


class TestDepartments:
    def test_a_new_field_gives_every_claimant_an_item(self, superuser_client, department, appointment) -> None:
        items = ClaimantData.objects.filter(claimant__appointment=appointment)  # not the fixture's prefetched cache
        before = items.count()
        data = department_form(department) | {
            "name": department.name,
            "data_fields-TOTAL_FORMS": "3",
        }
        data |= {
            "data_fields-2-department": str(department.pk),
            "data_fields-2-position": "5",
            "data_fields-2-name": "Insurer",
            "data_fields-2-type": "string",
        }
        response = superuser_client.post(f"/admin/appointments/department/{department.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
        assert ClaimantDataField.objects.filter(department=department, name="Insurer", type=FieldType.STRING).exists()
        assert items.count() == before + 1
        assert items.get(field__name="Insurer").value is None

    @pytest.mark.parametrize(
        ("value", "saved"), [("48, 2,2", True), ("", True), ("0", False), ("¹", False), ("1h", False)]
    )
    def test_a_manager_sets_the_reminder_hours(self, department, value: str, saved: bool) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        data = department_form(department) | {"name": department.name, "reminder_hours": value}
        response = manager.post(f"/admin/appointments/department/{department.pk}/change/", data)
        assert response.status_code == (302 if saved else 200)
        department.refresh_from_db()
        assert department.reminder_hours == (value if saved else "24,1")
        if not saved:
            assert "is not a whole number of hours" in response.context["adminform"].form.errors["reminder_hours"][0]

    def test_a_field_type_its_values_do_not_fit_is_refused(self, department, appointment) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        case = ClaimantDataField.objects.get(department=department, name="Case number")
        data = department_form(department) | {"data_fields-0-type": "number"}
        response = manager.post(f"/admin/appointments/department/{department.pk}/change/", data)
        assert response.status_code == 200
        errors = response.context["inline_admin_formsets"][0].formset.errors[0]
        assert "'CASE-1'" in errors["type"][0]
        case.refresh_from_db()
        assert case.type == FieldType.STRING

    def test_a_field_type_its_values_fit_converts_them(self, department, appointment) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        incident = ClaimantDataField.objects.get(department=department, name="Incident date")
        item = ClaimantData.objects.get(field=incident)
        item.value = "2024-05-01"
        item.save()
        data = department_form(department) | {"data_fields-1-type": "string", "data_fields-1-required": "on"}
        response = manager.post(f"/admin/appointments/department/{department.pk}/change/", data)
        assert response.status_code == 302
        incident.refresh_from_db()
        assert (incident.type, incident.required) == (FieldType.STRING, True)
        assert ClaimantData.objects.get(pk=item.pk).value == "2024-05-01"

    def test_managers_see_only_their_departments_and_cannot_grant_membership(
        self, department, other_department
    ) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        listing = manager.get("/admin/appointments/department/")
        assert [d.name for d in listing.context["cl"].result_list] == ["Claims"]
        assert manager.get(f"/admin/appointments/department/{other_department.pk}/change/").status_code == 302
        page = manager.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()
        assert 'name="members"' not in page


class TestTokens:
    def test_create_shows_the_secret_once_and_it_works(self, department, appointment) -> None:
        manager_user = staff("manager", department, group="Department managers")
        manager = logged_in(manager_user)
        integration = UserFactory.create(username="integration")
        department.members.add(integration)
        response = manager.post(
            "/admin/accounts/apitoken/add/",
            {"user": str(integration.pk), "name": "CRM", "expires_in_days": "30", "departments": [str(department.pk)]},
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        secret = response.context["secret"]
        assert secret in response.content.decode()
        token = ApiToken.objects.get(user=integration)
        assert secret not in (token.digest, token.token_key)
        assert abs((token.expiry - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert client.get(f"/api/v1/appointments/{appointment.pk}").status_code == 200

        listing = manager.get("/admin/accounts/apitoken/").content.decode()
        assert "integration" in listing
        assert token.token_key in listing
        assert secret not in listing

        manager.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert client.get(f"/api/v1/appointments/{appointment.pk}").status_code == 401

    def test_a_manager_cannot_mint_a_token_reaching_beyond_their_departments(
        self, department, other_department
    ) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        wide = UserFactory.create(username="wide")
        department.members.add(wide)
        other_department.members.add(wide)
        response = manager.post(
            "/admin/accounts/apitoken/add/", {"user": str(wide.pk), "name": "x", "expires_in_days": "1"}
        )
        assert response.status_code == 200
        assert "user" in response.context["adminform"].form.errors
        assert not ApiToken.objects.filter(user=wide).exists()

    def test_agents_cannot_manage_tokens(self, desk) -> None:
        assert desk.get("/admin/accounts/apitoken/").status_code == 403


class TestHardening:
    def test_repeated_failed_logins_lock_out(self, agent_user) -> None:
        client = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(4):
            response = client.post("/admin/login/", {"username": "desk-agent", "password": "wrong"})
            assert response.status_code == 200
        fifth = client.post("/admin/login/", {"username": "desk-agent", "password": "wrong"})
        assert fifth.status_code == 429  # the fifth failure locks
        locked = client.post("/admin/login/", {"username": "desk-agent", "password": PASSWORD})
        assert locked.status_code == 429
        page = locked.content.decode()
        assert "<title>Too many failed sign-ins | Appointments</title>" in page
        assert "Try again in 15 minutes" in page  # AXES_COOLOFF_TIME, said
        assert "_auth_user_id" not in client.session
        elsewhere = Client(REMOTE_ADDR="198.51.100.7")
        assert elsewhere.post("/admin/login/", {"username": "desk-agent", "password": PASSWORD}).status_code == 302

    def test_admin_pages_carry_security_headers_and_a_strict_csp(self, desk) -> None:
        response = desk.get(EVERYTHING)
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
