"""`manage.py verify_ledger [--appointment ID]`: exit 0 when every chain (or the appointment's) verifies, and 1
naming the first entry that does not."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import Entry
from ledger.services import verify


class Command(BaseCommand):
    help = "Verify the ledger's hash chains: exit 1 naming the first entry that does not verify."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--appointment", help="only this appointment's chain (its id)")

    def handle(self, *args: Any, **options: Any) -> None:
        appointment = options["appointment"]
        if appointment is not None:
            try:
                appointment = uuid.UUID(appointment)
            except ValueError:
                raise CommandError("--appointment takes an appointment's id (a UUID).") from None
        broken = verify(appointment)
        if broken is not None:
            raise CommandError(f"The ledger does not verify: {broken}.", returncode=1)
        scope = Entry.objects.filter(appointment_id=appointment) if appointment else Entry.objects.all()
        self.stdout.write(f"The ledger verifies: {scope.count()} entries.")
