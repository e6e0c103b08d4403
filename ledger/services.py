"""Writing the ledger and checking it (ledger/__init__.py names the public functions)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from config.actors import Actor
from config.cursors import kept_cursor
from config.writes import insert_rows
from ledger.chain import GENESIS, entry_hash, personal_digest, plain, sealed_personal
from ledger.context import current_channel
from ledger.models import ActorType, Channel, Entry
from ledger.selectors import appointment_lock


@dataclass(frozen=True)
class Happening:
    """One thing that happened: its type, what it was (no personal value: hashed as is), and the personal values
    that go with it (kept apart, erasable)."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    personal: Mapping[str, Any] = field(default_factory=dict)


def actor_of(actor: Actor, channel: str) -> tuple[str, str, str]:
    """The ledger's actor: (type, id, name). A user is staff in the back office and the token's user in the API;
    a participant acting from their link is their role; nobody is the system, or the command that ran."""
    if actor is None or getattr(actor, "is_anonymous", False) is True:
        return (ActorType.COMMAND if channel == Channel.COMMAND else ActorType.SYSTEM), "", ""
    role = getattr(actor, "role", None)
    if role is not None:
        return str(role), str(getattr(actor, "pk", "")), str(getattr(actor, "display_name", ""))
    full_name = getattr(actor, "get_full_name", lambda: "")() or getattr(actor, "get_username", lambda: "")()
    kind = ActorType.API_USER if channel == Channel.API else ActorType.STAFF
    return kind, str(getattr(actor, "pk", "")), str(full_name)


def _head(appointment_id: Any) -> tuple[int, str]:
    """The appointment's last sequence number and hash (0 and GENESIS before its first entry)."""
    quote = connection.ops.quote_name
    table = quote(Entry._meta.db_table)
    cursor = kept_cursor()
    cursor.execute(
        f"SELECT {quote('sequence')}, {quote('hash')} FROM {table} WHERE {quote('appointment_id')} = %s "  # noqa: S608
        f"ORDER BY {quote('sequence')} DESC LIMIT 1",
        [Entry._meta.get_field("appointment").get_db_prep_value(appointment_id, connection)],
    )
    row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def record(appointment: Any, happenings: Iterable[Happening], *, actor: Actor, first: bool = False) -> list[Entry]:
    """Write these happenings (in order) as the appointment's next entries, in the current transaction.

    The caller holds the appointment's row lock (every service takes it first), so the appointment's entries are
    written one transaction at a time and each follows the last; appointments never wait for each other.
    `appointment` is the appointment or its id; `first` says it has no entry yet (created in this transaction), so
    its chain's head is not read.
    """
    pending = list(happenings)
    if not pending:
        return []
    assert transaction.get_connection().in_atomic_block, "ledger entries are written in the change's transaction"
    appointment_id = getattr(appointment, "pk", appointment)
    head = (0, GENESIS) if first else _head(appointment_id)
    entries = _chained(appointment_id, head, pending, actor)
    insert_rows(entries)
    return entries


def record_each(happenings: Mapping[Any, Iterable[Happening]], *, actor: Actor) -> list[Entry]:
    """`record` for several appointments at once (appointment id -> its happenings, in order): their heads read in
    one statement and every entry written in one (the webhook worker's batch). The caller holds every lock."""
    pending = {appointment_id: list(items) for appointment_id, items in happenings.items() if items}
    if not pending:
        return []
    assert transaction.get_connection().in_atomic_block, "ledger entries are written in the change's transaction"
    heads = _heads(list(pending))
    entries = [
        entry
        for appointment_id, items in pending.items()
        for entry in _chained(appointment_id, heads.get(appointment_id, (0, GENESIS)), items, actor)
    ]
    insert_rows(entries)
    return entries


def _heads(appointment_ids: list[Any]) -> dict[Any, tuple[int, str]]:
    """`_head` of several appointments in one statement (those without an entry are left out)."""
    field = Entry._meta.get_field("appointment")
    latest = Entry.objects.filter(appointment_id=OuterRef("appointment_id")).order_by("-sequence").values("sequence")
    rows = Entry.objects.filter(appointment_id__in=appointment_ids, sequence=Subquery(latest[:1]))
    by_value = {field.to_python(appointment_id): appointment_id for appointment_id in appointment_ids}
    return {
        by_value.get(appointment_id, appointment_id): (sequence, hashed)
        for appointment_id, sequence, hashed in rows.values_list("appointment_id", "sequence", "hash")
    }


