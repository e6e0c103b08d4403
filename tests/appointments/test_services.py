"""appointment_update: every transition pair, the stamps, the scheduling, interpreter, redirect and department
rules, and every null/absent/empty case of the claimant and its data."""

import uuid
from datetime import date, timedelta
from itertools import product

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_create, appointment_update
from claimants.models import ClaimantData, FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, UserFactory, in_days, make_appointment
from tests.helpers import allowed_moment, claimant_waits_while_scheduled, walk_to

ALLOWED = {
    (Status.SCHEDULED, Status.WAITING),
    (Status.SCHEDULED, Status.IN_PROGRESS),
    (Status.SCHEDULED, Status.CANCELLED),
    (Status.SCHEDULED, Status.NO_SHOW),
    (Status.WAITING, Status.SCHEDULED),
    (Status.WAITING, Status.IN_PROGRESS),
    (Status.WAITING, Status.CANCELLED),
    (Status.WAITING, Status.NO_SHOW),
    (Status.IN_PROGRESS, Status.COMPLETED),
}


@pytest.fixture
def actor(department):
    user = UserFactory.create(username="service-actor")
    department.members.add(user)
    return user


def update(appointment: Appointment, actor, **data) -> Appointment:
    appointment_update(appointment=appointment, data=data, actor=actor)
    return Appointment.objects.with_related().get(pk=appointment.pk)


def errors_of(appointment: Appointment, actor, **data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        appointment_update(appointment=appointment, data=data, actor=actor)
    return caught.value.message_dict


def in_status(department, actor, status: str) -> Appointment:
    """An appointment walked to `status`, each step at a moment the status rules allow (tests.helpers.walk_to)."""
    return walk_to(make_appointment(department), status, actor)


@pytest.mark.parametrize(("current", "target"), list(product(Status.values, Status.values)))
def test_every_transition_pair(department, actor, current: str, target: str) -> None:
    appointment = in_status(department, actor, current)
    if target == Status.WAITING and current == Status.SCHEDULED:
        # `waiting` needs the claimant in the waiting room (issue 17.5).
        appointment = claimant_waits_while_scheduled(appointment, actor)
    before = {f.name: getattr(appointment, f.name) for f in Appointment._meta.concrete_fields}
    # The change is made at a moment its time rule allows, so this is about the lifecycle alone.
    with time_machine.travel(allowed_moment(appointment, target), tick=False):
        if current == target:
            after = update(appointment, actor, status=target)
            assert after.status == current
            assert after.updated_at == before["updated_at"]  # a no-op writes nothing
        elif (current, target) == (Status.WAITING, Status.NO_SHOW):
            # The lifecycle has it, but a waiting claimant came to the waiting room: not a no-show (issue 17.2).
            assert "so this is not a no-show" in errors_of(appointment, actor, status=target)["status"][0]
            appointment.refresh_from_db()
            assert {f.name: getattr(appointment, f.name) for f in Appointment._meta.concrete_fields} == before
        elif (current, target) in ALLOWED:
            after = update(appointment, actor, status=target)
            assert after.status == target
        else:
            assert list(errors_of(appointment, actor, status=target)) == ["status"]
            appointment.refresh_from_db()
            assert {f.name: getattr(appointment, f.name) for f in Appointment._meta.concrete_fields} == before


def test_status_stamps_are_set_by_the_service(department, actor) -> None:
    appointment = make_appointment(department)
    with time_machine.travel(appointment.appointment_at, tick=True):  # inside the join window
        started = update(appointment, actor, status=Status.IN_PROGRESS)
        assert started.session_started_at is not None
        assert started.session_ended_at is None
        ended = update(started, actor, status=Status.COMPLETED)
    assert ended.session_ended_at is not None
    assert ended.session_started_at == started.session_started_at
    assert ended.session_ended_at >= ended.session_started_at


def test_cancelling_stamps_time_and_keeps_reason(department, actor) -> None:
    appointment = make_appointment(department)
    cancelled = update(appointment, actor, status=Status.CANCELLED, cancellation_reason="  Claimant withdrew ")
    assert cancelled.cancelled_at is not None
    assert cancelled.cancellation_reason == "Claimant withdrew"


def test_cancellation_reason_without_cancelling_is_refused(department, actor) -> None:
    appointment = make_appointment(department)
    assert list(errors_of(appointment, actor, cancellation_reason="why")) == ["cancellation_reason"]
    assert update(appointment, actor, cancellation_reason=None).cancellation_reason is None


@pytest.mark.parametrize("final", [Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW])
def test_final_appointments_change_no_more(department, actor, final: str) -> None:
    appointment = in_status(department, actor, final)
    errors = errors_of(appointment, actor, features_bandwidth="low", claimant={"name": "Someone Else"})
    assert set(errors) == {"features_bandwidth", "claimant.name"}
    assert "can no longer be changed" in errors["features_bandwidth"][0]

    # Sending back what was read changes nothing and is accepted.
    same = update(appointment, actor, features_bandwidth=appointment.features_bandwidth, status=final)
    assert same.status == final


def test_a_final_appointment_names_department_id_not_the_column_behind_it(department, actor) -> None:
    elsewhere = DepartmentFactory.create(name="Elsewhere")
    elsewhere.members.add(actor)
    ClaimantDataFieldFactory.create(department=elsewhere, name="Case number", type=FieldType.STRING)
    ClaimantDataFieldFactory.create(department=elsewhere, name="Incident date", type=FieldType.DATE)
    appointment = in_status(department, actor, Status.CANCELLED)
    errors = errors_of(appointment, actor, department_id=elsewhere.pk)
    assert list(errors) == ["department_id"]
    assert errors["department_id"] == ["The appointment is cancelled and can no longer be changed."]


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.WAITING])
def test_reschedule_moves_the_meeting(department, actor, status: str) -> None:
    appointment = in_status(department, actor, status)
    new_time = in_days(5, hour=14)
    moved = update(appointment, actor, appointment_at=new_time, duration_in_minutes=90)
    assert moved.meeting.start_date == new_time
    assert moved.meeting.end_date == new_time + timedelta(minutes=90)


