from django.urls import re_path

from privacy.api.views import PersonalDataViewSet

erase = PersonalDataViewSet.as_view({"post": "erase"})
export = PersonalDataViewSet.as_view({"get": "export"})
claimants = PersonalDataViewSet.as_view({"get": "claimants"})
legal_hold = PersonalDataViewSet.as_view({"post": "hold", "delete": "lift"})

urlpatterns = [
    re_path(r"^claimants/?$", claimants, name="claimant-search"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/personal-data/?$", export, name="appointment-personal-data"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/erase/?$", erase, name="appointment-erase"),
    re_path(r"^appointments/(?P<appointment>[^/]+)/legal-hold/?$", legal_hold, name="appointment-legal-hold"),
]
