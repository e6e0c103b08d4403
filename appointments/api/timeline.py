"""`GET /api/v1/appointments/{appointment}/events` (issue 20.3): the appointment's ledger, oldest first, in Laravel's
paginator envelope, filtered by `type` (several) and `occurred_at_from`/`_to`; with the same tenancy (another
department's appointment is the 404 of a missing one), errors and ETag as the appointment itself."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.http import HttpResponseBase, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.api.selectors import appointment_visible
from appointments.filtersets import UtcIsoDateTimeFilter
from appointments.models import Appointment
from appointments.record_pdf import pdf_answer
from appointments.timeline import shown
from config.api.errors import flatten_errors
from config.api.http import if_none_match_hits, representation_etag
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.pagination import LaravelPagination
from config.api.schema import ERROR_RESPONSES
from ledger.models import Entry
from ledger.selectors import EntriesOf
from ledger.services import entries_of


class EntryFilterSet(django_filters.FilterSet):
    """`type` takes several values (`type=a&type=b`, `type=a,b` or `type[]=a`); the times one each, in UTC."""

    type = django_filters.BaseInFilter(field_name="type", help_text="One or more types (`appointment.updated`, …).")
    occurred_at_from = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="At or after this time (no offset: UTC)."
    )
    occurred_at_to = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lte", help_text="At or before this time (no offset: UTC)."
    )

    class Meta:
        model = Entry
        fields: list[str] = []

    def __init__(self, data: QueryDict | None = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            data = data.copy()
            types = [*data.getlist("type"), *data.getlist("type[]")]
            parts = [part.strip() for value in types for part in value.split(",") if part.strip()]
            if parts:
                data.setlist("type", [",".join(parts)])
        super().__init__(data, *args, **kwargs)


# What names a filter (django-filter's form, about half a millisecond, is built only then).
_FILTERS = frozenset({*EntryFilterSet.base_filters, "type[]"})


class LedgerActorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="staff, api_user, claimant, interpreter, guest, agent, system, command")
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True, help_text="null for the service, and once personal data is erased.")


class LedgerEntrySerializer(serializers.Serializer):
    """The schema's description of an entry (the answer is built by appointments.timeline.shown)."""

    id = serializers.IntegerField()
    sequence = serializers.IntegerField(help_text="1, 2, 3… within the appointment.")
    type = serializers.CharField(help_text="The webhooks' names, and the ledger's own (`identity.checked`, …).")
    occurred_at = serializers.CharField(help_text="UTC, `2021-01-01T00:00:00.000Z`.")
    actor = LedgerActorSerializer()
    channel = serializers.CharField(help_text="api, back_office, claimant_page, command, worker")
    data = serializers.DictField(help_text="What happened (no personal value).")  # type: ignore[assignment]
    hash = serializers.CharField(help_text="SHA-256 of the entry, chained to the one before.")


@extend_schema(tags=["appointments"])
class AppointmentEventsViewSet(viewsets.GenericViewSet):
    queryset = Entry.objects.none()
    serializer_class = LedgerEntrySerializer
    content_negotiation_class = AlwaysJSONNegotiation
    pagination_class = LaravelPagination

    @extend_schema(
        summary="An appointment's record (its ledger)",
        parameters=[
            OpenApiParameter(
                "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
            ),
            OpenApiParameter(
                "type", OpenApiTypes.STR, OpenApiParameter.QUERY, many=True, description="One or more entry types."
            ),
            OpenApiParameter("occurred_at_from", OpenApiTypes.DATETIME, OpenApiParameter.QUERY),
            OpenApiParameter("occurred_at_to", OpenApiTypes.DATETIME, OpenApiParameter.QUERY),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=["json", "pdf"],
                description="`pdf`: the whole record as a PDF (entries in words, the chain's head, whether it "
                "verifies), whatever the filters.",
            ),
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("per_page", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
        filters=False,
        responses={
            (200, "application/json"): LedgerEntrySerializer(many=True),
            (200, "application/pdf"): OpenApiTypes.BINARY,
            304: OpenApiResponse(description="Not modified"),
            **ERROR_RESPONSES,
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Everything that happened to the appointment, oldest first, each entry hash-chained to the one before;
        with its ETag, and `If-None-Match` with it answers 304."""
        try:
            pk = uuid.UUID(str(self.kwargs["appointment"]))
        except ValueError:
            raise exceptions.NotFound() from None
        wanted = request.query_params.get("format")
        if wanted == "pdf":  # the whole record, whatever the filters: the evidence is the whole chain
            appointment = Appointment.objects.visible_to(request.user).with_related().filter(pk=pk).first()
            if appointment is None:
                raise exceptions.NotFound()
            return pdf_answer(appointment)
        if not appointment_visible(request.user, pk):  # the tenancy's read, compiled once
            raise exceptions.NotFound()
        if wanted not in (None, "json"):
            raise exceptions.ValidationError({"format": ["The selected format is invalid (json or pdf)."]})
        entries: Any = EntriesOf(pk)  # no filter named: the count and the page compiled once (issue 26.2)
        if not _FILTERS.isdisjoint(request.query_params.keys()):
            filterset = EntryFilterSet(request.query_params, queryset=entries_of(pk).order_by("sequence", "id"))
            if not filterset.is_valid():
                raise exceptions.ValidationError(flatten_errors(filterset.errors))
            entries = filterset.qs
        page = self.paginate_queryset(entries)
        assert page is not None
        response = self.get_paginated_response([shown(entry) for entry in page])
        response["ETag"] = representation_etag(response.data)
        if if_none_match_hits(request.headers.get("If-None-Match"), response["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response
