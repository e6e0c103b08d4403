"""Erase the claimants' personal data past their departments' retention periods (issue 21.1), as the daily task
does; --dry-run prints what it would erase and erases nothing."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Erase the personal data of every appointment past its department's retention period and not on legal "
        "hold, printing each (its id, reference, department and when its period ended). --dry-run erases nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print what would be erased; erase nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        found = purge_expired(dry_run=dry_run)
        verb = "would erase" if dry_run else "erased"
        for item in found:
            appointment = item.appointment
            what = "kept: on legal hold" if item.held else verb
            self.stdout.write(
                f"{appointment.pk} {appointment.reference} ({appointment.department.name}), past its period since "
                f"{item.erase_after:%Y-%m-%d %H:%M} UTC: {what}"
            )
        erased = sum(1 for item in found if not item.held)
        self.stdout.write(f"{erased} appointments {verb}, {len(found) - erased} kept on legal hold.")
