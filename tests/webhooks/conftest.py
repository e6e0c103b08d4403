"""The webhook tests' DNS: names resolved without a network, so the address rules run on known answers."""

import socket
from typing import Any

import pytest
from rest_framework.test import APIClient

from appointments.models import Department
from tests.support import Persona, persona

# example.com's address: a public one.
PUBLIC = "93.184.215.14"


class FakeDNS(dict[str, list[str]]):
    """Host name -> the addresses it resolves to ([] : it does not resolve); every other *.example.com name is
    public, and anything else (literal addresses, localhost) goes to the system's resolver."""

    def answer(self, host: Any, port: Any) -> list[Any] | None:
        if not isinstance(host, str):
            return None
        addresses = self.get(host, [PUBLIC] if host.endswith(".example.com") else None)
        if addresses is None:
            return None
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        answer = fake.answer(host, port)
        return answer if answer is not None else real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


MANAGERS = "Department managers"


@pytest.fixture
def manager(department: Department) -> Persona:
    """A department manager with a token: who manages webhook endpoints."""
    return persona("manager", department, group=MANAGERS)


@pytest.fixture
def other_manager(other_department: Department) -> Persona:
    return persona("other-manager", other_department, group=MANAGERS)


@pytest.fixture
def api(manager: Persona) -> APIClient:
    """The webhook tests call the API as a manager (an agent's token may not manage endpoints)."""
    return manager.client()
