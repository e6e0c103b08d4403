"""appointments/hooks.py: what appointments need from the apps above, filled by them from their ready()."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from appointments import hooks


def test_a_slot_nobody_filled_says_what_is_missing() -> None:
    slot: hooks.Slot[int] = hooks.Slot("the answer")
    with pytest.raises(ImproperlyConfigured, match="Nothing provides the answer"):
        slot.get()


def test_meetings_fill_every_hook_once_however_often_ready_runs() -> None:
    apps.get_app_config("meetings").ready()  # as tests and reloads run it again
    for slot in (
        hooks.claimant_waits,
        hooks.meeting_field,
        hooks.participants_panel,
        hooks.claimant_appeared_at,
        hooks.claimant_in_waiting_room,
    ):
        slot.get()
    assert [part.name for part in hooks.locked_parts] == ["meeting"]
    assert len(list(hooks.after_create)) == len(list(hooks.after_change)) == len(list(hooks.history_sources)) == 1
