"""Transport for appointments and departments: list, create, show, update (and the original's POST
`_method=PATCH` override), cancel.

Each action validates the shape with an input serializer, calls one service, and answers with the
representation (and its ETag): reads build it from rows (`appointments.representation`), writes answer with the
one the service built from the row it locked and wrote. Tenancy is `get_queryset()`, which a change's service
locks within. Each action's docstring is its description in the API docs.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from appointments.api import examples, idempotency
from appointments.api.selectors import filtered_ids
from appointments.api.serializers import (
    AppointmentChangeEnvelopeSerializer,
    AppointmentCreateSerializer,
    AppointmentEnvelopeSerializer,
    AppointmentSerializer,
    AppointmentUpdateSerializer,
    CancelSerializer,
    DepartmentSerializer,
)
from appointments.filtersets import AppointmentFilterBackend, AppointmentFilterSet
from appointments.models import Appointment, AppointmentQuerySet, Department
from appointments.representation import CallerIds, page, representation, visible_one
from appointments.search import READ_WHOLE_UP_TO
from appointments.services import (
    DryRun,
    appointment_cancel,
    appointment_cancel_dry_run,
    appointment_create,
    appointment_update,
    appointment_update_dry_run,
    department_for_create,
)
from config.api.http import (
    DRY_RUN_HEADER,
    apply_method_override,
    dry_run_requested,
    if_match_precondition,
    if_none_match_hits,
    representation_etag,
    request_body,
)
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.pagination import LaravelPagination
from config.api.rendering import RenderedResponse, api_json, escaped
from config.api.schema import (
    DRY_RUN_PARAMETER,
    DRY_RUN_RESPONSE_HEADER,
    ERROR_RESPONSES,
    IF_MATCH_HEADER,
    form_bodies,
)
from config.api.validation import validated
from config.transactions import all_or_nothing

# Only the actions on one appointment have it in their path (a class-level parameter would give it to list
# and create too, which blocks Swagger's "Try it out" and makes client generators drop both).
APPOINTMENT_ID = OpenApiParameter(
    "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
)
ONE_APPOINTMENT = {200: AppointmentEnvelopeSerializer, **ERROR_RESPONSES}
# A change's answers, which `?dry_run=true` extends (issue 20.4).
CHANGED_APPOINTMENT = {200: AppointmentChangeEnvelopeSerializer, **ERROR_RESPONSES}


@extend_schema(tags=["appointments"])
class AppointmentViewSet(viewsets.GenericViewSet):
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()  # the schema's model; requests go through get_queryset()
    content_negotiation_class = AlwaysJSONNegotiation
    lookup_url_kwarg = "appointment"
    filter_backends = [AppointmentFilterBackend]
    filterset_class = AppointmentFilterSet
    pagination_class = LaravelPagination
    dry_run = False  # set by _valid() from `?dry_run=` on a change

    def get_queryset(self) -> AppointmentQuerySet:
        """The caller's appointments (tenancy); each action reads from it what it answers with."""
        return Appointment.objects.visible_to(self.request.user)

    def _pk(self) -> uuid.UUID:
        # A malformed id, a missing appointment and another department's appointment all get the same 404.
        try:
            return uuid.UUID(str(self.kwargs["appointment"]))
        except ValueError:
            raise exceptions.NotFound() from None

    def _valid(self, pk: uuid.UUID, serializer_class: type[Serializer], **kwargs: Any) -> Serializer:
        """The request's body, checked by `serializer_class`. When it is refused (400, 415, 422) and the
        appointment is not the caller's, the answer is the 404, as if the appointment had been looked up first:
        a valid request finds it (or not) under its lock, in the service, with no read before."""
        try:
            self.dry_run = dry_run_requested(self.request)
            serializer = validated(serializer_class, request_body(self.request), **kwargs)
        except exceptions.APIException:
            if not self.get_queryset().filter(pk=pk).exists():
                raise exceptions.NotFound() from None
            raise
        return serializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if apply_method_override(request):
            self.action = self.action_map.get("patch", self.action)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        if self.dry_run:  # every answer to a dry run says so, its errors too: nothing was changed
            response[DRY_RUN_HEADER] = "true"
        return super().finalize_response(request, response, *args, **kwargs)

    def _tried(self, attempt: Callable[[], DryRun]) -> Response:
        """A dry run's answer: the real call's status and `data`, what it would cause beside it, and the ETag of the
        appointment as it is (unchanged: a client may make the change with it in If-Match)."""
        try:
            tried = attempt()
        except Appointment.DoesNotExist:
            raise exceptions.NotFound() from None
        body = {"data": tried.shown, "dry_run": tried.summary()}
        return Response(body, status=status.HTTP_200_OK, headers={"ETag": representation_etag(tried.current)})

    def _answer(self, data: Any, status_code: int, text: str | None = None) -> Response:
        """`{"data": data}` with its ETag, the representation rendered once for both (`text`: its `api_json`, when
        the service rendered it already for the events)."""
        text = api_json(data) if text is None else text
        etag = representation_etag(data, text)
        return RenderedResponse(data, escaped(text), status=status_code, headers={"ETag": etag})

    def _written(self, write: Callable[[], Appointment], status_code: int = status.HTTP_200_OK) -> Response:
        """The write and its answer in one transaction: should anything fail before the answer is ready, the
        write rolls back too, so an error answer always means nothing changed and a client that retries after a
        503 never makes a second appointment. The service answers with the row it locked and wrote (and the
        representation it built after writing); nothing is read again."""
        with all_or_nothing():
            try:
                appointment = write()
            except Appointment.DoesNotExist:
                raise exceptions.NotFound() from None
            recorded = appointment.recorded_representation
            if recorded is None:
                return self._answer(representation(appointment), status_code)
            return self._answer(recorded, status_code, appointment.recorded_json)

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
        ids: list[Any] | None
        # Read with statements compiled once: the default list, and a filtered one but for `q` and refused values.
        compiled = (
            filtered_ids(request.user, request.query_params) if AppointmentFilterBackend.filters(request) else None
        )
        if compiled is None and AppointmentFilterBackend.filters(request):
            rows = self.filter_queryset(self.get_queryset()).values_list("pk", flat=True)
            few = READ_WHOLE_UP_TO if request.query_params.get("q", "").strip() else 0
            ids = self.paginator.paginate_queryset(rows, request, view=self, whole_up_to=few)  # type: ignore[union-attr,call-arg]
        else:
            reader = compiled if compiled is not None else CallerIds(request.user)
            ids = self.paginator.paginate_queryset(reader, request, view=self)  # type: ignore[union-attr,arg-type]
        assert ids is not None
        return self.get_paginated_response(page(ids))

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
        serializer = validated(AppointmentCreateSerializer, body)
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
        found = visible_one(self.request.user, self._pk())
        if found is None:
            raise exceptions.NotFound()
        response = self._answer(found, status.HTTP_200_OK)
        if if_none_match_hits(request.headers.get("If-None-Match"), response["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response

    @extend_schema(
        summary="Update an appointment",
        parameters=[APPOINTMENT_ID, IF_MATCH_HEADER, DRY_RUN_PARAMETER, DRY_RUN_RESPONSE_HEADER],
        request=AppointmentUpdateSerializer,
        examples=[examples.UPDATE],
        responses=CHANGED_APPOINTMENT,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send only the fields to change.

        Fields required in the representation cannot be set to null but may be omitted; the same holds inside
        `claimant`. Clients that cannot send PATCH (multipart forms) use `POST` with `?_method=PATCH`, a
        `_method=PATCH` form field or an `X-HTTP-Method-Override: PATCH` header. An optional `If-Match` with the
        ETag of a GET makes the change conditional (412 when stale). `?dry_run=true` answers as the change would,
        with what it would cause under `dry_run`, and changes nothing.
        """
        pk = self._pk()
        serializer = self._valid(pk, AppointmentUpdateSerializer, partial=True)
        current_etag = lambda locked: representation_etag(representation(locked))  # noqa: E731
        precondition = if_match_precondition(request.headers.get("If-Match"), current_etag)
        if self.dry_run:
            return self._tried(
                lambda: appointment_update_dry_run(
                    appointment=Appointment(pk=pk),
                    viewer=request.user,
                    data=serializer.validated_data,
                    actor=request.user,
                    precondition=precondition,
                )
            )
        return self._written(
            lambda: appointment_update(
                appointment=Appointment(pk=pk),
                viewer=request.user,
                data=serializer.validated_data,
                actor=request.user,
                precondition=precondition,
            )
        )

    @extend_schema(
        summary="Update an appointment (method override)",
        operation_id="appointments_partial_update_by_post",
        parameters=[
            APPOINTMENT_ID,
            OpenApiParameter("_method", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, enum=["PATCH"]),
            IF_MATCH_HEADER,
            DRY_RUN_PARAMETER,
            DRY_RUN_RESPONSE_HEADER,
        ],
        request=form_bodies(AppointmentUpdateSerializer),
        examples=[examples.UPDATE],
        responses=CHANGED_APPOINTMENT,
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
        parameters=[APPOINTMENT_ID, DRY_RUN_PARAMETER, DRY_RUN_RESPONSE_HEADER],
        request=CancelSerializer,
        examples=[examples.CANCEL],
        responses=CHANGED_APPOINTMENT,
    )
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancels with an optional reason.

        The same rules as a PATCH to `status: cancelled`, except that an appointment already completed,
        cancelled or a no-show cannot be cancelled (422). `?dry_run=true` answers as the cancel would, with what it
        would cause under `dry_run`, and changes nothing.
        """
        pk = self._pk()
        reason = self._valid(pk, CancelSerializer).validated_data.get("cancellation_reason")
        if self.dry_run:
            return self._tried(
                lambda: appointment_cancel_dry_run(
                    appointment=Appointment(pk=pk), viewer=request.user, reason=reason, actor=request.user
                )
            )
        return self._written(
            lambda: appointment_cancel(
                appointment=Appointment(pk=pk), viewer=request.user, reason=reason, actor=request.user
            )
        )


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
