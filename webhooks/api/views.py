"""`/api/v1/webhooks`: a department's webhook endpoints, with the authentication, tenancy, errors and schema of
the rest of the API. Only a token whose user may manage endpoints (a department manager's) reaches them: any other
gets 403 on every route. A malformed, missing or another department's id is the same 404."""

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.models import Department
from appointments.services import department_for_create
from config.api.http import request_body
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.parsers import JSONParser
from config.api.schema import ERROR_RESPONSES
from webhooks.api.serializers import (
    DeliverySerializer,
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    EndpointWithSecretSerializer,
    RotateSecretSerializer,
)
from webhooks.models import Delivery, Endpoint
from webhooks.permissions import may_manage_endpoints
from webhooks.services import PingLimited, endpoint_create, endpoint_ping, endpoint_rotate_secret, endpoint_update

WEBHOOK_ID = OpenApiParameter("webhook", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The endpoint's id.")
LIST = inline_serializer("WebhookEndpointList", fields={"data": EndpointSerializer(many=True)})
ONE = inline_serializer("WebhookEndpointEnvelope", fields={"data": EndpointSerializer()})
CREATED = inline_serializer("WebhookEndpointCreated", fields={"data": EndpointWithSecretSerializer()})
ROTATED = inline_serializer("WebhookEndpointRotated", fields={"data": EndpointWithSecretSerializer()})
DELIVERIES = inline_serializer("WebhookDeliveryList", fields={"data": DeliverySerializer(many=True)})
QUEUED = inline_serializer(
    "WebhookPingQueued",
    fields={"data": inline_serializer("WebhookPing", fields={"delivery_id": serializers.UUIDField()})},
)
RECENT_DELIVERIES = 50


class ManagesEndpoints(permissions.IsAuthenticated):
    """The back office's rule (webhooks.permissions): a token without it gets 403 on every route, before any
    endpoint is looked up."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and may_manage_endpoints(request.user)


@extend_schema(tags=["webhooks"])
class WebhookViewSet(viewsets.GenericViewSet):
    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.none()
    permission_classes = [ManagesEndpoints]
    content_negotiation_class = AlwaysJSONNegotiation
    # New endpoints, with no form-posting clients of the original to serve: JSON only (another type is a 415).
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Endpoint]:
        return Endpoint.objects.filter(
            department__in=Department.objects.visible_to(self.request.user).values("pk")
        ).select_related("created_by")

    def get_object(self) -> Endpoint:
        try:
            pk = uuid.UUID(str(self.kwargs["webhook"]))
        except ValueError:
            raise exceptions.NotFound() from None
        endpoint = self.get_queryset().filter(pk=pk).first()
        if endpoint is None:
            raise exceptions.NotFound()
        return endpoint

    @extend_schema(
        summary="List webhook endpoints", operation_id="webhooks_list", responses={200: LIST, **ERROR_RESPONSES}
    )
    def endpoints(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The endpoints of the caller's departments, oldest first."""
        return Response({"data": EndpointSerializer(self.get_queryset(), many=True).data})

    @extend_schema(
        summary="Create a webhook endpoint",
        request=EndpointCreateSerializer,
        responses={201: CREATED, **ERROR_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An https URL of yours that receives the department's events, signed as the Standard Webhooks
        specification says. The answer carries the `secret` that verifies them: keep it."""
        serializer = EndpointCreateSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        department = department_for_create(actor=request.user, department_id=data.pop("department_id", None))
        endpoint = endpoint_create(department=department, data=data, actor=request.user)
        return Response({"data": EndpointWithSecretSerializer(endpoint).data}, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Get a webhook endpoint", parameters=[WEBHOOK_ID], responses={200: ONE, **ERROR_RESPONSES})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"data": EndpointSerializer(self.get_object()).data})

    @extend_schema(
        summary="Update a webhook endpoint",
        parameters=[WEBHOOK_ID],
        request=EndpointUpdateSerializer,
        responses={200: ONE, **ERROR_RESPONSES},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send only the fields to change. `is_active: true` turns on an endpoint the service disabled."""
        endpoint = self.get_object()
        serializer = EndpointUpdateSerializer(data=request_body(request), partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, data=serializer.validated_data)
        return Response({"data": EndpointSerializer(endpoint).data})

    @extend_schema(
        summary="Delete a webhook endpoint",
        parameters=[WEBHOOK_ID],
        responses={204: OpenApiResponse(description="Deleted, with its deliveries."), **ERROR_RESPONSES},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={202: QUEUED, **ERROR_RESPONSES},
    )
    def ping(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A `webhook.test` event for this endpoint alone, delivered by the worker (not within this request):
        follow it in the endpoint's deliveries."""
        try:
            delivery = endpoint_ping(endpoint=self.get_object())
        except PingLimited as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from None
        return Response({"data": {"delivery_id": str(delivery.pk)}}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="List an endpoint's recent deliveries",
        operation_id="webhooks_deliveries_list",
        parameters=[WEBHOOK_ID],
        responses={200: DELIVERIES, **ERROR_RESPONSES},
    )
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The 50 most recent deliveries, newest first, each with its attempts (status code or error, time,
        duration, the first kilobyte of the answer)."""
        recent = (
            Delivery.objects.filter(endpoint=self.get_object())
            .select_related("event")
            .prefetch_related("attempt_set")
            .order_by("-created_at")[:RECENT_DELIVERIES]
        )
        return Response({"data": DeliverySerializer(recent, many=True).data})

    @extend_schema(
        summary="Rotate an endpoint's signing secret",
        operation_id="webhooks_rotate_secret",
        parameters=[WEBHOOK_ID],
        request=RotateSecretSerializer,
        responses={200: ROTATED, **ERROR_RESPONSES},
    )
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new `secret`, answered now. The previous one goes on signing every delivery beside it (two
        signatures in `webhook-signature`, as the Standard Webhooks specification allows) for `overlap_hours`
        (24 by default, 0 to 168), so a receiver can switch to the new one without missing a delivery."""
        endpoint = self.get_object()
        serializer = RotateSecretSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        overlap = timedelta(hours=serializer.validated_data["overlap_hours"])
        endpoint = endpoint_rotate_secret(endpoint=endpoint, overlap=overlap)
        return Response({"data": EndpointWithSecretSerializer(endpoint).data})
