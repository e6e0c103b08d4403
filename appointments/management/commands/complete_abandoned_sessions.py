"""Complete sessions in progress past their end that nobody ended, once no participant's page has been open for
SESSION_ABANDONED_MINUTES (issue 17.3); meant for cron, every few minutes. The worker does the same for each
session from the end of its meeting, so this is a safety net."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from appointments.local_time import local_label
from appointments.overrun import appointments_complete_abandoned


class Command(BaseCommand):
    help = (
        "Turn in_progress appointments whose meeting has ended, and whose participants' pages have all been closed "
        "for SESSION_ABANDONED_MINUTES, into completed (session_ended_at: when the last page was last open). Safe to "
        "run beside the API: each changes under its row lock, one ended or extended meanwhile is left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        completed = appointments_complete_abandoned()
        for appointment in completed:
            assert appointment.session_ended_at is not None  # completed: a database constraint holds it
            self.stdout.write(
                f"{appointment.pk} {appointment.reference}: in_progress -> completed "
                f"(last page open {local_label(appointment.session_ended_at, appointment.zone)})"
            )
        minutes = settings.SESSION_ABANDONED_MINUTES
        self.stdout.write(f"Completed {len(completed)} session(s) nobody ended, idle for {minutes} minutes or more.")
