from django.urls import path

from desk import views

app_name = "desk"

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
