from django.urls import path

from meetings import views

urlpatterns = [
    path("join/<str:token>", views.join_page, name="join"),
    path("join/<str:token>/status", views.join_status, name="join-status"),
    path("join/<str:token>/calendar.ics", views.calendar_file, name="join-calendar"),
    path("join/<str:token>/speed-test", views.speed_test, name="join-speed-test"),
    path("join/<str:token>/device-check", views.device_check, name="join-device-check"),
    path("join/<str:token>/identity", views.identity_check, name="join-identity"),
    path("join/<str:token>/consent", views.consent, name="join-consent"),
    path("join/<str:token>/join", views.join, name="join-join"),
    path("join/<str:token>/leave", views.leave, name="join-leave"),
]
