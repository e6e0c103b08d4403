"""Every writable field proves it is written (issue 19.1).

The columns a client may write are declared once (`appointments.models.WRITABLE_FIELDS`, the claimant's
`claimants.models.CLAIMANT_WRITABLE_FIELDS`); the write serializer, the service's whitelist and the change form
derive from it. The tests below are generated from the write serializer's fields and the change form's fields: for
each one they send a new valid value ALONE and read the answer, the row and the latest history row back, so a field
a door accepts but does not store fails here by name. A field that needs something first (a state, a companion
key, another department or staff member) says so in ARRANGE, with its reason; no field is left out.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from rest_framework import serializers

from appointments.api.serializers import AppointmentUpdateSerializer
from appointments.forms import AppointmentAdminForm
from appointments.models import WRITABLE_FIELDS, Appointment, Status, api_name
from appointments.services import OPTION_FIELDS, RULED_FIELDS, appointment_update
from appointments.services.planning import (
    AGENT_FIELDS,
    DEPARTMENT_FIELDS,
    INTERPRETER_FIELDS,
    SCHEDULE_FIELDS,
    STATUS_FIELDS,
)
from claimants.api.serializers import ClaimantUpdateSerializer
from claimants.models import CLAIMANT_WRITABLE_FIELDS, Claimant, ClaimantData, FieldType
from config.api.fields import NullableUrlField, TimeField
from meetings.models import Meeting
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, UserFactory, in_days
from tests.helpers import (
    admin_change_url,
    admin_form_data,
    claimant_waits_while_scheduled,
    logged_in,
    snapshot,
    staff,
)
from tests.helpers import patch_url as url

# The write serializer's keys that are not Appointment columns, with why: the claimant is a row of its own, covered
# by the claimant's loop below.
NOT_COLUMNS = {"claimant"}
COLUMN_KEYS = [key for key in AppointmentUpdateSerializer().fields if key not in NOT_COLUMNS]
FUTURE = in_days(10, hour=8)


# --- the declaration is the one place ------------------------------------------------------------------------------


# Columns Django would let a form edit that clients never write, and why; any other editable column must be declared
# writable (WRITABLE_FIELDS), or be made `editable=False` where only the service sets it.
NOT_WRITTEN_BY_CLIENTS = {
    "reference": "given once, at creation (AppointmentCreateSerializer), never changed",
    "cancelled_at": "stamped by the service on entering `cancelled`",
    "session_started_at": "stamped by the service on entering `in_progress`",
    "session_ended_at": "stamped by the service on entering `completed`",
}


def test_every_editable_column_is_declared_writable_or_said_why_not() -> None:
    """A column added to Appointment fails here until it is in WRITABLE_FIELDS (or NOT_WRITTEN_BY_CLIENTS)."""
    editable = {field.name for field in Appointment._meta.concrete_fields if field.editable}
    assert sorted(editable - set(WRITABLE_FIELDS) - NOT_WRITTEN_BY_CLIENTS.keys()) == [], (
        "declare it in WRITABLE_FIELDS"
    )
    assert sorted(NOT_WRITTEN_BY_CLIENTS.keys() - editable) == []


def test_the_write_serializer_writes_exactly_the_declared_columns() -> None:
    assert [api_name(name) for name in WRITABLE_FIELDS] == COLUMN_KEYS


def test_the_service_sets_every_declared_column_without_a_rule_of_its_own() -> None:
    assert set(WRITABLE_FIELDS) >= RULED_FIELDS
    assert set(OPTION_FIELDS) == {api_name(name) for name in WRITABLE_FIELDS} - {api_name(n) for n in RULED_FIELDS}


def test_the_ruled_columns_are_the_ones_the_steps_name_each_a_declared_column() -> None:
    steps = (STATUS_FIELDS, SCHEDULE_FIELDS, INTERPRETER_FIELDS, DEPARTMENT_FIELDS, AGENT_FIELDS)
    named = [name for step in steps for name in step]
    assert len(named) == len(set(named))  # each column is planned by one step
    assert frozenset(named) == RULED_FIELDS
    assert set(named) <= set(WRITABLE_FIELDS)  # by name: a column renamed in the declaration fails here


def test_the_change_form_offers_every_declared_column(client_for_desk) -> None:
    client, appointment = client_for_desk
    form = client.get(admin_change_url(appointment)).context["adminform"].form
    assert set(WRITABLE_FIELDS) <= set(form.fields)
    assert list(AppointmentAdminForm.Meta.fields) == list(WRITABLE_FIELDS)


def test_the_claimants_writable_fields_are_declared_once() -> None:
    assert [key for key in ClaimantUpdateSerializer().fields if key != "data"] == list(CLAIMANT_WRITABLE_FIELDS)
    for name in CLAIMANT_WRITABLE_FIELDS:
        assert Claimant._meta.get_field(name).concrete


# --- a new valid value for each field --------------------------------------------------------------------------------


def _another_department(appointment: Appointment, member: Any) -> Any:
    """A second department of the caller, collecting what the appointment's claimant has (its required item)."""
    target = DepartmentFactory.create(name="Second")
    target.members.add(member)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING, required=True)
    return target


