"""Transport for a claimant's personal data (issue 21): erasure, legal holds, the access export and the search for a
person's appointments. Only a token whose user may manage personal data (privacy.permissions: a department
manager's) reaches them: any other gets 403 on every route. A malformed, missing or another department's
appointment is the same 404 as everywhere."""

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.api.serializers import AppointmentSerializer
from appointments.models import Appointment
from config.api.http import request_body
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.schema import ERROR_RESPONSES
from config.api.validation import validated
from config.transactions import all_or_nothing
from privacy.api.serializers import (
    ClaimantSearchSerializer,
    LegalHoldBodySerializer,
    LegalHoldSerializer,
    ReceiptSerializer,
)
from privacy.erasure import OnHold, appointment_erase
from privacy.export import claimants_search, personal_data_export, visible_appointment
from privacy.holds import legal_hold_lift, legal_hold_place
from privacy.permissions import may_manage_personal_data

APPOINTMENT_ID = OpenApiParameter(
    "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
)
EXPORT = inline_serializer(
    "PersonalDataExport",
    fields={"data": serializers.DictField(help_text="Everything held about the claimant, table by table.")},
)
FOUND = inline_serializer("ClaimantAppointments", fields={"data": AppointmentSerializer(many=True)})
RECEIPT = inline_serializer("ErasureReceipt", fields={"data": ReceiptSerializer()})
HOLD = inline_serializer("LegalHoldEnvelope", fields={"data": LegalHoldSerializer()})
ON_HOLD = OpenApiResponse(
    inline_serializer("OnHoldError", fields={"message": LegalHoldSerializer().fields["reason"].__class__()}),
    description="The appointment is on legal hold: the message gives the hold's reason; nothing changed.",
)


class OnLegalHold(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The appointment is on legal hold."


class ManagesPersonalData(permissions.IsAuthenticated):
    """The back office's rule (privacy.permissions): a token without it gets 403 on every route, before any
    appointment is looked up."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and may_manage_personal_data(request.user)


class PersonalDataViewSet(viewsets.GenericViewSet):
    permission_classes = [ManagesPersonalData]
    content_negotiation_class = AlwaysJSONNegotiation

    def _pk(self) -> uuid.UUID:
        try:
            return uuid.UUID(str(self.kwargs["appointment"]))
        except ValueError:
            raise exceptions.NotFound() from None

    @extend_schema(
        tags=["personal data"],
        summary="Erase the claimant's personal data",
        parameters=[APPOINTMENT_ID],
        request=None,
        responses={200: RECEIPT, 409: ON_HOLD, **ERROR_RESPONSES},
    )
    def erase(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace the claimant's name, email, phone number, date of birth, data values, the participants' names and
        links and the identity check's attempts with nothing, in the live rows and every copy (history, event
        payloads, webhook answers, notifications, task results, idempotency keys). The appointment's time, length,
        status, department, agent and outcome stay. Answers the receipt: when, and the rows changed per table; a
        second call answers the same receipt and changes nothing. Subscribers get `appointment.erased`. An
        appointment on legal hold is refused (409, the hold's reason)."""
        pk = self._pk()
        with all_or_nothing():
            try:
                erasure = appointment_erase(appointment_id=pk, actor=request.user, viewer=request.user)
            except Appointment.DoesNotExist:
                raise exceptions.NotFound() from None
            except OnHold as held:
                raise OnLegalHold(f"The appointment is on legal hold: {held.hold.reason}") from None
            return Response({"data": ReceiptSerializer(erasure).data})

    @extend_schema(
        tags=["personal data"],
        summary="Place a legal hold",
        parameters=[APPOINTMENT_ID],
        request=LegalHoldBodySerializer,
        responses={201: HOLD, **ERROR_RESPONSES},
    )
    def hold(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Keep the appointment from erasure, with a reason and an optional last day: the retention task skips it
        and an erasure is refused (409) until the hold is lifted or its last day has passed. A hold in force is
        replaced (and kept on record, lifted)."""
        pk = self._pk()
        body = validated(LegalHoldBodySerializer, request_body(request)).validated_data
        with all_or_nothing():
            try:
                hold = legal_hold_place(
                    appointment_id=pk,
                    reason=body["reason"],
                    until=body.get("until"),
                    actor=request.user,
                    viewer=request.user,
                )
            except Appointment.DoesNotExist:
                raise exceptions.NotFound() from None
            return Response({"data": LegalHoldSerializer(hold).data}, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["personal data"],
        summary="Lift the legal hold",
        parameters=[APPOINTMENT_ID],
        request=None,
        responses={204: None, **ERROR_RESPONSES},
    )
    def lift(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Lift the appointment's hold (a hold lifted, or none, answers the same)."""
        pk = self._pk()
        with all_or_nothing():
            try:
                legal_hold_lift(appointment_id=pk, actor=request.user, viewer=request.user)
            except Appointment.DoesNotExist:
                raise exceptions.NotFound() from None
            return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["personal data"],
        summary="Everything held about the claimant",
        parameters=[APPOINTMENT_ID],
        responses={200: EXPORT, **ERROR_RESPONSES},
    )
    def export(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One JSON document with everything the service holds about the appointment's claimant (Art. 15): their
        details, and every table that holds any of them (history, event payloads, webhook answers, notifications,
        task results, idempotency keys), with field names and times in the department's zone and in UTC. The
        request is recorded (who, when)."""
        appointment = visible_appointment(request.user, self._pk())
        if appointment is None:
            raise exceptions.NotFound()
        with all_or_nothing():
            return Response({"data": personal_data_export(appointment=appointment, actor=request.user, door="api")})

    @extend_schema(
        tags=["personal data"],
        summary="A person's appointments",
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Compared in any case."),
            OpenApiParameter("phone", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Compared in E.164."),
            OpenApiParameter("date_of_birth", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="YYYY-MM-DD."),
        ],
        responses={200: FOUND, **ERROR_RESPONSES},
    )
    def claimants(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's appointments whose claimant has this email or phone number (and date of birth, when
        given), at most 100, oldest first: to answer a person's request for all their appointments. The request is
        recorded (who, when, how many found; not what was searched for)."""
        query = validated(ClaimantSearchSerializer, request.query_params.dict()).validated_data
        with all_or_nothing():
            found = claimants_search(
                user=request.user,
                email=query.get("email"),
                phone=query.get("phone"),
                date_of_birth=query.get("date_of_birth"),
                door="api",
            )
            return Response({"data": found})
