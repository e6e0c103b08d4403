"""Where the apps above appointments plug in (docs/layout.md, "Layers"): appointments declares what it needs from
above, typed, and the app that has it (meetings) registers it from its `AppConfig.ready()`, as the outbox's
consumers register their handlers (events/handlers.py). Appointments imports nothing from above.

Each is a `Slot` (one thing an app above provides) or a `Registry` (things by name, in the order the apps
registered them), config.registry's two kinds. The followers are what follows an appointment's creation or
change inside its service's transaction, under its row lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.db.models import Model, QuerySet

from config.registry import Registry, Slot

if TYPE_CHECKING:
    from rest_framework import serializers

    from appointments.join_window import JoinWindow
    from appointments.models import Appointment
    from config.actors import Actor
    from events.services import Pending


class AfterCreate(Protocol):
    """Writes what a new appointment comes with (meetings: its meeting and participants), after its row and its
    claimant's are inserted."""

    def __call__(self, *, appointment: Appointment, actor: Actor) -> None: ...


class AfterChange(Protocol):
    """Moves what follows a change (`changes`: the appointment's columns just written, by name, with their new
    values) and returns the events it raises, recorded after the change's own (meetings: its meeting's times,
    the participants admitted when the session starts, following the interpreter's need and the agent)."""

    def __call__(self, *, appointment: Appointment, changes: Mapping[str, Any], actor: Actor) -> list[Pending]: ...


after_create: Registry[AfterCreate] = Registry()
after_change: Registry[AfterChange] = Registry()


@dataclass(frozen=True)
class Foreseen:
    """What a follower of a change would do, found without writing (a dry run): the event types it would record
    before the change's own (`earlier`) and after them (`later`), and whether a participant would get a new link."""

    earlier: tuple[str, ...] = ()
    later: tuple[str, ...] = ()
    join_links_renewed: bool = False


class ForeseeChange(Protocol):
    """An `AfterChange` follower's dry run: from the same decisions, what it would write and raise, reading only. It
    may move what follows in memory (meetings: the meeting's times), so the representation shows the change whole."""

    def __call__(self, *, appointment: Appointment, changes: Mapping[str, Any]) -> Foreseen: ...


# Meetings: meetings.services.follow.follow_foreseen, beside follow_change.
change_foreseen: Registry[ForeseeChange] = Registry()


@dataclass(frozen=True)
class LockedPart:
    """A row the appointment's lock reads in the same statement (appointments.selectors.appointment_locked), through
    the relation `name` of the appointment (a one-to-one), set on the appointment as select_related() sets it."""

    name: str
    model: type[Model]


# Meetings: the meeting ("meeting"), which every change reads and the follower moves.
locked_parts: Registry[LockedPart] = Registry()


class HistorySource(Protocol):
    """A part of the appointment's history page (appointments.selectors.appointment_history), after its own, its
    claimant's and their data's: the label its rows are shown with, the history rows of the appointment's records
    (one query), and the columns compared version to version (appointments.selectors.history_columns)."""

    def __call__(self, appointment: Appointment) -> tuple[str, QuerySet[Any], list[str]]: ...


# Meetings: the meeting's versions ("Meeting").
history_sources: Registry[HistorySource] = Registry()


class Waits(TypedDict):
    average: timedelta | None  # the average wait of those admitted, None when nobody was
    recorded: int  # how many claimants were admitted with a recorded wait


# The managers' week (appointments.dashboard): the claimants' waits in the waiting room over these appointments,
# in one query. Meetings: meetings.selectors.claimant_waits.
claimant_waits: Slot[Callable[[QuerySet[Appointment]], Waits]] = Slot("the claimants' waits")
# The managers' numbers per agent (appointments.numbers): the same, grouped by the appointments' agent (None: nobody
# assigned), in one query. Meetings: meetings.selectors.claimant_waits_by_agent.
claimant_waits_by_agent: Slot[Callable[[QuerySet[Appointment]], dict[Any, Waits]]] = Slot(
    "the claimants' waits by agent"
)

# The API's appointment nests its meeting (AppointmentSerializer's `meeting` key, the schema's description of the
# representation): the field, made anew for each serializer. Meetings: its MeetingSerializer, read-only.
meeting_field: Slot[Callable[[], serializers.Field[Any, Any, Any, Any]]] = Slot("the appointment's meeting in the API")

# The appointment's admin page shows its participants panel (the links, readiness, identity and consent, and the
# actions on them), as HTML. Meetings: meetings.participants_panel.participants_panel.
participants_panel: Slot[Callable[[Appointment], str]] = Slot("the appointment's participants panel")

# The status rules ask whether and when the claimant came (their participant's rows are meetings'):
# when they last joined the waiting room or were admitted inside the window, None if never (a no-show is only that),
claimant_appeared_at: Slot[Callable[[Appointment, JoinWindow], datetime | None]] = Slot("the claimant's arrival")
# and whether they are in the waiting room now (what `waiting` means). Meetings: meetings.services.pages.
claimant_in_waiting_room: Slot[Callable[[Appointment], bool]] = Slot("the claimant's presence")

# The appointment's admin page shows, to staff with the permission, its claimant's personal data section (erasure,
# legal hold, the export), as HTML. Privacy: privacy.backoffice.panel, with privacy.permissions' permission.
personal_data_panel: Slot[tuple[str, Callable[[Appointment], str]]] = Slot("the appointment's personal data panel")

# The appointment's admin page shows its internal notes (staff only) and a box to add one, as HTML. Desk:
# desk.backoffice.notes_panel.
notes_panel: Slot[Callable[[Appointment], str]] = Slot("the appointment's notes")
# The appointment's admin page lists what the claimant was sent (each message by channel, its status, "Send again"
# for a failed one), as HTML. Notifications: notifications.backoffice.panel (issue 24.4).
messages_panel: Slot[Callable[[Appointment], str]] = Slot("the appointment's messages panel")