def test_reschedule_after_the_session_started_is_refused(department, actor) -> None:
    appointment = in_status(department, actor, Status.IN_PROGRESS)
    errors = errors_of(appointment, actor, appointment_at=in_days(5), duration_in_minutes=30)
    assert set(errors) == {"appointment_at", "duration_in_minutes"}


def test_reschedule_into_the_past_is_refused(department, actor) -> None:
    appointment = make_appointment(department)
    assert list(errors_of(appointment, actor, appointment_at=timezone.now() - timedelta(hours=1))) == ["appointment_at"]


def test_interpreter_needs_a_language_and_drops_it_when_not_needed(department, actor) -> None:
    appointment = make_appointment(department)
    assert list(errors_of(appointment, actor, is_interpreter_needed=True)) == ["interpreter_language"]
    assert list(errors_of(appointment, actor, is_interpreter_needed=True, interpreter_language="  ")) == [
        "interpreter_language"
    ]
    with_language = update(appointment, actor, is_interpreter_needed=True, interpreter_language="Polish")
    assert (with_language.is_interpreter_needed, with_language.interpreter_language) == (True, "Polish")
    # Emptying the language while an interpreter is needed is refused.
    assert list(errors_of(with_language, actor, interpreter_language=None)) == ["interpreter_language"]
    without = update(with_language, actor, is_interpreter_needed=False)
    assert (without.is_interpreter_needed, without.interpreter_language) == (False, None)
    # null reads as false, as the original's body allows it.
    again = update(with_language, actor, is_interpreter_needed=True, interpreter_language="Polish")
    assert update(again, actor, is_interpreter_needed=None).is_interpreter_needed is False


def test_custom_redirect_needs_a_url_after_the_update(department, actor) -> None:
    appointment = make_appointment(department)
    assert list(errors_of(appointment, actor, use_custom_post_call_redirect=True)) == ["use_custom_post_call_redirect"]
    stored = update(appointment, actor, custom_agent_post_call_redirect_url="https://example.com/agent")
    assert stored.use_custom_post_call_redirect is False  # URLs may be stored while the flag is off
    on = update(stored, actor, use_custom_post_call_redirect=True)
    assert on.use_custom_post_call_redirect is True
    assert list(errors_of(on, actor, custom_agent_post_call_redirect_url=None)) == ["use_custom_post_call_redirect"]