def _change(appointment: Appointment, **data: Any) -> None:
    appointment_update(appointment=Appointment.objects.with_related().get(pk=appointment.pk), data=data, actor=None)


# Fields that need something first, and why. Each returns (value to send as the API's key, the column's stored value,
# companion keys sent with it). Every other field gets a new value from its type (new_value).
Arranged = tuple[Any, Any, dict[str, Any]]


def _status(appointment: Appointment, member: Any) -> Arranged:
    claimant_waits_while_scheduled(appointment)  # `waiting` needs the claimant in the waiting room (issue 17.5)
    return Status.WAITING.value, Status.WAITING.value, {}


def _reason(appointment: Appointment, member: Any) -> Arranged:
    # A reason is given only with the cancellation (the service refuses it alone on a live appointment).
    return "They moved away", "They moved away", {"status": Status.CANCELLED.value}


def _language(appointment: Appointment, member: Any) -> Arranged:
    _change(appointment, is_interpreter_needed=True, interpreter_language="Welsh")  # a language needs an interpreter
    return "Polish", "Polish", {}


def _interpreter(appointment: Appointment, member: Any) -> Arranged:
    _change(appointment, is_interpreter_needed=True, interpreter_language="Welsh")  # needing one needs a language
    return False, False, {}


def _department(appointment: Appointment, member: Any) -> Arranged:
    target = _another_department(appointment, member)
    return str(target.pk), target.pk, {}


def _agent(appointment: Appointment, member: Any) -> Arranged:
    runner = UserFactory.create(username="runner", is_staff=True)  # a staff member of the appointment's department
    appointment.department.members.add(runner)
    return runner.pk, runner.pk, {}


def _use_custom(appointment: Appointment, member: Any) -> Arranged:
    _change(appointment, custom_user_post_call_redirect_url="https://example.com/u")  # the redirect needs a URL
    return True, True, {}


ARRANGE: dict[str, Callable[[Appointment, Any], Arranged]] = {
    "status": _status,
    "cancellation_reason": _reason,
    "is_interpreter_needed": _interpreter,
    "interpreter_language": _language,
    "department_id": _department,
    "agent_id": _agent,
    "use_custom_post_call_redirect": _use_custom,
}


def new_value(field: serializers.Field, current: Any, key: str) -> tuple[Any, Any]:
    """A valid value different from `current` for a field of this type: (sent, stored)."""
    if isinstance(field, serializers.BooleanField):
        return (not current, not current)
    if isinstance(field, serializers.ChoiceField):
        choice = next(choice for choice in field.choices if choice != current)
        return choice, choice
    if isinstance(field, TimeField):
        return FUTURE.strftime("%Y-%m-%dT%H:%M:%S.000Z"), FUTURE
    if isinstance(field, NullableUrlField):
        return f"https://example.com/{key}", f"https://example.com/{key}"
    if isinstance(field, serializers.IntegerField):
        changed = current + 1 if field.max_value is None or current < field.max_value else current - 1
        return changed, changed
    if isinstance(field, serializers.EmailField):
        return f"{key}@example.com", f"{key}@example.com"
    # Text exactly: a subclass (a slug, a regex, a phone number) validates what "Changed" may not satisfy, so it is
    # an unknown type below, with a message saying so, instead of a bare 422 from the generated test.
    if type(field) is serializers.CharField:
        return "Changed", "Changed"
    pytest.fail(f"No new value for {key} ({type(field).__name__}): teach new_value this type, or ARRANGE the field.")


