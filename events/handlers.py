"""Who acts on an event: the apps that do (webhooks, the claimant's messages, the checks a change schedules)
register a handler from their `AppConfig.ready()`, and the outbox dispatches each event to the handlers
registered for its type. The outbox knows none of them: it sits below its consumers (docs/layout.md, "Layers").

An event type no handler wants is dispatched all the same (marked dispatched, nothing else): as `webhook.test`
always was, since it reaches its endpoint without the outbox's fan-out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from config.registry import Registry
from events.models import Event, EventType


@dataclass(frozen=True)
class Handler:
    """What an app does with the events of `types` (every type when None), inside the event's dispatch
    transaction, under its row lock: what it writes is committed with the event marked dispatched, or not at all."""

    name: str
    handle: Callable[[Event], object]
    types: frozenset[EventType] | None = None

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


# By name, in the order the apps registered (config.registry: registering again replaces a handler in its place).
handlers: Registry[Handler] = Registry()


def register(name: str, handle: Callable[[Event], object], types: Iterable[EventType] | None = None) -> None:
    handlers.register(name, Handler(name, handle, None if types is None else frozenset(types)))


def handlers_for(event_type: str) -> list[Handler]:
    return [handler for handler in handlers if handler.wants(event_type)]


class MessagesForeseen(Protocol):
    """The messages a handler would send for an event of `event_type` carrying `representation` (the appointment as
    the event would carry it; `previous`, as it is now), told without sending or planning anything (a dry run):
    (channel, kind) pairs, in the order they would go. From the same rules the handler plans by."""

    def __call__(
        self, event_type: str, representation: Mapping[str, Any], previous: Mapping[str, Any]
    ) -> list[tuple[str, str]]: ...


# Notifications: notifications.tasks.notifications_foreseen.
messages_foreseen: Registry[MessagesForeseen] = Registry()
