"""Who made a change, as django-simple-history records it.

An actor is a user (API token, back office) or None (a command). The public pages act as a participant, who is
no user: any object with a `history_label` is recorded as the change's reason instead ("claimant: Ada Lovelace"),
so the history still says who did it.
"""

import functools
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from config.actors import Actor, staff_of
from config.cursors import kept_cursor
from config.writes import insert_rows, update_columns


def history_user(actor: Actor) -> User | None:
    """The user to record, or None for a participant, a command or an anonymous visitor."""
    return staff_of(actor)


def stamp(instance: Any, actor: Actor) -> None:
    """Mark the next save of `instance` with who made it."""
    label = getattr(actor, "history_label", None)
    instance._history_user = history_user(actor)
    if label is not None:
        instance._change_reason = label


def _copied_columns(model: type[Model]) -> list[str]:
    """The columns a model's history table copies from its table (the tracked fields), in the table's order."""
    tracked = {field.attname for field in model.history.model._meta.concrete_fields}  # type: ignore[attr-defined]
    return [field.column for field in model._meta.concrete_fields if field.attname in tracked]


@functools.cache
def _copy_statement(model: type[Model], count: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _copied_columns(model))
    history_table = quote(model.history.model._meta.db_table)  # type: ignore[attr-defined]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    copied = f"{columns}, history_date, history_change_reason, history_type, history_user_id"
    # Names from the models' metadata, values as parameters.
    return f"INSERT INTO {history_table} ({copied}) SELECT {columns}, %s, %s, %s, %s FROM {table} WHERE {pk} IN ({', '.join(['%s'] * count)})"  # noqa: S608, E501


def history_copy(
    model: type[Model], pks: Sequence[Any], actor: Actor, *, reason: bool = True, created: bool = False
) -> None:
    """The history rows of records just written with `QuerySet.update()` or `bulk_create()`, which send no
    signal (so django-simple-history writes none): one per record, copied in one statement from its row as it now
    is, with what simple-history writes beside (when, who, the kind: `+` created or `~` changed, and a
    participant's reason unless `reason` is False, as simple-history's bulk helpers leave it). A service writes
    the rows and their history in two statements, instead of the ORM's save, its signals and a history
    instance per record."""
    if not pks:
        return
    user = history_user(actor)
    params = [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        getattr(actor, "history_label", None) if reason else None,
        "+" if created else "~",
        user.pk if user is not None else None,
        *(model._meta.pk.get_db_prep_value(pk, connection) for pk in pks),
    ]
    kept_cursor().execute(_copy_statement(model, len(pks)), params)


def insert_with_history(
    instances: Sequence[Model], actor: Actor, *, reason: bool = True, unless_taken: Sequence[str] = ()
) -> bool:
    """Insert new rows of one model (config.writes.insert_rows) and their history rows (`+`), as
    simple-history's `bulk_create_with_history` would; `reason` as for `history_copy`. `unless_taken` as for
    insert_rows, for one row: False, and nothing written, when its values there are another row's."""
    if not instances:
        return True
    assert not unless_taken or len(instances) == 1, "one row at a time when a value may be taken"
    if insert_rows(instances, unless_taken=unless_taken) < len(instances):
        return False
    history_copy(type(instances[0]), [instance.pk for instance in instances], actor, reason=reason, created=True)
    return True


def update_with_history(instances: Sequence[Model], names: Sequence[str], actor: Actor, *, reason: bool = True) -> None:
    """Write these fields of rows of one model as the instances hold them, and their history rows (`~`): one
    row with a statement built once (config.writes.update_columns), several with `bulk_update`."""
    if not instances:
        return
    if len(instances) == 1:
        update_columns(instances[0], names)
    else:
        type(instances[0])._default_manager.bulk_update(instances, names)
    history_copy(type(instances[0]), [instance.pk for instance in instances], actor, reason=reason)


def tracked_models() -> list[type[Model]]:
    """Every model whose changes django-simple-history records."""
    from django.apps import apps

    return [model for model in apps.get_models() if hasattr(model, "history") and hasattr(model.history, "model")]


def rows_unlike_their_history(model: type[Model]) -> list[Any]:
    """The primary keys of the rows of `model` that differ from their latest history row in a tracked column (or
    have none): a write that bypassed both simple-history's signals and `history_copy`. Empty when every write
    went through one of them."""
    names = [field.attname for field in model._meta.concrete_fields if field.column in _copied_columns(model)]
    history = model.history.model._default_manager  # type: ignore[attr-defined]
    pk = model._meta.pk.attname
    latest: dict[Any, tuple[Any, ...]] = {}
    # Latest by insertion (history_id), not by history_date: a test that moves the clock back writes a later
    # history row with an earlier date, and a row lock orders two writers' history rows as it orders the writes.
    for row in history.exclude(history_type="-").order_by(pk, "history_id").values_list(*names):
        latest[row[names.index(pk)]] = row
    return [
        row[names.index(pk)]
        for row in model._default_manager.order_by(pk).values_list(*names)
        if latest.get(row[names.index(pk)]) != row
    ]


def history_drift() -> dict[str, list[Any]]:
    """Per tracked model (by name), the rows unlike their latest history row; empty when every write went
    through the one writer. The test suite asserts it after every test that uses the database (issue 19.3)."""
    return {model.__name__: pks for model in tracked_models() if (pks := rows_unlike_their_history(model))}
