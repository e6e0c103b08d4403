"""Transport for appointments and departments: list, create, show, update (and the original's POST
`_method=PATCH` override), cancel.

Each action validates the shape with an input serializer, calls one service, reads the appointment back
through `get_queryset()` with its joins, and answers with the representation (and its ETag). Each action's
docstring is its description in the API docs.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.api import examples, idempotency
from appointments.api.serializers import (
    AppointmentCreateSerializer,
    AppointmentEnvelopeSerializer,
    AppointmentSerializer,
    AppointmentUpdateSerializer,
    CancelSerializer,
    DepartmentSerializer,
)
from appointments.filtersets import AppointmentFilterSet
from appointments.models import Appointment, AppointmentQuerySet, Department
from appointments.services import appointment_cancel, appointment_create, appointment_update, department_for_create
from config.api.http import (
    apply_method_override,
    if_match_precondition,
    if_none_match_hits,
    representation_etag,
    request_body,
)
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.pagination import LaravelPagination
from config.api.schema import ERROR_RESPONSES, IF_MATCH_HEADER, form_bodies

# Only the actions on one appointment have it in their path (a class-level parameter would give it to list
# and create too, which blocks Swagger's "Try it out" and makes client generators drop both).
APPOINTMENT_ID = OpenApiParameter(
    "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
)
ONE_APPOINTMENT = {200: AppointmentEnvelopeSerializer, **ERROR_RESPONSES}


@extend_schema(tags=["appointments"])
class AppointmentViewSet(viewsets.GenericViewSet):
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()  # the schema's model; requests go through get_queryset()
    content_negotiation_class = AlwaysJSONNegotiation
    lookup_url_kwarg = "appointment"
    filter_backends = [DjangoFilterBackend]
    filterset_class = AppointmentFilterSet
    pagination_class = LaravelPagination

    def get_queryset(self) -> AppointmentQuerySet:
        return Appointment.objects.with_related().visible_to(self.request.user)

    def get_object(self) -> Appointment:
        # A malformed id, a missing appointment and another department's appointment all get the same 404.
        try:
            pk = uuid.UUID(str(self.kwargs["appointment"]))
        except ValueError:
            raise exceptions.NotFound() from None
        return get_object_or_404(self.get_queryset(), pk=pk)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if apply_method_override(request):
            self.action = self.action_map.get("patch", self.action)

    def _respond(self, appointment: Appointment, status_code: int = status.HTTP_200_OK) -> Response:
        return self._answer(AppointmentSerializer(appointment).data, status_code)

    def _answer(self, data: Any, status_code: int) -> Response:
        return Response({"data": data}, status=status_code, headers={"ETag": representation_etag(data)})

    def _written(self, write: Callable[[], Appointment], status_code: int = status.HTTP_200_OK) -> Response:
        """The write and the read-back of its answer in one transaction: should reading back fail (the database
        gone a moment after the write), the write rolls back too, so an error answer always means nothing changed
        and a client that retries after a 503 never makes a second appointment. A change that recorded events
        read its representation for them at its end, in this transaction: that is the answer, read once."""
        with transaction.atomic():
            appointment = write()
            if appointment.recorded_representation is not None:
                return self._answer(appointment.recorded_representation, status_code)
            return self._respond(self.get_queryset().get(pk=appointment.pk), status_code)

    def _current_etag(self, locked: Appointment) -> str:
        return representation_etag(AppointmentSerializer(self.get_queryset().get(pk=locked.pk)).data)

    @extend_schema(
        summary="List appointments",
        parameters=[
            OpenApiParameter(
                "is_interpreter_needed",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=["true", "false", "1", "0"],
                description="Only appointments that need (true, 1) or do not need (false, 0) an interpreter.",
            )
        ],
        responses={200: AppointmentSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's departments' appointments, filtered and sorted, in Laravel's paginator envelope."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        return self.get_paginated_response(AppointmentSerializer(page, many=True).data)

    @extend_schema(
        summary="Create an appointment",
        parameters=[idempotency.HEADER_PARAMETER],
        request=form_bodies(AppointmentCreateSerializer),
        examples=[examples.CREATE],
        responses={201: AppointmentEnvelopeSerializer, **ERROR_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Creates a `scheduled` appointment with its claimant, the claimant's data values and the meeting.

        JSON or the original's form posts (bracket keys, string booleans, empty string for null). An
        `Idempotency-Key` header makes retries safe: the same key and body within 24 hours return the first
        response and create nothing; the same key with another body is a 422.
        """
        body = request_body(request)
        return idempotency.once(request=request, body=body, run=lambda: self._create(request, body))

    def _create(self, request: Request, body: Any) -> Response:
        serializer = AppointmentCreateSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        department = department_for_create(actor=request.user, department_id=serializer.requested_department_id())
        response = self._written(
            lambda: appointment_create(department=department, actor=request.user, **serializer.service_arguments()),
            status.HTTP_201_CREATED,
        )
        response["Location"] = request.build_absolute_uri(
            reverse("appointment-detail", args=[response.data["data"]["id"]])
        )
        return response

    @extend_schema(
        summary="Show an appointment",
        parameters=[APPOINTMENT_ID],
        responses={**ONE_APPOINTMENT, 304: OpenApiResponse(description="Not modified")},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """The appointment with its ETag; `If-None-Match` with that ETag answers 304."""
        response = self._respond(self.get_object())
        if if_none_match_hits(request.headers.get("If-None-Match"), response["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response

    @extend_schema(
        summary="Update an appointment",
        parameters=[APPOINTMENT_ID, IF_MATCH_HEADER],
        request=AppointmentUpdateSerializer,
        examples=[examples.UPDATE],
        responses=ONE_APPOINTMENT,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send only the fields to change.

        Fields required in the representation cannot be set to null but may be omitted; the same holds inside
        `claimant`. Clients that cannot send PATCH (multipart forms) use `POST` with `?_method=PATCH`, a
        `_method=PATCH` form field or an `X-HTTP-Method-Override: PATCH` header. An optional `If-Match` with the
        ETag of a GET makes the change conditional (412 when stale).
        """
        appointment = self.get_object()
        serializer = AppointmentUpdateSerializer(data=request_body(request), partial=True)
        serializer.is_valid(raise_exception=True)
        precondition = if_match_precondition(request.headers.get("If-Match"), self._current_etag)
        return self._written(
            lambda: appointment_update(
                appointment=appointment, data=serializer.validated_data, actor=request.user, precondition=precondition
            )
        )

    @extend_schema(
        summary="Update an appointment (method override)",
        operation_id="appointments_partial_update_by_post",
        parameters=[
            APPOINTMENT_ID,
            OpenApiParameter("_method", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, enum=["PATCH"]),
            IF_MATCH_HEADER,
        ],
        request=form_bodies(AppointmentUpdateSerializer),
        examples=[examples.UPDATE],
        responses=ONE_APPOINTMENT,
    )
    def method_override(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The original's workaround for PHP, which cannot parse multipart bodies on PATCH.

        `POST` with `_method=PATCH` (query, form field or `X-HTTP-Method-Override` header) is exactly the PATCH.
        Without the override, POST is not allowed here (405).
        """
        # Reached only when a POST carried no PATCH override (initial() turns those into the PATCH action).
        raise exceptions.MethodNotAllowed(request.method or "POST")

    @extend_schema(
        summary="Cancel an appointment",
        parameters=[APPOINTMENT_ID],
        request=CancelSerializer,
        examples=[examples.CANCEL],
        responses=ONE_APPOINTMENT,
    )
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancels with an optional reason.

        The same rules as a PATCH to `status: cancelled`, except that an appointment already completed,
        cancelled or a no-show cannot be cancelled (422).
        """
        appointment = self.get_object()
        serializer = CancelSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data.get("cancellation_reason")
        return self._written(lambda: appointment_cancel(appointment=appointment, reason=reason, actor=request.user))


@extend_schema(tags=["departments"])
class DepartmentViewSet(viewsets.GenericViewSet):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.none()
    content_negotiation_class = AlwaysJSONNegotiation
    pagination_class = LaravelPagination

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.visible_to(self.request.user).prefetch_related("data_fields").order_by("name", "id")

    @extend_schema(
        summary="List the departments you may use", responses={200: DepartmentSerializer(many=True), **ERROR_RESPONSES}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """With the claimant data fields their appointments collect and their default feature settings."""
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(DepartmentSerializer(page, many=True).data)
