"""Create demo data to try the API with; running it again changes nothing that is already there."""

from datetime import time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from appointments.availability import WorkingHours
from appointments.models import Appointment, Department, Status
from appointments.services import appointment_create
from claimants.models import ClaimantDataField, FieldType

DEMO_DEPARTMENT = "Demo Department"
DEMO_AGENT = "demo-agent"
# Ofcom's numbers and the example.org domain are reserved for drama and documentation: nobody is reached by mistake.
DEMO_CONTACT = {
    "name_cy": "Adran Enghreifftiol",  # its name in Welsh
    "contact_phone": "+442079460000",
    "contact_email": "claims-help@example.org",
    "contact_hours": "Monday to Friday, 9:00 to 17:00 (UK time)",
    "contact_help": "If you cannot join, call us: have your case number ready.",
    "contact_hours_cy": "Dydd Llun i ddydd Gwener, 9:00 i 17:00 (amser y DU)",
    "contact_help_cy": "Os na allwch ymuno, ffoniwch ni: cofiwch gael rhif eich achos wrth law.",
}
# Monday to Friday, 9:00 to 17:00 in the department's zone.
DEMO_HOURS = [(day, time(9), time(17)) for day in range(5)]
DEMO_CLAIMANTS = [
    ("Ada Lovelace", "+447911123456", "ada@example.com", "CASE-1001"),
    ("Alan Turing", "+447911123457", "alan@example.com", "CASE-1002"),
    ("Grace Hopper", "+442071234567", "grace@example.com", "CASE-1003"),
]


class Command(BaseCommand):
    help = (
        "Create the demo department (with a required 'Case number' and an optional 'Incident date' field), "
        "the demo agent and at least three future scheduled appointments. Idempotent. The last line of output "
        "is the id of the next demo appointment."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            department, created = Department.objects.get_or_create(name=DEMO_DEPARTMENT)
            self.stdout.write(f"{'Created' if created else 'Found'} department {department.name} ({department.pk}).")
            # Its Welsh name, and how its claimants reach it (issue 17.8); what someone has set since is kept.
            unset = {name: value for name, value in DEMO_CONTACT.items() if not getattr(department, name)}
            if unset:
                Department.objects.filter(pk=department.pk).update(**unset)
            ClaimantDataField.objects.get_or_create(
                department=department,
                name="Case number",
                defaults={"type": FieldType.STRING, "required": True, "position": 0},
            )
            ClaimantDataField.objects.get_or_create(
                department=department,
                name="Incident date",
                defaults={"type": FieldType.DATE, "required": False, "position": 1},
            )
            User = get_user_model()
            agent, created = User.objects.get_or_create(username=DEMO_AGENT, defaults={"is_staff": True})
            if created:
                agent.set_unusable_password()
                agent.save(update_fields=["password"])
            department.members.add(agent)
            agent.groups.add(Group.objects.get(name="Agents"))
            # Working hours (issue 23.1), so a new user sees free times at once; hours someone has set are kept.
            if not WorkingHours.objects.filter(department=department, agent=agent).exists():
                WorkingHours.objects.bulk_create(
                    WorkingHours(department=department, agent=agent, weekday=day, starts_at=start, ends_at=end)
                    for day, start, end in DEMO_HOURS
                )

            upcoming = Appointment.objects.filter(
                department=department, status=Status.SCHEDULED, appointment_at__gt=timezone.now()
            )
            missing = max(0, len(DEMO_CLAIMANTS) - upcoming.count())
            tomorrow = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
            for index, (name, phone, email, case_number) in enumerate(DEMO_CLAIMANTS[:missing]):
                appointment_create(
                    department=department,
                    appointment_at=tomorrow + timedelta(hours=index),
                    duration_in_minutes=45,
                    actor=agent,
                    claimant={
                        "name": name,
                        "phone_number": phone,
                        "email": email,
                        "data": {"Case number": case_number},
                    },
                )
            self.stdout.write(f"Created {missing} appointment(s); {upcoming.count()} upcoming in {department.name}.")
        first = upcoming.order_by("appointment_at").first()
        assert first is not None
        if not agent.has_usable_password():
            self.stdout.write(f"To sign in to /admin as {DEMO_AGENT}: manage.py changepassword {DEMO_AGENT}")
        self.stdout.write(str(first.pk))
