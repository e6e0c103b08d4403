"""Print the records of processing of claimants' personal data, read from the models' marks (issue 21.6)."""

from typing import Any

from django.core.management.base import BaseCommand

from privacy.report import report


class Command(BaseCommand):
    help = (
        "Print each category of claimants' personal data, where it is stored (every marked column), why, for how "
        "long (each department's retention period) and who receives it (the departments' webhook endpoints)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(report(), ending="")
