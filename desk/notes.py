"""Internal notes on an appointment (issue 24.3): staff write them in the back office; nothing the API, the events,
the webhooks or the claimant's messages build reads them (they read the appointment's shape, appointments/shape.py,
which has no notes). Each note is a row with who wrote it and when, written with its history row; privacy's erasure
empties the text, live and in history (desk.models.Note.text is marked personal)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from appointments.models import Appointment
from appointments.selectors import history_columns
from claimants.models import Claimant
from config.actors import Staff
from config.history import stamp
from desk.models import Note

NOTE_MAX_LENGTH = 4000


def note_add(*, appointment: Appointment, text: str, actor: Staff) -> Note:
    """Add a note by `actor` to the appointment. Refused (ValidationError on `text`) when empty, too long, or once
    the claimant's data is erased: a note is about the claimant, and an erased record takes no more."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": ["Write the note first."]})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError({"text": [f"A note has at most {NOTE_MAX_LENGTH} characters (this has {len(text)})."]})
    with transaction.atomic():
        if Claimant.objects.filter(appointment_id=appointment.pk, erased_at__isnull=False).exists():
            raise ValidationError({"text": ["The claimant's personal data was erased: no note can be added."]})
        assert actor.pk is not None, "a note's author is a saved staff member"
        note = Note(appointment_id=appointment.pk, author_id=actor.pk, text=text)
        stamp(note, actor)  # its history row says who wrote it
        note.save()
    return note


def notes_of(appointment: Appointment) -> QuerySet[Note]:
    """The appointment's notes, oldest first, with their authors (one query)."""
    return Note.objects.filter(appointment_id=appointment.pk).select_related("author").order_by("created_at", "id")


def note_history(appointment: Appointment) -> tuple[str, QuerySet[Any], list[str]]:
    """The notes' versions, for the appointment's history page (appointments.hooks.history_sources)."""
    return "Note", Note.history.filter(appointment_id=appointment.pk), history_columns(Note)
