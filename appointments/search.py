"""The one search both doors use: the API's `q` and the back office's search box (`AppointmentQuerySet.search`).

An appointment matches when its reference, or its claimant's name, email or phone, contains the text, ignoring case.
A phone typed in national form (`020 7123 4567`) also matches its E.164 digits; one typed from its "+" is a prefix.

Flat at a million (issue 26.3): the matching ids are read first, each side from an index of one table (trigram
indexes on the reference, name, email and phone, a btree range for a phone's "+" beginning), and on PostgreSQL the
list reads them as `id = ANY(ARRAY(...))`: one array, computed once, looked up by primary key and filtered by the
caller's departments. As `id IN (subquery)`, PostgreSQL could hash the matches and scan every appointment the
caller may see against them, which grows with the table however few the matches (docs/decisions.md). Each door
reads them once per request: the API's list whole when short (config.api.pagination), the back office's changelist
its ids and times for the count, the date hierarchy and the page (appointments.admin.changelist).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet

from claimants.models import Claimant

if TYPE_CHECKING:
    from appointments.models import Appointment

_PHONE_LIKE = re.compile(r"[\d\s()+./-]+")
# A search's list is read whole when it has at most this many rows, and counted from what was read
# (config.api.pagination): its total and its page would otherwise read every match twice.
READ_WHOLE_UP_TO = 5000

Rows = TypeVar("Rows", bound="QuerySet[Appointment]")


class _AnyOf(Func):
    """`expression = ANY(array)`, a condition (Django writes an array on the right of `=` in parentheses, which
    ANY does not take)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def claimant_matches(text: str) -> Q:
    """The claimants whose name, email or phone holds the (stripped, non-empty) text."""
    prefix = text.startswith("+")  # E.164's one "+" comes first: a range of claimant_phone_prefix (decisions.md)
    phone = "phone_number__startswith" if prefix else "phone_number__icontains"
    found = Q(name__icontains=text) | Q(email__icontains=text) | Q(**{phone: text})
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4 and _PHONE_LIKE.fullmatch(text) and text != "+" + digits:
        found |= Q(**{phone: "+" + digits if prefix else digits.lstrip("0")})
    return found


def matching(appointments: Rows, text: str) -> Rows:
    """`appointments` narrowed to those the text finds (see the module's docstring); all of them for blank text."""
    text = text.strip()
    if not text:
        return appointments
    by_reference = appointments.model.objects.filter(reference__icontains=text).order_by().values("pk")
    by_claimant = Claimant.objects.filter(claimant_matches(text)).order_by().values("appointment_id")
    if connections[appointments.db].vendor != "postgresql":
        return appointments.filter(pk__in=by_reference.union(by_claimant))
    # UNION ALL: an id twice in the array matches once, so nothing is gained by removing duplicates first.
    found = ArraySubquery(by_reference.union(by_claimant, all=True))
    return appointments.filter(_AnyOf(F("pk"), found))