def test_department_must_be_one_the_actor_may_use(department, actor) -> None:
    appointment = make_appointment(department)
    foreign = DepartmentFactory.create(name="Not mine")
    assert list(errors_of(appointment, actor, department_id=foreign.pk)) == ["department_id"]


def test_moving_department_carries_data_by_name_and_type(department, actor) -> None:
    appointment = make_appointment(department, claimant={"name": "A", "data": {"Case number": "C-9"}})
    target = DepartmentFactory.create(name="Target")
    target.members.add(actor)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING, required=True)
    ClaimantDataFieldFactory.create(department=target, name="Notes", type=FieldType.STRING)
    moved = update(appointment, actor, department_id=target.pk)
    assert moved.department == target
    values = {item.field.name: item.value for item in moved.claimant.data.all()}
    assert values == {"Case number": "C-9", "Notes": None}
    assert all(item.field.department_id == target.pk for item in moved.claimant.data.all())


def test_moving_department_never_drops_a_value(department, actor) -> None:
    appointment = make_appointment(
        department, claimant={"name": "A", "data": {"Case number": "C-9", "Incident date": "2024-01-02"}}
    )
    target = DepartmentFactory.create(name="Target")
    target.members.add(actor)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING, required=True)
    errors = errors_of(appointment, actor, department_id=target.pk)
    assert list(errors) == ["department_id"]
    assert "Incident date" in errors["department_id"][0]
    appointment.refresh_from_db()
    assert appointment.department == department


class TestClaimant:
    def test_absent_claimant_changes_nothing(self, appointment, actor) -> None:
        after = update(appointment, actor, features_bandwidth="low")
        assert after.claimant.name == appointment.claimant.name

    @pytest.mark.parametrize("name", [None, "", "   "])
    def test_name_cannot_be_emptied(self, appointment, actor, name) -> None:
        assert list(errors_of(appointment, actor, claimant={"name": name})) == ["claimant.name"]

    # An empty date never reaches the service: the form parser and serializer turn "" into null first.
    @pytest.mark.parametrize(
        ("field", "empty"),
        [("phone_number", None), ("phone_number", ""), ("email", None), ("email", ""), ("date_of_birth", None)],
    )
    def test_optional_fields_are_emptied_by_null_or_empty(self, appointment, actor, field, empty) -> None:
        update(appointment, actor, claimant={"date_of_birth": date(1990, 1, 1)})
        after = update(appointment, actor, claimant={field: empty})
        assert getattr(after.claimant, field) is None

    def test_phone_number_is_stored_in_e164(self, appointment, actor) -> None:
        assert update(appointment, actor, claimant={"phone_number": "020 7123 4567"}).claimant.phone_number == (
            "+442071234567"
        )
        assert update(appointment, actor, claimant={"phone_number": "+1 (650) 253-0000"}).claimant.phone_number == (
            "+16502530000"
        )

    @pytest.mark.parametrize("phone", ["12", "not a phone", "+44 1234", "+999 123456789"])
    def test_invalid_phone_number_is_refused(self, appointment, actor, phone) -> None:
        assert list(errors_of(appointment, actor, claimant={"phone_number": phone})) == ["claimant.phone_number"]

    def test_date_of_birth_cannot_be_in_the_future(self, appointment, actor) -> None:
        tomorrow = timezone.localdate() + timedelta(days=1)
        assert list(errors_of(appointment, actor, claimant={"date_of_birth": tomorrow})) == ["claimant.date_of_birth"]

    def test_invalid_email_is_refused(self, appointment, actor) -> None:
        assert list(errors_of(appointment, actor, claimant={"email": "not-an-email"})) == ["claimant.email"]


