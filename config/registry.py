"""How an app lower in the layers (docs/layout.md, "Layers") gets what an app above it provides, without importing
it: the app above registers from its `AppConfig.ready()`.

Two kinds, one way each:
- `Slot`: one thing (a function, a reader) that one app provides. Reading a slot nobody filled is a configuration
  error (the app that fills it is not installed), said by name rather than failing later as a None or a KeyError.
- `Registry`: things by name, in the order they were registered (INSTALLED_APPS). Registering a name again (ready()
  run twice, as tests and reloads do) replaces it in its place rather than adding a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Slot(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._value: T | None = None

    def provide(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        if self._value is None:
            raise ImproperlyConfigured(f"Nothing provides {self.name} (an app that registers it is not installed).")
        return self._value


class Registry(Generic[T]):
    def __init__(self) -> None:
        self._by_name: dict[str, T] = {}

    def register(self, name: str, value: T) -> None:
        self._by_name[name] = value

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._by_name.values()))

    def items(self) -> list[tuple[str, T]]:
        """The names with what each names, in registration order."""
        return list(self._by_name.items())
