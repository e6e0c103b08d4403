"""Give appointments whose meeting ended without a session their outcome (no-show, or missed by the organisation
when the claimant came to the waiting room); meant for cron, every minute. The worker does the same for each
appointment at the end of its meeting, so this is a safety net."""

from typing import Any

from django.core.management.base import BaseCommand

from appointments.local_time import local_label
from appointments.services import appointment_mark_no_shows


class Command(BaseCommand):
    help = (
        "Turn scheduled or waiting appointments whose meeting has ended without a session into no_show, or, when "
        "the claimant came to the waiting room and was never admitted, into cancelled and missed by the "
        "organisation. Safe to run every minute beside the API: each appointment changes under its row lock, and "
        "one that started or moved meanwhile is left alone. Prints one line per appointment it changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = appointment_mark_no_shows()
        missed = 0
        for appointment, previous in changed:
            outcome = f"{appointment.status}"
            if appointment.outcome is not None:
                missed += 1
                outcome += f", {appointment.get_outcome_display().lower()}"
            self.stdout.write(
                f"{appointment.pk} {appointment.reference}: {previous} -> {outcome} "
                f"(meeting ended {local_label(appointment.meeting.end_date, appointment.zone)})"
            )
        if missed:
            self.stdout.write(f"Recorded {missed} appointment(s) as missed by the organisation.")
        self.stdout.write(f"Marked {len(changed) - missed} appointment(s) as no-show.")
