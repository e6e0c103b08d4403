from django.urls import re_path

from appointments.api.views import AppointmentViewSet, DepartmentViewSet
from meetings.api.views import ParticipantViewSet

appointment_list = AppointmentViewSet.as_view({"get": "list", "post": "create"})
appointment_detail = AppointmentViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "post": "method_override"}
)
appointment_cancel = AppointmentViewSet.as_view({"post": "cancel"})
department_list = DepartmentViewSet.as_view({"get": "list"})
participant_list = ParticipantViewSet.as_view({"get": "participants"})
guest_list = ParticipantViewSet.as_view({"post": "create"})
guest_detail = ParticipantViewSet.as_view({"delete": "destroy"})
participant_admit = ParticipantViewSet.as_view({"post": "admit"})

# The contract's paths have no trailing slash; one is accepted too.
urlpatterns = [
    re_path(r"^appointments/?$", appointment_list, name="appointment-list"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/cancel/?$", appointment_cancel, name="appointment-cancel"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/participants/?$", participant_list, name="participant-list"),
    re_path(
        r"^appointments/(?P<appointment>[^/]+)/participants/(?P<participant>[^/]+)/admit/?$",
        participant_admit,
        name="participant-admit",
    ),
    re_path(r"^appointments/(?P<appointment>[^/]+)/guests/?$", guest_list, name="guest-list"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/guests/(?P<guest>[^/]+)/?$", guest_detail, name="guest-detail"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/?$", appointment_detail, name="appointment-detail"),
    re_path(r"^departments/?$", department_list, name="department-list"),
]
