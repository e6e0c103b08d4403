"""Filters and sorting of the appointment list (`GET /api/v1/appointments`)."""

from datetime import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from appointments.models import Appointment, AppointmentQuerySet, Status
from config.api.fields import TIME_SCHEMA, parse_time

SORTABLE = ("appointment_at", "created_at", "reference", "status", "duration_in_minutes")


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ends every sort with the id, so rows with equal keys keep their place from one page to the next."""

    def filter(self, qs: QuerySet[Appointment], value: Any) -> QuerySet[Appointment]:
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "id") if value else qs


class UtcIsoDateTimeField(IsoDateTimeField):
    """A time in the API's one format (config.api.fields.TIME_PATTERN), as request bodies read it: in UTC; any
    other text, an offset the database cannot hold or a time that leaves the calendar is an invalid value (422)."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_time(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(TIME_SCHEMA)
class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class AppointmentFilterSet(django_filters.FilterSet):
    """`status` takes several values (`status=a&status=b`, `status=a,b` or `status[]=a`); the rest one each."""

    # No DISTINCT (django-filter's default for a multiple choice): the status is the row's own column, so no row can
    # come twice, and DISTINCT made PostgreSQL read and sort every matching row for a page (issue 26.3).
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, distinct=False, help_text="One or more statuses."
    )
    department_id = django_filters.UUIDFilter(field_name="department_id")
    appointment_at_from = UtcIsoDateTimeFilter(
        field_name="appointment_at", lookup_expr="gte", help_text="On or after this time (no offset: UTC)."
    )
    appointment_at_to = UtcIsoDateTimeFilter(
        field_name="appointment_at", lookup_expr="lte", help_text="On or before this time (no offset: UTC)."
    )
    reference = django_filters.CharFilter(field_name="reference", help_text="Exact reference.")
    # Strict: django-filter's BooleanFilter quietly ignores values it cannot read ("maybe" would list all).
    is_interpreter_needed = django_filters.TypedChoiceFilter(
        choices=[(v, v) for v in ("true", "false", "1", "0")], coerce=lambda v: v in ("true", "1")
    )
    q = django_filters.CharFilter(
        method="search", max_length=200, help_text="Text in the reference or the claimant's name, email or phone."
    )
    sort = StableOrderingFilter(
        fields=[(name, name) for name in SORTABLE],
        help_text="Sort key, `-` for descending, several comma-separated (default `appointment_at`).",
    )

    class Meta:
        model = Appointment
        fields: list[str] = []

    def __init__(self, data: QueryDict | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(self.normalised(data) if data is not None else None, *args, **kwargs)

    @staticmethod
    def normalised(data: QueryDict) -> QueryDict:
        """The query as the filters read it: every status given (`status`, `status[]`, comma-separated) in `status`."""
        data = data.copy()
        statuses = [*data.getlist("status"), *data.getlist("status[]")]
        data.setlist("status", [part.strip() for value in statuses for part in value.split(",") if part.strip()])
        return data

    def search(self, queryset: AppointmentQuerySet, name: str, value: str) -> AppointmentQuerySet:
        return queryset.search(value)


class AppointmentFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds the filter set's form (about half a millisecond) only when the
    request names one of its filters: without any, the filter set would return the queryset as it is."""

    @staticmethod
    def filters(request: Any) -> bool:
        """Whether the request names any filter (or the sort)."""
        return not {*AppointmentFilterSet.base_filters, "status[]"}.isdisjoint(request.query_params.keys())

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        return super().filter_queryset(request, queryset, view) if self.filters(request) else queryset
