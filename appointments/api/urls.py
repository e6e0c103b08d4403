from django.urls import re_path

from appointments.api.slots import SlotViewSet
from appointments.api.timeline import AppointmentEventsViewSet
from appointments.api.views import AppointmentViewSet, DepartmentViewSet

appointment_list = AppointmentViewSet.as_view({"get": "list", "post": "create"})
appointment_detail = AppointmentViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "post": "method_override"}
)
appointment_cancel = AppointmentViewSet.as_view({"post": "cancel"})
department_list = DepartmentViewSet.as_view({"get": "list"})
department_slots = SlotViewSet.as_view({"get": "list"})
appointment_events = AppointmentEventsViewSet.as_view({"get": "list"})

# The contract's paths have no trailing slash; one is accepted too. An appointment's participants and guests are
# meetings' routes (meetings/api/urls.py): meetings sit above appointments (docs/layout.md, "Layers").
urlpatterns = [
    re_path(r"^appointments/?$", appointment_list, name="appointment-list"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/cancel/?$", appointment_cancel, name="appointment-cancel"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/events/?$", appointment_events, name="appointment-events"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/?$", appointment_detail, name="appointment-detail"),
    re_path(r"^departments/?$", department_list, name="department-list"),
    re_path(r"^departments/(?P<department>[^/]+)/slots/?$", department_slots, name="department-slots"),
]
