"""Where an appointment's rows are, model by model, for the erasure and the export (issue 21.2, 21.3).

Each model with a marked column (config.personal) has a scope: its rows that belong to one appointment. A model
with no path to an appointment whose marked columns are all copies (`Erase.SCRUB`: a task's arguments, the admin's
log) is searched whole for the claimant's values instead. tests/privacy/test_erasure.py fails for a model with a
marked column and neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db import models
from django_tasks_db.models import DBTaskResult

from appointments.models import Appointment, IdempotencyKey
from claimants.models import Claimant, ClaimantData
from config.personal import Erase, personal_fields
from desk.models import Note
from events.models import Event
from ledger.models import Entry
from meetings.models import Meeting, Participant, ParticipantBrowser, WaitingMessage
from notifications.models import Notification
from privacy.models import LegalHold
from webhooks.models import Attempt


@dataclass(frozen=True)
class Ids:
    """The keys an appointment's rows are found by."""

    appointment: Any
    claimant: Any
    participants: list[Any]


Scope = Callable[[Ids], models.QuerySet[Any]]


def _history(model: type[models.Model]) -> type[models.Model]:
    return model.history.model  # type: ignore[attr-defined]


# Every model with a marked column that belongs to an appointment, and how its rows are found.
SCOPES: dict[type[models.Model], Scope] = {
    Appointment: lambda ids: Appointment.objects.filter(pk=ids.appointment),
    _history(Appointment): lambda ids: _history(Appointment)._default_manager.filter(id=ids.appointment),
    Claimant: lambda ids: Claimant.objects.filter(pk=ids.claimant),
    _history(Claimant): lambda ids: _history(Claimant)._default_manager.filter(id=ids.claimant),
    ClaimantData: lambda ids: ClaimantData.objects.filter(claimant_id=ids.claimant),
    _history(ClaimantData): lambda ids: _history(ClaimantData)._default_manager.filter(claimant_id=ids.claimant),
    _history(Meeting): lambda ids: _history(Meeting)._default_manager.filter(appointment_id=ids.appointment),
    Participant: lambda ids: Participant.objects.filter(pk__in=ids.participants),
    _history(Participant): lambda ids: _history(Participant)._default_manager.filter(id__in=ids.participants),
    ParticipantBrowser: lambda ids: ParticipantBrowser.objects.filter(participant_id__in=ids.participants),
    WaitingMessage: lambda ids: WaitingMessage.objects.filter(participant_id__in=ids.participants),
    Event: lambda ids: Event.objects.filter(appointment_id=ids.appointment),
    Attempt: lambda ids: Attempt.objects.filter(delivery__event__appointment_id=ids.appointment),
    Notification: lambda ids: Notification.objects.filter(appointment_id=ids.appointment),
    # The create's stored answer is the appointment's representation, under `data`.
    IdempotencyKey: lambda ids: IdempotencyKey.objects.filter(response_body__data__id=str(ids.appointment)),
    LegalHold: lambda ids: LegalHold.objects.filter(appointment_id=ids.appointment),
    # Staff's internal notes (issue 24.3): the text, live and in every version.
    Note: lambda ids: Note.objects.filter(appointment_id=ids.appointment),
    _history(Note): lambda ids: _history(Note)._default_manager.filter(appointment_id=ids.appointment),
    # The ledger's entries (issue 20): only their personal part may change, emptied by the ledger's own function.
    Entry: lambda ids: Entry.objects.filter(appointment_id=ids.appointment),
}
# Searched whole for the claimant's values: no path to an appointment, and only copies.
SEARCHED = (DBTaskResult, LogEntry)


def searched_whole(model: type[models.Model]) -> bool:
    marks = personal_fields(model)
    return model in SEARCHED and bool(marks) and all(mark.erase == Erase.SCRUB for _, mark in marks)
