"""The record of an appointment a person can hand over (issue 20.5): its ledger's entries in words, in the
department's zone, the chain's head and whether the chain verifies, as a PDF (fpdf2: pure Python, docs/dependencies.md).

It holds personal data (it is the evidence): it is answered to whoever may see the appointment and logged nowhere.
"""

from __future__ import annotations

from pathlib import Path

from django.http import HttpResponse
from django.utils import timezone
from fpdf import FPDF

from appointments.models import Appointment
from appointments.timeline import lines
from config.local_time import local_label
from ledger.services import Break, entries_of, verify

# DejaVu Sans (fonts/LICENSE: free to bundle and embed), so every name is printed as written: Welsh's ŵ and ŷ,
# Polish, Greek, Cyrillic. fpdf2's built-in fonts hold Latin-1 only. The PDF embeds the subset it uses.
FONTS = Path(__file__).resolve().parent / "fonts"
SANS = "dejavu"


def _document() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(SANS, "B", FONTS / "DejaVuSans-Bold.ttf")
    return pdf


def _paragraph(pdf: FPDF, height: float, text: str) -> None:
    """One paragraph across the page, left-aligned (fpdf2 justifies by default, which stretched a wrapped line's
    spaces), the next one below it."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT", align="L")


def record_pdf(appointment: Appointment) -> bytes:
    """The appointment's record as a PDF document."""
    zone = appointment.zone
    entries = list(entries_of(appointment.pk))
    broken: Break | None = verify(appointment.pk)
    pdf = _document()
    pdf.set_title(f"Record of appointment {appointment.reference}")
    pdf.set_creator("appointments service")
    pdf.add_page()
    pdf.set_font(SANS, style="B", size=14)
    _paragraph(pdf, 8, f"Record of appointment {appointment.reference}")
    pdf.set_font(SANS, size=9)
    about = [
        f"Department: {appointment.department.name} (times in {zone.key})",
        f"Claimant: {appointment.claimant.name or '(erased)'}",
        f"Appointment: {local_label(appointment.appointment_at, zone)}, {appointment.duration_in_minutes} minutes",
        f"Produced: {local_label(timezone.now(), zone)}",
        f"Entries: {len(entries)}",
        f"Chain head: {entries[-1].hash if entries else '(no entries)'}",
        "Chain verifies: yes" if broken is None else f"Chain verifies: NO, {broken}",
    ]
    for fact in about:
        _paragraph(pdf, 5, fact)
    pdf.ln(3)
    for line in lines(entries, zone):
        pdf.set_font(SANS, style="B", size=9)
        _paragraph(pdf, 5, f"{line.sequence}. {line.when} ({line.channel})")
        pdf.set_font(SANS, size=9)
        _paragraph(pdf, 5, line.sentence)
        pdf.set_font("courier", size=7)
        _paragraph(pdf, 4, line.hash)
        pdf.ln(1)
    return bytes(pdf.output())


def pdf_answer(appointment: Appointment) -> HttpResponse:
    """The record as a PDF download, for the API and the back office (personal data: never cached, never logged)."""
    response = HttpResponse(record_pdf(appointment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.reference}-record.pdf"'
    response["Cache-Control"] = "no-store"
    return response
