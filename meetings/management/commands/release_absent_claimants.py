"""Let go of waiting-room participants whose page stopped polling; meant for cron, every minute."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from meetings.services.journey import participants_release_absent


class Command(BaseCommand):
    help = (
        "Everyone in a waiting room whose page has not polled for WAITING_ABSENCE_SECONDS has left: a claimant's "
        "appointment goes back from waiting to scheduled. Safe to run often, beside the back office's waiting "
        "room, which does the same on every refresh. Prints one line per participant it let go."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        released = participants_release_absent()
        for participant in released:
            self.stdout.write(f"{participant.appointment_id} {participant.role}: left the waiting room")
        seconds = settings.WAITING_ABSENCE_SECONDS
        self.stdout.write(f"Released {len(released)} participant(s) absent for more than {seconds} s.")
