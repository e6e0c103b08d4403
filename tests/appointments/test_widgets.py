"""The back office's date and time inputs write what the browser's inputs read, whatever the language (issue
17.1): en-GB's 17/03/1984 in <input type="date"> is shown blank and posted empty."""

from datetime import date, datetime, time

from django.utils import translation

from appointments.widgets import DateInput, SplitDateTimeInput, TimeInput


def test_a_date_is_written_yyyy_mm_dd_in_every_language() -> None:
    with translation.override("en-gb"):
        html = DateInput().render("born", date(1984, 3, 17))
    assert 'type="date"' in html
    assert 'value="1984-03-17"' in html


def test_a_posted_date_comes_back_as_it_was_posted() -> None:
    assert 'value="2026-05-01"' in DateInput().render("day", "2026-05-01")


def test_a_time_keeps_its_seconds_only_when_it_has_some() -> None:
    assert 'value="14:45"' in TimeInput().render("at", time(14, 45))
    assert "step" not in TimeInput().render("at", time(14, 45))
    with_seconds = TimeInput().render("at", time(14, 45, 30))
    assert 'value="14:45:30"' in with_seconds
    assert 'step="1"' in with_seconds  # else the browser offers whole minutes and the seconds would be lost


def test_each_input_of_a_moment_has_its_own_label() -> None:
    with translation.override("en-gb"):
        html = SplitDateTimeInput().render("appointment_at", datetime(2027, 3, 2, 9, 15), {"id": "id_appointment_at"})
    assert (
        '<label for="id_appointment_at_0">Date</label><input type="date" name="appointment_at_0" value="2027-03-02"'
        in html
    )
    assert (
        '<label for="id_appointment_at_1">Time</label><input type="time" name="appointment_at_1" value="09:15"' in html
    )
