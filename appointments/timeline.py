"""An appointment's timeline: its ledger entries (ledger.services.entries_of) as the API shows them and in words a
person reads (the back office's Timeline, the record's PDF), in the department's zone (config.local_time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field

from appointments.models import Appointment, Department, Status
from appointments.words import change_words, field_label, staff_name, value_words
from config.api.fields import milliseconds
from config.local_time import local_clock, local_label
from ledger.models import ActorType, Channel, Entry

# What happened, as a person says it; a type not named here reads as its own words ("webhook failed").
WORDS = {
    "appointment.created": "Booked",
    "appointment.updated": "Changed",
    "appointment.rescheduled": "Rescheduled",
    "appointment.status_changed": "Status changed",
    "appointment.cancelled": "Cancelled",
    "appointment.no_show": "Recorded as a no-show",
    "appointment.missed": "Recorded as missed by the organisation",
    "appointment.followed_up": "Followed up",
    "meeting.started": "Session started",
    "meeting.ended": "Session ended",
    "meeting.abandoned": "Session completed once everyone had gone",
    "participant.invited": "Participant invited",
    "participant.revoked": "Participant's link revoked",
    "participant.joined_waiting_room": "Joined the waiting room",
    "participant.admitted": "Admitted",
    "participant.left": "Left",
    "participant.device_checked": "Device checked",
    "identity.locked": "Identity check locked",
    "identity.unlocked": "Identity check unlocked",
    "consent.given": "Consent to the recording given",
    "consent.refused": "Consent to the recording refused",
    "webhook.delivered": "Webhook delivered",
    "webhook.failed": "Webhook failed",
    "message.sent": "Message sent to the claimant",
    "message.failed": "Message to the claimant failed",
    "message.resend_requested": "Message to the claimant sent again",
}
ACTORS = {
    ActorType.CLAIMANT: "the claimant",
    ActorType.INTERPRETER: "the interpreter",
    ActorType.GUEST: "a guest",
    ActorType.AGENT: "the agent",
    ActorType.SYSTEM: "the service",
    ActorType.COMMAND: "a command",
}


# Through which door it happened, as the Timeline and the PDF say it (the API keeps the ledger's own values).
CHANNELS = {
    Channel.API: "API",
    Channel.BACK_OFFICE: "Back office",
    Channel.CLAIMANT_PAGE: "Participant's page",
    Channel.COMMAND: "Command",
    Channel.WORKER: "Worker",
}


def through(entry: Entry) -> str:
    return CHANNELS.get(Channel(entry.channel), entry.channel) if entry.channel in Channel.values else entry.channel


def what(entry: Entry) -> str:
    """What happened, in words: `Identity confirmed`, `Rescheduled`."""
    if entry.type == "identity.checked":
        return "Identity confirmed" if entry.data.get("result") == "passed" else "Identity check failed"
    if entry.type == "appointment.status_changed" and "to" in entry.data:
        old, new = (_status(entry.data.get(end)) for end in ("from", "to"))
        return change_words("Status", old, new) if entry.data.get("from") else f"Status changed to {new}"
    return WORDS.get(entry.type, entry.type.replace(".", " ").replace("_", " ").capitalize())


def who(entry: Entry) -> str:
    """Who did it: `the claimant`, a staff member's name (`Amy Agent`), `a staff member` once names are erased."""
    named = ACTORS.get(ActorType(entry.actor_type)) if entry.actor_type in ActorType.values else None
    if named is not None:
        return named
    return str(entry.personal_values.get("actor_name") or "a staff member")


def _status(value: Any) -> str:
    return str(Status(value).label) if value in Status.values else str(value or "none")


def changes_in_words(entry: Entry, zone: ZoneInfo, names: dict[tuple[Any, Any], str]) -> list[str]:
    """An `appointment.updated` entry's changes as the form names them (appointments.words): `Agent: none → Dana
    Reid`, `Background blur: Yes → No`. Only its public part: the claimant's values are kept apart (and erased)."""
    if entry.type != "appointment.updated":
        return []
    words = []
    for name, change in (entry.data.get("changes") or {}).items():
        try:
            field = Appointment._meta.get_field(name.removesuffix("_id"))
        except FieldDoesNotExist:
            continue
        if not isinstance(field, Field):
            continue
        old, new = (_value(field, change.get(end)) for end in ("old", "new"))
        words.append(change_words(field_label(field), *(value_words(field, v, names, zone) for v in (old, new))))
    return words


def _value(field: Any, value: Any) -> Any:
    """A value as the ledger wrote it, as the column holds it: a time from the API's text."""
    if isinstance(value, str) and field.get_internal_type() == "DateTimeField":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def names_of(entries: list[Entry]) -> dict[tuple[Any, Any], str]:
    """The staff and departments the entries' changes name, by (model, id), in two queries."""
    ids: dict[str, set[Any]] = {"agent_id": set(), "department_id": set()}
    for entry in entries:
        for name, change in (entry.data.get("changes") or {}).items() if entry.type == "appointment.updated" else ():
            if name in ids:
                ids[name] |= {change.get("old"), change.get("new")} - {None}
    users = get_user_model().objects.filter(pk__in=ids["agent_id"])
    return {
        **{(users.model._meta.label_lower, user.pk): staff_name(user) for user in users},
        **{
            ("appointments.department", str(d.pk)): d.name
            for d in Department.objects.filter(pk__in=ids["department_id"])
        },
    }


def sentence(entry: Entry, zone: ZoneInfo, names: dict[tuple[Any, Any], str] | None = None) -> str:
    """`Identity confirmed by the claimant, 10:02 GMT`; a change with what changed: `Changed by Dana Reid, 10:02
    GMT: Agent: none → Dana Reid`."""
    said = f"{what(entry)} by {who(entry)}, {local_clock(entry.occurred_at, zone)}"
    changes = changes_in_words(entry, zone, names or {})
    return f"{said}: {'; '.join(changes)}" if changes else said


@dataclass(frozen=True)
class Line:
    """One entry as the back office and the PDF show it."""

    sequence: int
    when: str  # `Thu 10 Jun 2027, 10:02 GMT`
    sentence: str
    channel: str  # in words: `Back office`
    hash: str


def lines(entries: list[Entry], zone: ZoneInfo) -> list[Line]:
    names = names_of(entries)
    shown = []
    for entry in entries:
        when = local_label(entry.occurred_at, zone)
        shown.append(Line(entry.sequence, when, sentence(entry, zone, names), through(entry), entry.hash))
    return shown


def shown(entry: Entry) -> dict[str, Any]:
    """The entry as the API shows it (`GET …/events`)."""
    name = entry.personal_values.get("actor_name")
    return {
        "id": entry.id,
        "sequence": entry.sequence,
        "type": entry.type,
        "occurred_at": milliseconds(entry.occurred_at),
        "actor": {"type": entry.actor_type, "id": entry.actor_id or None, "name": str(name) if name else None},
        "channel": entry.channel,
        "data": entry.data,
        "hash": entry.hash,
    }
