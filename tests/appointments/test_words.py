"""Words people read (issue 24.5): the history and the timeline name each field as the form does and each value as
the form shows it (`Agent: none → Dana Reid`, `Status: Scheduled → Cancelled`, `Background blur: Yes → No`), never
the column (`agent: — → 1`, `features webcam background blurring enable: — → True`)."""

import html
import re
from typing import Any

from appointments.models import Appointment
from appointments.services import appointment_cancel, appointment_update
from appointments.timeline import CHANNELS
from ledger.models import Channel
from tests.factories import make_appointment
from tests.helpers import logged_in, staff

CHANGELIST = "/admin/appointments/appointment/"


def changed(department: Any) -> tuple[Any, Appointment]:
    desk = staff("desk", department)
    desk.first_name, desk.last_name = "Dana", "Reid"
    desk.save()
    appointment = make_appointment(department)
    assert appointment.agent_id is None
    appointment_update(
        appointment=appointment,
        data={"agent_id": desk.pk, "features_webcam_background_blurring_enable": False},
        actor=desk,
    )
    appointment_cancel(appointment=appointment, reason="", actor=desk)
    return desk, appointment


def text(html: str) -> str:
    return " ".join(html.replace("<strong>", "").replace("</strong>", "").split())


def test_the_history_says_each_change_as_the_form_does(department) -> None:
    desk, appointment = changed(department)
    page = text(logged_in(desk).get(f"{CHANGELIST}{appointment.pk}/history/").content.decode())
    assert "Agent: none → Dana Reid" in page
    assert "Background blur: Yes → No" in page
    assert "Status: Scheduled → Cancelled" in page
    assert "features webcam" not in page
    assert "agent: —" not in page.lower()
    assert f"Agent: none → {desk.pk}" not in page
    change_page = text(logged_in(desk).get(f"{CHANGELIST}{appointment.pk}/change/").content.decode())
    assert "Status: Scheduled → Cancelled" in change_page  # the page's recent changes


def test_the_timeline_says_each_change_in_words(department) -> None:
    desk, appointment = changed(department)
    page = text(logged_in(desk).get(f"{CHANGELIST}{appointment.pk}/timeline/").content.decode())
    assert "Changed by Dana Reid" in page
    assert "Agent: none → Dana Reid" in page
    assert "Background blur: Yes → No" in page
    assert "Status: Scheduled → Cancelled" in page
    assert "features_webcam" not in page
    assert "Status changed to cancelled" not in page


def test_the_timeline_says_through_which_door_in_words(department) -> None:
    desk, appointment = changed(department)
    page = logged_in(desk).get(f"{CHANGELIST}{appointment.pk}/timeline/").content.decode()
    cells = re.findall(r"<tr>\s*<td>\d+</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", page)
    doors = {html.unescape(cell) for cell in cells}
    assert len(cells) >= 3  # booked, changed, cancelled
    assert doors <= set(CHANNELS.values())
    assert not doors & set(Channel.values)  # never the ledger's own value (`back_office`)