def planned(appointment: Appointment, member: Any, key: str, field: serializers.Field) -> Arranged:
    if key in ARRANGE:
        return ARRANGE[key](appointment, member)
    sent, stored = new_value(field, getattr(appointment, key), key)
    return sent, stored, {}


def shown(data: dict[str, Any], key: str) -> Any:
    """Where the representation shows a written key (the agent is listed with the participants, not here)."""
    if key == "department_id":
        return data["department"]["id"]
    return data.get(key, "not in the representation") if key == "agent_id" else data[key]


# --- the API ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", COLUMN_KEYS)
def test_patch_writes_each_field_alone(api, agent, appointment, key: str) -> None:
    field = AppointmentUpdateSerializer().fields[key]
    sent, stored, companions = planned(appointment, agent.user, key, field)
    appointment.refresh_from_db()
    response = api.patch(url(appointment), {key: sent, **companions}, format="json")
    assert response.status_code == 200, response.json()
    if key != "agent_id":
        assert shown(response.json()["data"], key) == sent
    appointment.refresh_from_db()
    assert getattr(appointment, key) == stored
    latest = appointment.history.order_by("-history_id").first()  # the last written (arranging may move the clock)
    assert latest is not None
    assert getattr(latest, key) == stored
    assert latest.history_user_id == agent.user.pk


CLAIMANT_VALUES = {  # (sent, stored) for each declared claimant column: a new valid value
    "name": ("Ada King", "Ada King"),
    "phone_number": ("07911 123457", "+447911123457"),
    "email": ("ada.king@example.com", "ada.king@example.com"),
    "date_of_birth": ("1985-12-10", date(1985, 12, 10)),
    "preferred_language": ("cy", "cy"),
}


def test_every_claimant_field_has_a_new_value() -> None:
    assert set(CLAIMANT_VALUES) == set(CLAIMANT_WRITABLE_FIELDS)


