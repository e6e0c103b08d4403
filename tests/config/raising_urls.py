"""The service's routes plus two that fail on purpose, for the tests of what an error leaves behind (mails, Sentry
events, log lines): one under /api/ (through DRF and its exception handler) and one on a claimant's link."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as service_urlpatterns


class Failure(RuntimeError):
    """What the views below raise."""


class FailingApiView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request: Request) -> Response:
        raise Failure("the API view failed")

    def post(self, request: Request) -> Response:
        name = request.data["name"]  # a local variable holding personal data
        raise Failure(f"the API view failed on a body of {len(name)} characters")


def failing_page(request: HttpRequest, token: str) -> HttpResponse:
    raise Failure("the page failed")


urlpatterns = [
    path("api/v1/failing", FailingApiView.as_view()),
    path("join/<str:token>/failing", failing_page),
    *service_urlpatterns,
]
