"""appointments/hooks.py: what appointments need from the apps above, filled by them from their ready()."""

from django.apps import apps

from appointments import hooks
from appointments.admin.views import registered_routes
from config.admin import departments_visible_to
from events.services import representation_reader


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
    assert len(list(hooks.after_create)) == len(list(hooks.after_change)) == 1
    # The history's sources: meetings' once, beside the desk's notes (issue 24.3).
    assert [name for name, _source in hooks.history_sources.items() if name.startswith("meetings:")] == [
        "meetings: the meeting"
    ]
    assert len(list(hooks.change_foreseen)) == 1
    names = [name for name, _routes in registered_routes.items()]
    assert [name for name in names if name.startswith("meetings:")] == ["meetings: the meeting pages"]
    assert len(names) == len(set(names))  # privacy's and notifications' pages beside meetings', each once


def test_appointments_fill_what_config_and_the_outbox_ask_for() -> None:
    apps.get_app_config("appointments").ready()
    departments_visible_to.get()
    representation_reader.get()
