"""config.registry: how an app lower in the layers gets what an app above it provides."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.registry import Registry, Slot


def test_a_slot_nobody_filled_says_what_is_missing() -> None:
    slot: Slot[int] = Slot("the answer")
    with pytest.raises(ImproperlyConfigured, match="Nothing provides the answer"):
        slot.get()
    slot.provide(42)
    slot.provide(43)  # ready() run again
    assert slot.get() == 43


def test_a_name_registered_again_is_replaced_in_its_place() -> None:
    registry: Registry[str] = Registry()
    registry.register("first", "a")
    registry.register("second", "b")
    registry.register("first", "c")
    assert list(registry) == ["c", "b"]
