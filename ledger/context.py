"""Where the change being made came from (the ledger's `channel`): set per request by ledger.middleware, per task
by the worker's signals below, and `command` otherwise (a management command, a shell)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from ledger.models import Channel

_channel: ContextVar[str] = ContextVar("ledger_channel", default=Channel.COMMAND)
_task_tokens: ContextVar[Token[str] | None] = ContextVar("ledger_task_token", default=None)


def current_channel() -> str:
    return _channel.get()


@contextmanager
def channel(name: str) -> Iterator[None]:
    """Changes made inside come from `name`."""
    token = _channel.set(name)
    try:
        yield
    finally:
        _channel.reset(token)


def channel_of_path(path: str) -> str:
    """The channel of a request by its address: the API, the back office, or a participant's own page."""
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/admin/"):
        return Channel.BACK_OFFICE
    return Channel.CLAIMANT_PAGE


def _task_started(sender: Any, **kwargs: Any) -> None:
    _task_tokens.set(_channel.set(Channel.WORKER))


def _task_finished(sender: Any, **kwargs: Any) -> None:
    token = _task_tokens.get()
    if token is not None:
        _channel.reset(token)
        _task_tokens.set(None)


def connect_worker_signals() -> None:
    """A task runs as the worker (django-tasks' signals, sent around each task on its thread)."""
    from django_tasks.signals import task_finished, task_started

    task_started.connect(_task_started, dispatch_uid="ledger_task_started")
    task_finished.connect(_task_finished, dispatch_uid="ledger_task_finished")
