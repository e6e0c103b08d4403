"""Once a day, the worker records every chain's head in one digest and logs it (issue 20.2), so an operator can keep
it elsewhere: a later edit of the ledger, even of a chain's last entry, then no longer matches a digest kept.

The digest of a day: per department (the appointment's), SHA-256 of the canonical JSON (ledger.chain) of its chains'
heads sorted by appointment, `[[appointment id, sequence, hash], ...]`; then SHA-256 of the canonical JSON of
`{"day": "YYYY-MM-DD", "departments": {department id: that digest, ...}}`.

The worker's sweep (worker/sweep.py) enqueues the day's task when the day has no digest yet and no task is waiting.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from config.queue import live_arguments, task
from ledger.chain import canonical
from ledger.models import Digest, Entry

logger = logging.getLogger("ledger")


def chain_heads() -> dict[str, list[list[Any]]]:
    """Per department id ("" for an appointment that no longer exists), its chains' heads in appointment order."""
    last = Entry.objects.filter(appointment_id=OuterRef("appointment_id")).order_by("-sequence").values("sequence")
    heads = (
        Entry.objects.filter(sequence=Subquery(last[:1]))
        .order_by("appointment_id")
        .values_list("appointment__department_id", "appointment_id", "sequence", "hash")
    )
    grouped: dict[str, list[list[Any]]] = defaultdict(list)
    for department_id, appointment_id, sequence, hashed in heads.iterator(chunk_size=5000):
        grouped[str(department_id or "")].append([str(appointment_id), sequence, hashed])
    return dict(grouped)


def digest_of(day: date, heads: dict[str, list[list[Any]]]) -> tuple[str, dict[str, dict[str, Any]]]:
    departments = {
        department: {"chains": len(rows), "digest": hashlib.sha256(canonical(rows)).hexdigest()}
        for department, rows in sorted(heads.items())
    }
    whole = {"day": day.isoformat(), "departments": {name: part["digest"] for name, part in departments.items()}}
    return hashlib.sha256(canonical(whole)).hexdigest(), departments


def digest_take(day: date | None = None) -> Digest | None:
    """Record the day's digest (once: None when it was taken already) and log it."""
    day = day or timezone.now().date()
    with transaction.atomic():
        if Digest.objects.filter(day=day).exists():
            return None
        whole, departments = digest_of(day, chain_heads())
        taken = Digest.objects.create(day=day, taken_at=timezone.now(), digest=whole, departments=departments)
    logger.info(
        "Ledger digest of %s: %s (%d chains in %d departments)",
        day.isoformat(), whole, sum(part["chains"] for part in departments.values()), len(departments),
    )  # fmt: skip
    return taken


@task()
def ledger_digest(day: str) -> bool:
    return digest_take(date.fromisoformat(day)) is not None


def digest_requeue() -> int:
    """Enqueue today's digest unless it was taken or a task will take it; returns how many were enqueued."""
    today = timezone.now().date()
    if Digest.objects.filter(day=today).exists() or [today.isoformat()] in live_arguments(ledger_digest):
        return 0
    ledger_digest.enqueue(today.isoformat())
    return 1


def digest_stuck(cutoff: datetime) -> int:
    """1 when today's digest is missing with no task to take it, though the day began before `cutoff`. A task that
    waits too long is the sweep's "tasks overdue" already; a worker's first sweep of the day enqueues the task
    before it asks what is stuck, so a missing digest with its task waiting is not an alarm."""
    today = timezone.now().date()
    began = datetime.combine(today, time.min, tzinfo=cutoff.tzinfo)
    if began >= cutoff or Digest.objects.filter(day=today).exists():
        return 0
    return int([today.isoformat()] not in live_arguments(ledger_digest))
