"""Check the appointments' counts per department and status against their rows, and start them again from the rows
with `--rebuild` (appointments.services.tally). Exits 1 when they differ and nothing was rebuilt."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appointments.selectors.tally import tallied
from appointments.services.tally import tally_drift, tally_rebuild


class Command(BaseCommand):
    help = (
        "Compare the list's counts kept per department and status (PostgreSQL's triggers) with a count of the "
        "appointments; --rebuild starts them again from the rows (writes to the appointments wait meanwhile)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="start the counts again from the rows")

    def handle(self, *args: Any, **options: Any) -> None:
        if not tallied():
            self.stdout.write("No counts are kept on SQLite: the list counts its rows.")
            return
        if options["rebuild"]:
            rows = tally_rebuild()
            self.stdout.write(f"Rebuilt the counts from the appointments: {rows} department and status pair(s).")
        drift = tally_drift()
        for (department, status), (kept, counted) in sorted(drift.items(), key=str):
            self.stdout.write(f"Department {department}, {status}: counted {counted}, kept {kept}")
        if drift:
            raise CommandError(f"{len(drift)} count(s) differ from the rows: run with --rebuild")
        self.stdout.write("The counts kept equal the appointments' rows.")