class TestClaimantData:
    def items(self, appointment) -> dict[str, ClaimantData]:
        return {item.field.name: item for item in appointment.claimant.data.all()}

    def test_items_not_mentioned_are_unchanged(self, appointment, actor) -> None:
        date_item = self.items(appointment)["Incident date"]
        after = update(appointment, actor, claimant={"data": [("0", {"id": date_item.id, "value": "2024-02-29"})]})
        assert {k: v.value for k, v in self.items(after).items()} == {
            "Case number": "CASE-1",
            "Incident date": "2024-02-29",
        }

    @pytest.mark.parametrize("empty", [None, "", "  "])
    def test_required_item_cannot_be_emptied(self, appointment, actor, empty) -> None:
        case = self.items(appointment)["Case number"]
        errors = errors_of(appointment, actor, claimant={"data": [("0", {"id": case.id, "value": empty})]})
        assert list(errors) == ["claimant.data.0.value"]
        case.refresh_from_db()
        assert case.value == "CASE-1"

    @pytest.mark.parametrize("empty", [None, ""])
    def test_optional_item_can_be_emptied(self, appointment, actor, empty) -> None:
        item = self.items(appointment)["Incident date"]
        update(appointment, actor, claimant={"data": [("0", {"id": item.id, "value": "2024-01-01"})]})
        update(appointment, actor, claimant={"data": [("0", {"id": item.id, "value": empty})]})
        item.refresh_from_db()
        assert item.value is None

    def test_unknown_and_foreign_ids_are_refused(self, appointment, actor, department) -> None:
        other = make_appointment(department, claimant={"name": "B", "data": {"Case number": "X"}})
        foreign_item = other.claimant.data.get(field__name="Case number")

        errors = errors_of(
            appointment,
            actor,
            claimant={
                "data": [("0", {"id": uuid.uuid4(), "value": "a"}), ("1", {"id": foreign_item.id, "value": "b"})]
            },
        )
        assert set(errors) == {"claimant.data.0.id", "claimant.data.1.id"}
        foreign_item.refresh_from_db()
        assert foreign_item.value == "X"

    def test_duplicate_ids_are_refused(self, appointment, actor) -> None:
        case = self.items(appointment)["Case number"]
        errors = errors_of(
            appointment,
            actor,
            claimant={"data": [("0", {"id": case.id, "value": "a"}), ("1", {"id": case.id, "value": "b"})]},
        )
        assert list(errors) == ["claimant.data.1.id"]

    def test_null_data_changes_nothing(self, appointment, actor) -> None:
        after = update(appointment, actor, claimant={"data": None})
        assert self.items(after)["Case number"].value == "CASE-1"

    def test_values_are_validated_against_their_type(self, department, actor) -> None:
        for name, kind in [("Amount", FieldType.NUMBER), ("Consent", FieldType.BOOLEAN), ("Contact", FieldType.EMAIL)]:
            ClaimantDataFieldFactory.create(department=department, name=name, type=kind)
        appointment = make_appointment(department, claimant={"name": "A", "data": {"Case number": "C"}})
        items = self.items(appointment)
        good = [
            ("Amount", "12.50", "12.5"),
            ("Consent", "1", "true"),
            ("Contact", "a@example.com", "a@example.com"),
            ("Incident date", "2024-12-31", "2024-12-31"),
        ]
        data = [(str(i), {"id": items[name].id, "value": raw}) for i, (name, raw, _) in enumerate(good)]
        after = self.items(update(appointment, actor, claimant={"data": data}))
        assert {name: after[name].value for name, _, _ in good} == {name: stored for name, _, stored in good}
        bad = [("Amount", "12,5"), ("Consent", "yes"), ("Contact", "nope"), ("Incident date", "31/12/2024")]
        data = [(str(i), {"id": items[name].id, "value": raw}) for i, (name, raw) in enumerate(bad)]
        errors = errors_of(appointment, actor, claimant={"data": data})
        assert set(errors) == {f"claimant.data.{i}.value" for i in range(len(bad))}


@pytest.mark.parametrize("name", ["", "  ", None])
def test_create_reports_a_blank_claimant_name_once(department, actor, name) -> None:
    with pytest.raises(ValidationError) as caught:
        appointment_create(
            department=department,
            appointment_at=in_days(3),
            duration_in_minutes=30,
            claimant={"name": name, "data": {"Case number": "C-9"}},
            actor=actor,
        )
    assert caught.value.message_dict == {"claimant.name": ["The claimant.name field is required."]}
    assert not Appointment.objects.exists()
