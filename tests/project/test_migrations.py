"""Every model change has its migration: a column added to a model without one fails here by name, not as a missing
column in whichever test reads it first."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:  # --check exits 1 when a migration is missing
        missing = out.getvalue()
        raise AssertionError(f"a model changed without its migration (makemigrations -n ...):\n{missing}") from None
