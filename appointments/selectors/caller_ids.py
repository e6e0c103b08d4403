"""The ids an unfiltered, unsorted list of appointments reads, and how many (appointments.selectors.CallerIds)."""

from __future__ import annotations

from typing import Any

from appointments.models import Appointment
from appointments.selectors.tally import tallied, tally_read
from config.prepared import HOW_MANY, PagedRead, VisibleTo

# The ids of a caller's appointments in the list's default order (and in reverse, for pages nearer the end), and how
# many there are: from the tally, else by COUNT(*) (the department's index alone), compiled once.
_IDS = VisibleTo(Appointment, lambda appointments: appointments.values_list("pk"))
_IDS_REVERSED = VisibleTo(Appointment, lambda appointments: appointments.reverse().values_list("pk"))
_COUNT = VisibleTo(Appointment, lambda appointments: appointments.order_by().values_list(HOW_MANY))
_TALLY = tally_read(lambda rows: rows)


class CallerIds(PagedRead):
    """The ids of the appointments `user` may see, in the list's default order (the model's, which ends with the id):
    what an unfiltered, unsorted list reads, with statements compiled once instead of for every request."""

    def __init__(self, user: Any, reversed_order: bool = False) -> None:
        super().__init__((_IDS, _IDS_REVERSED, _TALLY if tallied() else _COUNT), (user,), reversed_order)
        self.user = user