@pytest.mark.parametrize("name", CLAIMANT_WRITABLE_FIELDS)
def test_patch_writes_each_claimant_field_alone(api, agent, appointment, name: str) -> None:
    sent, stored = CLAIMANT_VALUES[name]
    response = api.patch(url(appointment), {"claimant": {name: sent}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["claimant"][name] == (stored.isoformat() if isinstance(stored, date) else stored)
    claimant = Claimant.objects.get(appointment=appointment)
    assert getattr(claimant, name) == stored
    latest = claimant.history.order_by("-history_id").first()
    assert latest is not None
    assert getattr(latest, name) == stored
    assert latest.history_user_id == agent.user.pk


DATA_VALUES = {FieldType.STRING: "CASE-2", FieldType.DATE: "2024-06-01"}


@pytest.mark.parametrize("item_name", ["Case number", "Incident date"])
def test_patch_writes_each_data_item_alone(api, agent, appointment, item_name: str) -> None:
    item = ClaimantData.objects.select_related("field").get(claimant__appointment=appointment, field__name=item_name)
    value = DATA_VALUES[FieldType(item.field.type)]
    response = api.patch(
        url(appointment), {"claimant": {"data": [{"id": str(item.pk), "value": value}]}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert {i["name"]: i["value"] for i in response.json()["data"]["claimant"]["data"]}[item_name] == value
    item.refresh_from_db()
    assert item.value == value
    latest = item.history.order_by("-history_id").first()
    assert latest is not None
    assert latest.value == value
    assert latest.history_user_id == agent.user.pk


# --- the back office's change form ---------------------------------------------------------------------------------


@pytest.fixture
def client_for_desk(department, appointment) -> tuple[Client, Appointment]:
    return logged_in(staff("desk-agent", department)), appointment


def form_value(key: str, sent: Any, stored: Any) -> dict[str, Any]:
    """The change form's keys for a value (the form names a foreign key by the column, and splits the time)."""
    name = key.removesuffix("_id") if key in ("department_id", "agent_id") else key
    if name == "appointment_at":
        return {"appointment_at_0": FUTURE.strftime("%Y-%m-%d"), "appointment_at_1": FUTURE.strftime("%H:%M:%S")}
    if isinstance(sent, bool):
        return {name: "on"} if sent else {}
    return {name: str(sent)}


@pytest.mark.parametrize("name", WRITABLE_FIELDS)
def test_the_change_form_writes_each_field_alone(client_for_desk, name: str) -> None:
    client, appointment = client_for_desk
    member = client.get("/admin/").wsgi_request.user
    key = api_name(name)
    field = AppointmentUpdateSerializer().fields[key]
    sent, stored, companions = planned(appointment, member, key, field)
    appointment = Appointment.objects.with_related().get(pk=appointment.pk)
    if name == "appointment_at":  # the form reads its time in the department's zone
        stored = FUTURE.astimezone(appointment.zone).replace(tzinfo=None)
        local = FUTURE.astimezone(appointment.zone)
        changed = {"appointment_at_0": local.strftime("%Y-%m-%d"), "appointment_at_1": local.strftime("%H:%M:%S")}
    else:
        changed = form_value(key, sent, stored)
    data = admin_form_data(client, appointment)
    if isinstance(sent, bool) and not sent:
        data.pop(name, None)
    data |= changed | {k: str(v) for k, v in companions.items()}
    response = client.post(admin_change_url(appointment), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    appointment.refresh_from_db()
    value = getattr(appointment, key)
    if name == "appointment_at":
        value = value.astimezone(appointment.zone).replace(tzinfo=None)
    assert value == stored
    latest = appointment.history.order_by("-history_id").first()  # the last written (arranging may move the clock)
    assert latest is not None
    assert getattr(latest, key) == getattr(appointment, key)
    assert latest.history_user_id == member.pk


@pytest.mark.parametrize("name", CLAIMANT_WRITABLE_FIELDS)
def test_the_change_form_writes_each_claimant_field_alone(client_for_desk, name: str) -> None:
    client, appointment = client_for_desk
    member = client.get("/admin/").wsgi_request.user
    sent, stored = CLAIMANT_VALUES[name]
    data = admin_form_data(client, appointment) | {f"claimant_{name}": sent}
    response = client.post(admin_change_url(appointment), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    claimant = Claimant.objects.get(appointment=appointment)
    assert getattr(claimant, name) == stored
    latest = claimant.history.order_by("-history_id").first()
    assert latest is not None
    assert getattr(latest, name) == stored
    assert latest.history_user_id == member.pk


@pytest.mark.parametrize("item_name", ["Case number", "Incident date"])
def test_the_change_form_writes_each_data_item_alone(client_for_desk, item_name: str) -> None:
    client, appointment = client_for_desk
    member = client.get("/admin/").wsgi_request.user
    item = ClaimantData.objects.select_related("field").get(claimant__appointment=appointment, field__name=item_name)
    value = DATA_VALUES[FieldType(item.field.type)]
    data = admin_form_data(client, appointment) | {f"data_{item.pk}": value}
    response = client.post(admin_change_url(appointment), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.value == value
    latest = item.history.order_by("-history_id").first()
    assert latest is not None
    assert latest.value == value
    assert latest.history_user_id == member.pk


def test_saving_the_change_form_unchanged_changes_nothing(client_for_desk) -> None:
    """The other half of the loop above: posted back as shown, no row differs and no history row is written (the
    appointment, its claimant and data items, its meeting)."""
    client, appointment = client_for_desk
    before = snapshot(appointment)
    histories = [model.history.count() for model in (Appointment, Claimant, ClaimantData, Meeting)]
    response = client.post(admin_change_url(appointment), admin_form_data(client, appointment))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert snapshot(appointment) == before
    assert [model.history.count() for model in (Appointment, Claimant, ClaimantData, Meeting)] == histories
