"""Changes in words a person reads (issue 24.5): each field by the name the back-office form gives it, each value as
the form shows it. `Agent: none → Dana Reid`, `Status: Scheduled → Cancelled`, `Background blur: Yes → No`, never
`agent: — → 1` or `features webcam background blurring enable: — → True`.

One declaration: `FORM_LABELS` is what the appointment's form calls the fields its model's verbose names do not say
(appointments.forms reads it for its labels), and everything else is the model's own verbose name; the history
page (appointments.selectors.appointment_history) and the timeline (appointments.timeline) read both through
`field_label` and `value_words`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.text import capfirst

from appointments.features import FEATURE_LABELS
from config.local_time import local_date, local_label

# What the back office's form calls a field where the model's verbose name says otherwise.
FORM_LABELS = {"appointment_at": "Time", "duration_in_minutes": "Length (minutes)", **FEATURE_LABELS}
NONE = "none"  # an empty value: `Agent: none → Dana Reid`


def staff_name(user: Any) -> str:
    """A staff member as every page names them: their full name, else their username."""
    return str(user.get_full_name() or user.get_username())


def field_label(field: models.Field[Any, Any]) -> str:
    """`Time`, `Agent`, `Background blur`, `Phone number`."""
    return FORM_LABELS.get(field.name) or capfirst(str(field.verbose_name))


def value_words(field: models.Field[Any, Any], value: Any, names: dict[tuple[Any, Any], str], zone: ZoneInfo) -> str:
    """A value as the form shows it: a choice by its label, a related row by its name (`names`, keyed by the related
    model and its primary key), yes or no, a time in the department's zone in the one format."""
    if value is None or value == "":
        return NONE
    related = field.related_model
    if field.is_relation and related is not None and not isinstance(related, str):
        return names.get((related._meta.label_lower, value), "a removed record")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return local_label(value, zone)
    if isinstance(value, date):
        return local_date(value)
    return str(value)


def change_words(label: str, old: str, new: str) -> str:
    """`Status: Scheduled → Cancelled`."""
    return f"{label}: {old} → {new}"
