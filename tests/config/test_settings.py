"""The settings helpers fail loudly on malformed values instead of quietly meaning "off"."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool, env_int, env_list, env_url


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_refuses_anything_else(monkeypatch, raw: str) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_and_defaults(monkeypatch) -> None:
    monkeypatch.delenv("X_INT", raising=False)
    assert env_int("X_INT", 7) == 7
    monkeypatch.setenv("X_INT", "12")
    assert env_int("X_INT", 7) == 12
    monkeypatch.setenv("X_INT", "12s")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 7)


def test_env_list_and_url(monkeypatch) -> None:
    monkeypatch.setenv("X_LIST", " a.example.com, ,b.example.com ")
    assert env_list("X_LIST", []) == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("X_URL", "https://video.example.com/")
    assert env_url("X_URL", "https://meet.jit.si") == "https://video.example.com"
    monkeypatch.setenv("X_URL", "video.example.com")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        env_url("X_URL", "https://meet.jit.si")
