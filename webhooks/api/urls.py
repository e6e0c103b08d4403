from django.urls import re_path

from webhooks.api.views import WebhookViewSet

webhook_list = WebhookViewSet.as_view({"get": "endpoints", "post": "create"})
webhook_detail = WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
webhook_ping = WebhookViewSet.as_view({"post": "ping"})
webhook_deliveries = WebhookViewSet.as_view({"get": "deliveries"})
webhook_rotate_secret = WebhookViewSet.as_view({"post": "rotate_secret"})

urlpatterns = [
    re_path(r"^webhooks/?$", webhook_list, name="webhook-list"),
    re_path(r"^webhooks/(?P<webhook>[^/]+)/test/?$", webhook_ping, name="webhook-test"),
    re_path(r"^webhooks/(?P<webhook>[^/]+)/deliveries/?$", webhook_deliveries, name="webhook-deliveries"),
    re_path(r"^webhooks/(?P<webhook>[^/]+)/rotate-secret/?$", webhook_rotate_secret, name="webhook-rotate-secret"),
    re_path(r"^webhooks/(?P<webhook>[^/]+)/?$", webhook_detail, name="webhook-detail"),
]
