"""`history_copy` writes the history rows django-simple-history would have written for the same change."""

import pytest

from appointments.models import Appointment
from claimants.models import Claimant
from config.history import history_copy, stamp
from meetings.models import Participant, Role
from tests.factories import UserFactory, make_appointment

pytestmark = pytest.mark.django_db

SKIPPED = {"history_id", "history_date"}


class Visitor:
    """A participant acting on their own page: no user, their label is the change's reason."""

    history_label = "claimant: Ada Lovelace"


def _latest(model, pk):
    record = model.history.filter(id=pk).order_by("-history_id").values().first()
    return {k: v for k, v in record.items() if k not in SKIPPED}


@pytest.mark.parametrize("actor", ["user", "visitor", None])
def test_a_change_copied_is_the_row_simple_history_writes(department, actor) -> None:
    first, second = make_appointment(department), make_appointment(department)
    who = {"user": UserFactory.create(username="someone"), "visitor": Visitor(), None: None}[actor]
    # The same change, once by save() (simple-history's signal), once by update() and history_copy.
    first.claimant.phone_number = second.claimant.phone_number = "+447911123456"
    stamp(first.claimant, who)
    first.claimant.save(update_fields=["phone_number"])
    Claimant.objects.filter(pk=second.claimant.pk).update(phone_number="+447911123456")
    history_copy(Claimant, [second.claimant.pk], who)
    saved, copied = _latest(Claimant, first.claimant.pk), _latest(Claimant, second.claimant.pk)
    for key in ("id", "appointment_id"):
        saved.pop(key), copied.pop(key)
    assert copied == saved
    assert copied["history_type"] == "~"
    assert copied["history_change_reason"] == (Visitor.history_label if actor == "visitor" else None)


def test_a_creation_copied_is_the_row_simple_history_writes(department) -> None:
    appointment = make_appointment(department)
    by_save = Participant(appointment=appointment, role=Role.GUEST, display_name="Guest")
    by_save.save()
    by_copy = Participant(appointment=appointment, role=Role.GUEST, display_name="Guest")
    Participant.objects.bulk_create([by_copy])
    history_copy(Participant, [by_copy.pk], None, created=True)
    saved, copied = _latest(Participant, by_save.pk), _latest(Participant, by_copy.pk)
    for key in ("id", "token", "created_at"):
        saved.pop(key), copied.pop(key)
    assert copied == saved
    assert copied["history_type"] == "+"
    assert Appointment.history.filter(id=appointment.pk).count() == 1


@pytest.mark.parametrize("values", [1, 2])
def test_a_change_of_data_values_is_in_the_history_with_its_user(department, values) -> None:
    from appointments.services import appointment_update
    from claimants.models import ClaimantData
    from tests.factories import ClaimantDataFieldFactory

    ClaimantDataFieldFactory.create(department=department, name="Notes")
    appointment = make_appointment(department)
    user = UserFactory.create(username="editor")
    items = list(appointment.claimant.data.filter(field__type="string").order_by("field__name"))[:values]
    change = [(str(n), {"id": item.pk, "value": f"new {n}"}) for n, item in enumerate(items)]
    appointment_update(appointment=appointment, data={"claimant": {"data": change}}, actor=user)
    for n, item in enumerate(items):
        latest = _latest(ClaimantData, item.pk)
        assert (latest["value"], latest["history_type"], latest["history_user_id"]) == (f"new {n}", "~", user.pk)
