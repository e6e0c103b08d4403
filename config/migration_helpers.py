"""Operations that hand-written migrations share.

Migrations import this module by name, so what it builds must keep its behaviour for the migrations already
written with it: add a new function rather than change one.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def trigram_indexes(indexes: dict[str, tuple[str, str]]) -> migrations.RunPython:
    """GIN trigram indexes `{name: (table, column)}` for `icontains` searches, on PostgreSQL only (SQLite scans,
    which is fine at its scale).

    The indexed expression is the one Django's `icontains` compiles to on PostgreSQL,
    `UPPER("col"::text) LIKE UPPER(...)`, so the planner can use the index for `AppointmentQuerySet.search`.
    A plain CREATE INDEX: an existing large deployment would build them CONCURRENTLY by hand.
    """

    def create(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in indexes.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)
