"""Which columns hold a claimant's personal data, declared once, on the field itself (issue 21.6).

`personal(models.CharField(...), NAME, "why it is kept")` marks a column: the field carries a `Personal` that says
what category of personal data it holds, why it is kept and how erasure empties it. Everything that knows what is
personal reads these marks from the models (`personal_fields`): the records of processing (`manage.py
personal_data_report`), the erasure (privacy.erasure), the access export (privacy.export). simple-history copies a
tracked model's fields with their attributes, so a history column is marked as its live column is. A column of a
model the project does not own is marked the same way from privacy.apps.

A column nobody marked is not personal only if privacy.catalogue says so, with the reason:
tests/privacy/test_personal_fields.py fails for any other (docs/adding-a-field.md, "Personal data").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from django.db import models


class Category(StrEnum):
    """The categories of personal data, as a record of processing (Art. 30) names them."""

    NAME = "name"
    CONTACT = "contact details (email, phone number)"
    DATE_OF_BIRTH = "date of birth"
    CASE_DATA = "case data (the department's data items, free text about the claimant)"
    IDENTIFIER = "online identifiers (private links, browser keys)"
    IDENTITY_CHECK = "identity check attempts and device details"
    COPY = "copies of the above (what was sent, answered or replayed)"


class Erase(StrEnum):
    """How erasure empties a column: to null (or "" where the column cannot be null); to a new random secret (a
    unique link token: the old one stops working and the new one is never handed out); or by removing the
    claimant's values from inside a text or JSON copy, leaving the rest (a webhook's payload, a task's arguments); or,
    for a row that is only about the claimant (a browser's identity attempts), by deleting the row."""

    EMPTY = "empty"
    NEW_SECRET = "new secret"  # noqa: S105 (how a token is replaced, not a secret)
    SCRUB = "scrub"
    DELETE = "delete the row"


@dataclass(frozen=True)
class Personal:
    category: Category
    purpose: str
    erase: Erase = Erase.EMPTY


F = TypeVar("F", bound=models.Field[Any, Any])


def personal(field: F, category: Category, purpose: str, erase: Erase = Erase.EMPTY) -> F:
    """Mark `field` as holding a claimant's personal data (returned, for use in a model's body)."""
    field.personal = Personal(category, purpose, erase)  # type: ignore[attr-defined]
    return field


def personal_of(field: Any) -> Personal | None:
    """The mark on a model's field, or None."""
    mark = getattr(field, "personal", None)
    return mark if isinstance(mark, Personal) else None


def personal_fields(model: type[models.Model]) -> list[tuple[models.Field[Any, Any], Personal]]:
    """A model's marked columns, in the model's order."""
    found = []
    for field in model._meta.concrete_fields:
        mark = personal_of(field)
        if mark is not None:
            found.append((field, mark))
    return found
