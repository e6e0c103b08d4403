"""Reads of the meeting's participants for the back office's meeting pages (meetings.backoffice): the waiting
room's day, who waits to be let in, everyone with a link."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from appointments.models import Appointment
from meetings.models import ADMITTED_ONE_BY_ONE, Participant


def appointments_of_the_day(appointments: QuerySet[Appointment], start: datetime, end: datetime) -> list[Appointment]:
    """The waiting room's appointments from `start` to `end`, each with its participants whose links are live
    (oldest first), in two queries."""
    live = Participant.objects.filter(revoked_at__isnull=True).order_by("created_at")
    return list(
        appointments.filter(appointment_at__gte=start, appointment_at__lt=end)
        .select_related("department", "claimant")
        .prefetch_related(Prefetch("participants", queryset=live))
        .order_by("appointment_at", "id")
    )


def participants_waiting_to_be_let_in(appointment: Appointment) -> QuerySet[Participant]:
    """The interpreters and guests in the appointment's waiting room whom nobody has let in yet, first come first."""
    return Participant.objects.filter(
        appointment=appointment,
        role__in=ADMITTED_ONE_BY_ONE,
        revoked_at__isnull=True,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
        admitted_at__isnull=True,
    ).order_by("joined_waiting_at")


def appointment_participants(appointment: Appointment) -> list[Participant]:
    """Everyone with a link to the appointment, with their user, oldest first, each knowing its appointment."""
    people = list(appointment.participants.select_related("user").order_by("created_at"))
    for person in people:
        person.appointment = appointment
    return people