def _chained(appointment_id: Any, head: tuple[int, str], pending: list[Happening], actor: Actor) -> list[Entry]:
    """The appointment's next entries after `head` (its last sequence number and hash), each hashed onto the last."""
    channel = current_channel()
    actor_type, actor_id, actor_name = actor_of(actor, channel)
    sequence, previous = head
    now = timezone.now()
    entries = []
    for happening in pending:
        sequence += 1
        values = {**({"actor_name": actor_name} if actor_name else {}), **happening.personal}
        stored, digest = sealed_personal(values) if values else (None, "")
        data = plain(happening.data)
        hashed = entry_hash(
            appointment_id=appointment_id, sequence=sequence, occurred_at=now, actor_type=actor_type,
            actor_id=actor_id, channel=channel, type=happening.type, data=data, personal_digest=digest,
            previous_hash=previous,
        )  # fmt: skip
        entries.append(
            Entry(
                appointment_id=appointment_id,
                sequence=sequence,
                occurred_at=now,
                actor_type=actor_type,
                actor_id=actor_id,
                channel=channel,
                type=happening.type,
                data=data,
                personal_digest=digest,
                personal=stored,
                previous_hash=previous,
                hash=hashed,
            )
        )
        previous = hashed
    return entries


def lock_appointment(appointment_id: Any) -> None:
    """Take the appointment's row lock (what every change of it, and its ledger's next entry, is written under), for
    a writer that does not hold it already. The appointment's model is the entries' relation's (the ledger sits
    below the appointments app and imports nothing of it)."""
    appointment_lock(appointment_id)  # compiled once (ledger.selectors)


def about(participant: Any) -> dict[str, Any]:
    """Who an entry is about: a participant by id and role (their name is personal, and the caller's to add)."""
    return {"participant": {"id": str(participant.pk), "role": str(participant.role)}}


def entries_of(appointment_id: Any) -> QuerySet[Entry]:
    """The appointment's entries, oldest first (by sequence)."""
    return Entry.objects.filter(appointment_id=appointment_id).order_by("sequence")


@dataclass(frozen=True)
class Break:
    """The first entry that does not verify, and why."""

    entry_id: int
    appointment_id: Any
    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"entry {self.entry_id} (appointment {self.appointment_id}, sequence {self.sequence}): {self.reason}"


def _recomputed(entry: Entry) -> str:
    return entry_hash(
        appointment_id=entry.appointment_id, sequence=entry.sequence, occurred_at=entry.occurred_at,
        actor_type=entry.actor_type, actor_id=entry.actor_id, channel=entry.channel, type=entry.type,
        data=entry.data, personal_digest=entry.personal_digest, previous_hash=entry.previous_hash,
    )  # fmt: skip


def _chains(appointment_id: Any | None) -> Iterator[Entry]:
    rows = Entry.objects.order_by("appointment_id", "sequence", "id")
    if appointment_id is not None:
        rows = rows.filter(appointment_id=appointment_id)
    return rows.iterator(chunk_size=2000)


def verify(appointment_id: Any | None = None) -> Break | None:
    """Walk every appointment's chain (or one's) and return the first entry that does not verify, or None.

    Each entry must be the next in its appointment's numbering, name the hash of the one before, hash to what it
    says (ledger.chain), be written after it (its id), and carry personal values matching their digest unless they
    were erased. An edit shows as a hash that does not match; a deletion or an insertion as a broken numbering or
    link; a reordering as a link that points elsewhere.
    """
    current, expected, previous, last_id = None, 1, GENESIS, 0
    for entry in _chains(appointment_id):
        if entry.appointment_id != current:
            current, expected, previous, last_id = entry.appointment_id, 1, GENESIS, 0
        reason = None
        if entry.sequence != expected:
            reason = f"numbered {entry.sequence} where {expected} was due (an entry is missing or was inserted)"
        elif entry.previous_hash != previous:
            reason = "does not follow the entry before it (its previous hash differs)"
        elif _recomputed(entry) != entry.hash:
            reason = "its content does not match its hash (it was edited)"
        elif entry.id <= last_id:
            reason = "was written before the entry it follows (reordered)"
        elif entry.personal is not None and personal_digest(entry.personal) != entry.personal_digest:
            reason = "its personal part does not match its digest (it was edited)"
        if reason is not None:
            return Break(entry.id, entry.appointment_id, entry.sequence, reason)
        expected, previous, last_id = entry.sequence + 1, entry.hash, entry.id
    return None


def erase_personal(appointment_id: Any) -> int:
    """Empty the personal part of every entry of the appointment (the only change the database lets through);
    the chains still verify. Returns how many entries had one."""
    return Entry.objects.filter(appointment_id=appointment_id, personal__isnull=False).update(personal=None)
