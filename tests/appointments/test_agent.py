"""An assigned agent: a staff member of the appointment's department, set over the API (an optional `agent_id`,
additive) or in the back office, whose live appointments never overlap: the service says which appointment
clashes, and on PostgreSQL the database refuses the concurrent case too."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.local_time import local_span
from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.models import Participant, Role
from tests.factories import in_days, make_appointment
from tests.helpers import admin_change_url, admin_form_data, logged_in, patch_url, postgres_only, run_together, staff

LONDON = ZoneInfo("Europe/London")  # the test department's zone


@pytest.fixture
def desk_agent(department):
    user = staff("dana", department)
    user.first_name, user.last_name = "Dana", "Desk"
    user.save()
    return user


def booked(department, hour: int, minutes: int = 60, **options) -> Appointment:
    claimant = {"name": f"Claimant {hour}", "data": {"Case number": f"C-{hour}"}}
    return make_appointment(
        department,
        appointment_at=in_days(2, hour=hour),
        duration_in_minutes=minutes,
        reference=f"AT-{hour}",
        claimant=claimant,
        **options,
    )


class TestOverTheApi:
    def test_assigning_an_agent_keeps_the_representation_and_lists_the_agent(self, api, appointment, desk_agent):
        before = set(api.get(patch_url(appointment)).json()["data"])
        response = api.patch(patch_url(appointment), {"agent_id": desk_agent.pk}, format="json")
        assert response.status_code == 200
        assert set(response.json()["data"]) == before  # additive: no new key in the representation
        assert Appointment.objects.get(pk=appointment.pk).agent_id == desk_agent.pk
        people = api.get(f"/api/v1/appointments/{appointment.pk}/participants").json()["data"]
        agent_row = next(row for row in people if row["role"] == "agent")
        assert (agent_row["agent_id"], agent_row["display_name"]) == (desk_agent.pk, "Dana Desk")
        assert api.patch(patch_url(appointment), {"agent_id": None}, format="json").status_code == 200
        assert Appointment.objects.get(pk=appointment.pk).agent_id is None

    def test_the_agents_participant_history_names_the_agent_and_who_assigned_them(
        self, api, agent, appointment, desk_agent
    ) -> None:
        """The assignment wrote the participant with a bare `.update()`, so its history still said "no user"
        (issue 19.3): the latest history row is the participant as it now is, by whom it changed."""
        participant = Participant.objects.get(appointment=appointment, role=Role.AGENT)
        for assigned in (desk_agent.pk, None):
            assert api.patch(patch_url(appointment), {"agent_id": assigned}, format="json").status_code == 200
            latest = Participant.history.filter(id=participant.pk).latest("history_id")
            assert (latest.user_id, latest.history_type, latest.history_user_id) == (assigned, "~", agent.user.pk)
            assert Participant.objects.get(pk=participant.pk).user_id == assigned

    @pytest.mark.parametrize("value", [999_999, "1", True, 0])
    def test_someone_who_is_not_a_staff_member_of_the_department_is_refused(self, api, appointment, value) -> None:
        response = api.patch(patch_url(appointment), {"agent_id": value}, format="json")
        assert response.status_code == 422
        assert "agent_id" in response.json()["errors"]
        assert Appointment.objects.get(pk=appointment.pk).agent_id is None

    def test_a_member_of_another_department_is_refused(self, api, appointment, other_department) -> None:
        outsider = staff("outsider", other_department)
        response = api.patch(patch_url(appointment), {"agent_id": outsider.pk}, format="json")
        assert response.json()["errors"] == {"agent_id": ["The selected agent id is invalid."]}

    def test_an_overlapping_booking_names_the_clash_and_changes_nothing(self, api, department, desk_agent) -> None:
        first = booked(department, 10, agent_id=desk_agent.pk)
        second = booked(department, 12)
        body = {"agent_id": desk_agent.pk, "appointment_at": in_days(2, hour=10, minute=30).isoformat()}
        response = api.patch(patch_url(second), body, format="json")
        assert response.status_code == 422
        at = first.appointment_at
        assert response.json()["errors"]["agent_id"] == [
            f"The agent already has appointment AT-10, {local_span(at, at + timedelta(hours=1), LONDON)}, which "
            "overlaps this one."
        ]
        unchanged = Appointment.objects.get(pk=second.pk)
        assert (unchanged.agent_id, unchanged.appointment_at) == (None, in_days(2, hour=12))
        # Back to back is not an overlap, and a cancelled appointment holds no time.
        assert api.patch(patch_url(second), {"agent_id": desk_agent.pk}, format="json").status_code == 200
        appointment_update(appointment=first, data={"status": Status.CANCELLED}, actor=None)
        assert api.patch(patch_url(second), body, format="json").status_code == 200

    def test_a_create_can_name_the_agent_and_is_refused_on_a_clash(self, api, department, desk_agent) -> None:
        booked(department, 9, agent_id=desk_agent.pk)
        body = {
            "appointment_at": in_days(2, hour=9, minute=45).isoformat(),
            "duration_in_minutes": 30,
            "agent_id": desk_agent.pk,
            "claimant": {"name": "Phoned In", "data": [{"name": "Case number", "value": "P-1"}]},
        }
        count = Appointment.objects.count()
        response = api.post("/api/v1/appointments", body, format="json")
        assert response.status_code == 422
        assert "AT-9" in response.json()["errors"]["agent_id"][0]
        assert Appointment.objects.count() == count
        body["appointment_at"] = in_days(2, hour=11).isoformat()
        created = api.post("/api/v1/appointments", body, format="json")
        assert created.status_code == 201
        appointment = Appointment.objects.get(pk=created.json()["data"]["id"])
        assert appointment.agent_id == desk_agent.pk
        participant = Participant.objects.get(appointment=appointment, role=Role.AGENT)
        assert participant.user_id == desk_agent.pk
        created_history = Participant.history.get(id=participant.pk)  # one row: written with the agent at once
        assert (created_history.user_id, created_history.history_type) == (desk_agent.pk, "+")

    def test_a_move_to_a_department_the_agent_is_not_in_is_refused(self, department, other_department, desk_agent):
        appointment = booked(department, 10, agent_id=desk_agent.pk)
        mover = staff("mover", department, other_department, superuser=True)
        with pytest.raises(ValidationError) as caught:
            appointment_update(appointment=appointment, data={"department_id": other_department.pk}, actor=mover)
        assert caught.value.message_dict["agent_id"] == ["The agent is not a member of the selected department."]


@postgres_only
class TestTheDatabaseHoldsIt:
    def test_the_exclusion_constraint_refuses_an_overlap_written_around_the_service(self, department, desk_agent):
        first = booked(department, 10, agent_id=desk_agent.pk)
        second = booked(department, 12)
        with pytest.raises(IntegrityError, match="appointment_agent_no_overlap"), transaction.atomic():
            Appointment.objects.filter(pk=second.pk).update(agent=desk_agent, appointment_at=first.appointment_at)

    @pytest.mark.django_db(transaction=True)
    def test_two_concurrent_assignments_one_wins_the_other_gets_the_422(self, department, desk_agent) -> None:
        one = booked(department, 10)
        two = make_appointment(
            department, appointment_at=in_days(2, hour=10, minute=15), duration_in_minutes=30, reference="AT-10b"
        )

        def assign(appointment: Appointment):
            def job():
                try:
                    appointment_update(appointment=appointment, data={"agent_id": desk_agent.pk}, actor=None)
                    return "assigned"
                except ValidationError as exc:
                    return exc.message_dict["agent_id"][0]

            return job

        results = run_together([assign(one), assign(two)])
        assert results.count("assigned") == 1
        [refused] = [result for result in results if result != "assigned"]
        assert refused.startswith("The agent already has")
        assert Appointment.objects.filter(agent=desk_agent).count() == 1


class TestInTheBackOffice:
    def test_a_manager_assigns_and_an_agent_sees_mine(self, department, desk_agent) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        mine = booked(department, 10)
        booked(department, 14)
        data = admin_form_data(manager, mine) | {"agent": str(desk_agent.pk)}
        assert manager.post(admin_change_url(mine), data).status_code == 302
        assert Appointment.objects.get(pk=mine.pk).agent_id == desk_agent.pk
        page = logged_in(desk_agent).get("/admin/appointments/appointment/", {"show": "mine"})
        assert [a.reference for a in page.context["cl"].result_list] == ["AT-10"]
        assert "Dana Desk" in page.content.decode()

    def test_the_clash_message_shows_on_the_form(self, department, desk_agent) -> None:
        manager = logged_in(staff("manager", department, group="Department managers"))
        booked(department, 10, agent_id=desk_agent.pk)
        other = booked(department, 12)
        data = admin_form_data(manager, other) | {"agent": str(desk_agent.pk), "duration_in_minutes": "60"}
        data["appointment_at_1"] = "10:15:00"
        response = manager.post(admin_change_url(other), data)
        assert response.status_code == 200
        assert "The agent already has appointment AT-10" in response.context["adminform"].form.errors["agent"][0]
        assert Appointment.objects.get(pk=other.pk).agent_id is None
