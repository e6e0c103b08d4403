"""The live pages' sound option and their note (the waiting room, the open today list, the calendar): a screen
reader reading the page read "Sound when someone arrives for one of my appointments This page updates by itself."
as one sentence, the label and the note sharing a paragraph without a stop (found walking the waiting room,
2026-12-05). The note is a paragraph of its own; the option keeps its label."""

import re

import pytest

from tests.helpers import logged_in, staff

pytestmark = pytest.mark.django_db
PAGES = [
    "/admin/appointments/appointment/waiting-room/",
    "/admin/appointments/appointment/calendar/",
    "/admin/appointments/appointment/",  # today, the default
]


@pytest.mark.parametrize("url", PAGES)
def test_the_note_is_not_read_as_part_of_the_sound_options_label(department, url: str) -> None:
    response = logged_in(staff("desk", department)).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="live-sound">Sound when someone arrives for one of my appointments</label>' in html
    blocks = re.findall(r"<p\b[^>]*>(.*?)</p>", html, re.S)
    [option] = [block for block in blocks if 'for="live-sound"' in block]
    assert "updates by itself" not in option
    assert any(block.strip() == "This page updates by itself." for block in blocks)
