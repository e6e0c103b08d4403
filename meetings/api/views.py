"""Transport for an appointment's participants: list them, invite a guest, admit an interpreter or a guest from the
waiting room, revoke a guest's link.

The appointment's own representation is left as it is (integrations compare its keys); participants live on
their own endpoints under it, with the same authentication, tenancy, errors and schema.
"""

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.models import Appointment
from config.api.http import request_body
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.schema import ERROR_RESPONSES
from meetings.api.serializers import (
    GuestCreateSerializer,
    ParticipantSerializer,
    WaitingMessageCreateSerializer,
    WaitingMessageSerializer,
)
from meetings.models import Participant, Role
from meetings.selectors import appointment_to_invite_to, participants_shown_to
from meetings.services import participant_admit, participant_invite_guest, participant_revoke
from meetings.shape import participant_shown
from meetings.waiting import participant_send_message

APPOINTMENT_ID = OpenApiParameter(
    "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
)
PARTICIPANT_ID = OpenApiParameter(
    "participant", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The participant's id."
)
GUEST_ID = OpenApiParameter("guest", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The guest's id.")
LIST_ENVELOPE = inline_serializer("ParticipantList", fields={"data": ParticipantSerializer(many=True)})
ONE_ENVELOPE = inline_serializer("ParticipantEnvelope", fields={"data": ParticipantSerializer()})
MESSAGE_ENVELOPE = inline_serializer("WaitingMessageEnvelope", fields={"data": WaitingMessageSerializer()})


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise exceptions.NotFound() from None


@extend_schema(tags=["participants"])
class ParticipantViewSet(viewsets.GenericViewSet):
    serializer_class = ParticipantSerializer
    queryset = Participant.objects.none()
    content_negotiation_class = AlwaysJSONNegotiation

    def get_appointment(self) -> Appointment:
        # The same 404 as the appointment endpoints for a malformed, missing or another department's id.
        pk = _uuid(self.kwargs["appointment"])
        try:
            return Appointment.objects.select_related("claimant").visible_to(self.request.user).get(pk=pk)
        except Appointment.DoesNotExist:
            raise exceptions.NotFound() from None

    # Not named `list`: that name would make the schema describe a bare array instead of the `data` envelope.
    @extend_schema(
        summary="List an appointment's participants",
        parameters=[APPOINTMENT_ID],
        responses={200: LIST_ENVELOPE, **ERROR_RESPONSES},
    )
    def participants(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The agent, the claimant, the interpreter (when needed) and invited guests: each with their own join
        link, when they joined the waiting room, were admitted and left, and their identity check, recording
        consent and device check. Revoked links are listed with the time they were revoked."""
        people = participants_shown_to(request.user, _uuid(self.kwargs["appointment"]))
        if people is None:
            raise exceptions.NotFound()
        return Response({"data": [participant_shown(person) for person in people]})

    @extend_schema(
        summary="Invite a guest",
        parameters=[APPOINTMENT_ID],
        request=GuestCreateSerializer,
        responses={201: ONE_ENVELOPE, **ERROR_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A third party (a relative, a lawyer) with a link of their own; share the `url` it returns."""
        # What the invitation reads of the appointment, compiled once (the service takes the lock).
        appointment = appointment_to_invite_to(request.user, _uuid(self.kwargs["appointment"]))
        if appointment is None:
            raise exceptions.NotFound()
        serializer = GuestCreateSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        guest = participant_invite_guest(
            appointment=appointment, display_name=serializer.validated_data["display_name"], actor=request.user
        )
        guest.appointment = appointment
        return Response({"data": participant_shown(guest)}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Admit an interpreter or a guest",
        parameters=[APPOINTMENT_ID, PARTICIPANT_ID],
        request=None,
        responses={200: ONE_ENVELOPE, **ERROR_RESPONSES},
    )
    def admit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Let an interpreter or a guest who is in the waiting room into the meeting (at once when the session is
        running, else when it starts), as the agent does from the back office's waiting room. Admitting someone
        already let in changes nothing. A 422 on `participant` for the claimant (let in by starting the session),
        a revoked link, someone not in the waiting room, or an appointment that has ended."""
        appointment = self.get_appointment()
        person = Participant.objects.filter(appointment=appointment, pk=_uuid(kwargs["participant"])).first()
        if person is None:
            raise exceptions.NotFound()
        admitted = participant_admit(participant=person, actor=request.user)
        admitted.appointment = appointment
        return Response({"data": participant_shown(admitted)})

    @extend_schema(
        summary="Send a message to someone in the waiting room",
        parameters=[APPOINTMENT_ID, PARTICIPANT_ID],
        request=WaitingMessageCreateSerializer,
        responses={201: MESSAGE_ENVELOPE, **ERROR_RESPONSES},
    )
    def message(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A short message to the claimant, an interpreter or a guest waiting to be let in ("I am running ten
        minutes late"), as the agent sends it from the back office's waiting room: their page shows it at its next
        poll, a prepared message in their language, a text as written. Either `prepared` or `text`. A 422 on
        `participant` for someone not in the waiting room (or the agent)."""
        appointment = self.get_appointment()
        person = Participant.objects.filter(appointment=appointment, pk=_uuid(kwargs["participant"])).first()
        if person is None:
            raise exceptions.NotFound()
        person.appointment = appointment
        serializer = WaitingMessageCreateSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        message = participant_send_message(participant=person, actor=request.user, **serializer.validated_data)
        return Response({"data": WaitingMessageSerializer(message).data}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a guest's link",
        parameters=[APPOINTMENT_ID, GUEST_ID],
        responses={204: OpenApiResponse(description="Revoked (again: nothing changes)."), **ERROR_RESPONSES},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The link answers 404 from now on; the guest stays listed, with the time of revocation."""
        appointment = self.get_appointment()
        guest = Participant.objects.filter(appointment=appointment, role=Role.GUEST, pk=_uuid(kwargs["guest"])).first()
        if guest is None:
            raise exceptions.NotFound()
        participant_revoke(participant=guest, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
