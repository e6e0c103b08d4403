"""Mark appointments whose meeting ended without a session as no-shows; meant for cron, every minute."""

from typing import Any

from django.core.management.base import BaseCommand

from appointments.services import appointment_mark_no_shows


class Command(BaseCommand):
    help = (
        "Turn scheduled or waiting appointments whose meeting has ended without a session into no_show. "
        "Safe to run every minute beside the API: each appointment changes under its row lock, and one that "
        "started or moved meanwhile is left alone. Prints one line per appointment it changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = appointment_mark_no_shows()
        for appointment, previous in changed:
            self.stdout.write(
                f"{appointment.pk} {appointment.reference}: {previous} -> {appointment.status} "
                f"(meeting ended {appointment.meeting.end_date:%Y-%m-%dT%H:%M:%SZ})"
            )
        self.stdout.write(f"Marked {len(changed)} appointment(s) as no-show.")
