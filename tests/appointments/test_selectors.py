"""appointment_history: the merged, value-by-value history of an appointment and its parts."""

from appointments.selectors import appointment_history
from appointments.services import appointment_update
from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, UserFactory, a_browser, make_appointment


def test_an_item_removed_by_a_department_move_keeps_its_field_name(department) -> None:
    actor = UserFactory.create(username="mover")
    target = DepartmentFactory.create(name="Target")
    for dept in (department, target):
        dept.members.add(actor)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING, required=True)
    appointment = make_appointment(department, claimant={"name": "A", "data": {"Case number": "C-1"}})
    # "Incident date" is empty and the target lacks it: the move deletes that item.
    appointment_update(appointment=appointment, data={"department_id": target.pk}, actor=actor)

    entries = appointment_history(appointment)
    deleted = [e for e in entries if e.kind == "deleted"]
    assert [(e.what, e.who) for e in deleted] == [("Claimant data: Incident date", "mover")]
    moved = [e for e in entries if e.what == "Appointment" and e.kind == "changed"]
    assert [(c.field, c.old, c.new) for c in moved[0].changes] == [("Department", "Claims", "Target")]


def test_a_change_a_claimant_made_from_their_page_names_them(department) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from appointments.selectors import appointment_history
    from meetings.devices import participant_record_device_check
    from meetings.models import Participant, Role
    from meetings.services.journey import participant_join

    appointment = make_appointment(department, appointment_at=timezone.now() + timedelta(minutes=5))
    person = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    participant_record_device_check(participant=person, results={"camera": True, "microphone": True})
    participant_join(participant=person, browser=a_browser())
    status_change = next(e for e in appointment_history(appointment) if any(c.field == "Status" for c in e.changes))
    assert status_change.who == "the claimant (own link)"
