"""Transactions that any error ends whole, and the blocks inside them that need no savepoint.

A service opens its own block: the whole transaction when called alone, a savepoint when its caller has one
open, so that a refused change leaves the caller's transaction usable (the back office shows the errors on its
form and goes on). The API's request is different: any error ends it and rolls everything back, nothing runs in
it after an error, so a savepoint inside it would cost two statements and guard nothing. `all_or_nothing()`
marks such a transaction; `block()` is a service's block, a savepoint only when the caller may go on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

_whole: ContextVar[bool] = ContextVar("all_or_nothing", default=False)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """A transaction that an error inside rolls back whole, before anything else runs in it."""
    with transaction.atomic():
        token = _whole.set(True)
        try:
            yield
        finally:
            _whole.reset(token)


def block(*, guarded: bool = False) -> transaction.Atomic:
    """A service's transaction: its own, a savepoint in its caller's, or part of an `all_or_nothing` one.
    `guarded`: a savepoint in an `all_or_nothing` one too, for a block whose refused statement the service answers
    after rolling it back, with what it reads then (a create's agent clash, with the agent's next free times)."""
    return transaction.atomic(savepoint=guarded or not _whole.get())


@contextmanager
def read_only() -> Iterator[None]:
    """A transaction that writes nothing and is rolled back at its end, never committed: a dry run's. On PostgreSQL
    the database itself refuses any write in it (`SET TRANSACTION READ ONLY`, which the rollback undoes also when
    it is a savepoint in a caller's transaction); elsewhere the tests that capture its statements prove it."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        try:
            yield
        finally:
            transaction.set_rollback(True)
