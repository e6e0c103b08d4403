from django.urls import re_path

from appointments.api.views import AppointmentViewSet

appointment_detail = AppointmentViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "post": "method_override"}
)

urlpatterns = [
    # The contract's paths have no trailing slash; one is accepted too.
    re_path(r"^appointments/(?P<appointment>[^/]+)/?$", appointment_detail, name="appointment-detail"),
]
