"""The join window: when an appointment's links let their holders in, a rule about the appointment's times, read
by its status rules (a session starts inside it; a claimant who came inside it is no no-show) and by the meeting's
pages and tokens (meetings.services, which export it where their callers import it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from appointments.models import Appointment


@dataclass(frozen=True)
class JoinWindow:
    """When a participant's link lets them in: from JOIN_OPENS_MINUTES_BEFORE the appointment until its end plus
    JOIN_GRACE_MINUTES. It moves with every reschedule."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now <= self.closes_at


def join_window(appointment: Appointment) -> JoinWindow:
    return JoinWindow(
        opens_at=appointment.appointment_at - timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE),
        closes_at=appointment.ends_at + timedelta(minutes=settings.JOIN_GRACE_MINUTES),
    )
