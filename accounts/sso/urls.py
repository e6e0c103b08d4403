from django.urls import include, path

from accounts.sso import views
from accounts.sso.provider import PROVIDER

urlpatterns = [
    path(
        f"{PROVIDER}/<str:provider_id>/",
        include(
            [
                path("login/", views.login, name=f"{PROVIDER}_login"),
                path("login/callback/", views.callback, name=f"{PROVIDER}_callback"),
            ]
        ),
    )
]
