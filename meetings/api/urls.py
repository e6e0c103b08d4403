"""The /api/v1 routes of an appointment's participants and guests (trailing slash optional, as every API path)."""

from django.urls import re_path

from meetings.api.views import ParticipantViewSet

participant_list = ParticipantViewSet.as_view({"get": "participants"})
guest_list = ParticipantViewSet.as_view({"post": "create"})
guest_detail = ParticipantViewSet.as_view({"delete": "destroy"})
participant_admit = ParticipantViewSet.as_view({"post": "admit"})
participant_message = ParticipantViewSet.as_view({"post": "message"})

urlpatterns = [
    re_path(r"^appointments/(?P<appointment>[^/]+)/participants/?$", participant_list, name="participant-list"),
    re_path(
        r"^appointments/(?P<appointment>[^/]+)/participants/(?P<participant>[^/]+)/admit/?$",
        participant_admit,
        name="participant-admit",
    ),
    re_path(
        r"^appointments/(?P<appointment>[^/]+)/participants/(?P<participant>[^/]+)/messages/?$",
        participant_message,
        name="participant-message",
    ),
    re_path(r"^appointments/(?P<appointment>[^/]+)/guests/?$", guest_list, name="guest-list"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/guests/(?P<guest>[^/]+)/?$", guest_detail, name="guest-detail"),
]
