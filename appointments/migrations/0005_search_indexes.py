"""Trigram indexes for searching references (PostgreSQL only; SQLite scans, which is fine at its scale).

The expression is the one Django's `icontains` compiles to on PostgreSQL, `UPPER("col"::text) LIKE UPPER(...)`,
so the planner can use the index for `AppointmentQuerySet.search`.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEXES = {"appointment_reference_trgm": ("appointments_appointment", "reference")}


def create(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("appointments", "0004_appointment_history")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
