"""Transport for one appointment: GET and PATCH (and the original's POST `_method=PATCH` override).

Each action validates the shape with an input serializer, calls one service, reads the appointment back
through `get_queryset()` with its joins, and answers with the representation and its ETag.
"""

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from appointments.api.serializers import (
    AppointmentEnvelopeSerializer,
    AppointmentSerializer,
    AppointmentUpdateSerializer,
)
from appointments.models import Appointment, AppointmentQuerySet
from appointments.services import appointment_update
from config.api import AlwaysJSONNegotiation, PreconditionFailed
from config.schema import ERROR_RESPONSES, IF_MATCH_HEADER, METHOD_OVERRIDE_PARAMETERS

OVERRIDE_HEADER = "X-HTTP-Method-Override"


def representation_etag(data: Mapping[str, Any]) -> str:
    """A strong ETag: a digest of the exact representation, so any visible change changes it."""
    body = json.dumps(data, cls=JSONEncoder, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:40] + '"'


def _etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_passes(header: str, etag: str) -> bool:
    """RFC 9110 strong comparison: `*` matches any current representation; weak tags never match."""
    tags = _etags(header)
    return "*" in tags or etag in tags


def requested_override(request: Request) -> str | None:
    """The method a POST asks to be treated as: `_method` in the query or the form, or the override header."""
    value = request.query_params.get("_method") or request.headers.get(OVERRIDE_HEADER)
    if not value and request.content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        data = request.data
        value = data.get("_method") if isinstance(data, Mapping) else None
    return value.strip().upper() if isinstance(value, str) else None


@extend_schema(
    tags=["appointments"],
    parameters=[
        OpenApiParameter(
            "appointment", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the appointment."
        )
    ],
)
class AppointmentViewSet(viewsets.GenericViewSet):
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()  # the schema's model; requests go through get_queryset()
    content_negotiation_class = AlwaysJSONNegotiation
    lookup_url_kwarg = "appointment"

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
        # Laravel's method override: honoured on POST only, and only for PATCH, so a safe method never writes.
        if request.method == "POST" and requested_override(request) == "PATCH":
            request.method = "PATCH"
            request._request.method = "PATCH"
            self.action = self.action_map["patch"]

    def _respond(self, appointment: Appointment) -> Response:
        data = AppointmentSerializer(appointment).data
        etag = representation_etag(data)
        return Response({"data": data}, headers={"ETag": etag})

    @extend_schema(
        summary="Show an appointment",
        responses={
            200: AppointmentEnvelopeSerializer,
            304: OpenApiResponse(description="Not modified"),
            **ERROR_RESPONSES,
        },
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = self._respond(self.get_object())
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match and (
            "*" in _etags(if_none_match) or response["ETag"] in [t.removeprefix("W/") for t in _etags(if_none_match)]
        ):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response

    @extend_schema(
        summary="Update an appointment",
        description=(
            "Send only the fields to change. Fields required in the representation cannot be set to null but "
            "may be omitted; the same holds inside `claimant`. Clients that cannot send PATCH (multipart forms) "
            "use `POST` with `?_method=PATCH`, a `_method=PATCH` form field or an `X-HTTP-Method-Override: PATCH` "
            "header. An optional `If-Match` with the ETag of a GET makes the change conditional (412 when stale)."
        ),
        parameters=[*METHOD_OVERRIDE_PARAMETERS, IF_MATCH_HEADER],
        request=AppointmentUpdateSerializer,
        responses={200: AppointmentEnvelopeSerializer, **ERROR_RESPONSES},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        appointment = self.get_object()
        if not isinstance(request.data, Mapping):
            raise exceptions.ParseError("The request body must be a JSON object or a form.")
        serializer = AppointmentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if_match = request.headers.get("If-Match")

        def check_if_match(locked: Appointment) -> None:
            current = AppointmentSerializer(self.get_queryset().get(pk=locked.pk)).data
            if if_match is not None and not if_match_passes(if_match, representation_etag(current)):
                raise PreconditionFailed()

        appointment_update(
            appointment=appointment,
            data=serializer.validated_data,
            actor=request.user,
            precondition=check_if_match if if_match is not None else None,
        )
        return self._respond(self.get_queryset().get(pk=appointment.pk))

    @extend_schema(
        summary="Update an appointment (method override)",
        description=(
            "The original's workaround for PHP, which cannot parse multipart bodies on PATCH: `POST` with "
            "`_method=PATCH` (query, form field or `X-HTTP-Method-Override` header) is exactly the PATCH. "
            "Without the override, POST is not allowed here (405)."
        ),
        parameters=[
            OpenApiParameter("_method", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, enum=["PATCH"]),
            IF_MATCH_HEADER,
        ],
        request={
            "multipart/form-data": AppointmentUpdateSerializer,
            "application/x-www-form-urlencoded": AppointmentUpdateSerializer,
            "application/json": AppointmentUpdateSerializer,
        },
        responses={200: AppointmentEnvelopeSerializer, **ERROR_RESPONSES},
    )
    def method_override(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Reached only when a POST carried no PATCH override (initial() turns those into the PATCH action).
        raise exceptions.MethodNotAllowed(request.method or "POST")
