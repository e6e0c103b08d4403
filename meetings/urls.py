from django.urls import path

from meetings import change_views, device_views, statement, views
from meetings.page_language import text_catalogue

urlpatterns = [
    path("join/i18n/<str:language>.js", text_catalogue, name="join-i18n"),
    # Before the link's own page: no link is this short (meetings.views._TOKEN).
    path("join/accessibility", statement.accessibility_statement, name="join-accessibility"),
    path("join/<str:token>", views.join_page, name="join"),
    path("join/<str:token>/status", views.join_status, name="join-status"),
    path("join/<str:token>/calendar.ics", views.calendar_file, name="join-calendar"),
    path("join/<str:token>/speed-test", device_views.speed_test, name="join-speed-test"),
    path("join/<str:token>/device-check", device_views.device_check, name="join-device-check"),
    path("join/<str:token>/test-call", device_views.test_call, name="join-test-call"),
    path("join/<str:token>/change", change_views.change_page, name="join-change"),
    path("join/<str:token>/identity", views.identity_check, name="join-identity"),
    path("join/<str:token>/consent", views.consent, name="join-consent"),
    path("join/<str:token>/join", views.join, name="join-join"),
    path("join/<str:token>/leave", views.leave, name="join-leave"),
]
