"""The records of processing (Art. 30), read from the code: each category of a claimant's personal data, where it is
stored (the marked columns, config.personal), why, for how long, and who receives it (issue 21.6)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings

from appointments.models import Department
from config.personal import Category, personal_fields
from privacy.catalogue import is_history
from webhooks.models import Endpoint


@dataclass(frozen=True)
class Place:
    table: str
    column: str
    model: str
    purpose: str
    history: bool


def places() -> dict[Category, list[Place]]:
    """Every marked column of every installed model, by category, in the categories' order."""
    found: dict[Category, list[Place]] = defaultdict(list)
    for model in apps.get_models():
        for field, mark in personal_fields(model):
            found[mark.category].append(
                Place(model._meta.db_table, field.column, model._meta.label, mark.purpose, is_history(model))
            )
    return {category: found[category] for category in Category if found[category]}


def retention_lines() -> list[str]:
    default = settings.PERSONAL_DATA_RETENTION_DAYS
    lines = [f"By default: {default} days after the appointment ends (PERSONAL_DATA_RETENTION_DAYS)."]
    for department in Department.objects.order_by("name"):
        days = getattr(department, "retention_days", None)
        if days is not None and days != default:
            lines.append(f"{department.name}: {days} days after the appointment ends.")
    lines.append("Appointments on legal hold are kept until the hold is lifted or ends.")
    return lines


def recipient_lines() -> list[str]:
    lines = ["The claimant: their messages (email, text message) and their own page."]
    for endpoint in Endpoint.objects.select_related("department").order_by("department__name", "created_at"):
        wanted = ", ".join(endpoint.event_types) if endpoint.event_types else "every event"
        state = "" if endpoint.is_active else " (inactive)"
        lines.append(f"{endpoint.department.name}: webhook endpoint {endpoint.url}{state}: {wanted}.")
    return lines


def report() -> str:
    """The report as text a person reads."""
    out = ["Personal data of claimants: what is kept, where, why, for how long, and who receives it", ""]
    for category, found in places().items():
        out.append(f"## {category.value}")
        for place in found:
            where = f"{place.table}.{place.column}"
            out.append(f"- {where} ({place.model}{', every version' if place.history else ''}): {place.purpose}")
        out.append("")
    out += ["## How long", *[f"- {line}" for line in retention_lines()], ""]
    out += ["## Who receives it", *[f"- {line}" for line in recipient_lines()]]
    return "\n".join(out) + "\n"
