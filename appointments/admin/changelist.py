"""The appointment list's changelist: a search's matches read once (issue 26.3).

Django's changelist reads a search's matches again for each thing it shows: the count (capped, config.admin), the
page, and the date hierarchy's first and last time (appointments.templatetags.appointment_admin); each statement
finds every match anew (the search's array of ids, each looked up by primary key: appointments.search), and the page
joins the claimant, meeting, agent and department of every match before the 50 shown are sorted. With a search,
this changelist reads the matches' ids once, in the list's order with their times, as many as the count reads (its
cap and one): their number is the count, their first and last times the date hierarchy's bounds, and the page's
slice of them the ids whose rows, with their joins, the page reads by primary key. Without a search the list is
Django's, and the bounds are read as before. What the page shows, its count and its hierarchy are the same.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import CappedCountPaginator


class AppointmentChangeList(ChangeList):
    # The times of every match, read with their ids (a search whose matches the read held whole), else None.
    times: list[datetime] | None = None

    def get_results(self, request: HttpRequest) -> None:
        if not self.query.strip():  # a blank search narrows nothing (appointments.search): Django's list
            super().get_results(request)
            return
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        assert isinstance(paginator, CappedCountPaginator)
        field = self.date_hierarchy or "appointment_at"
        # The ordering is the list's (its id last), on the appointment's own columns unless a column's sort names
        # a relation's (then that join alone): values_list drops the page's select_related.
        read = list(self.queryset.values_list("pk", field)[: paginator.cap + 1])
        paginator.__dict__["count"] = len(read)  # what its count (a cached_property) reads: at most cap + 1
        result_count = paginator.count
        full_result_count = self.root_queryset.count() if self.model_admin.show_full_result_count else None
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            shown = read if len(read) <= paginator.cap else None  # more than a cap under 200 (a test's): all of them
        else:
            try:
                page = paginator.page(self.page_num)  # checks the number against the count, as Django's list
            except InvalidPage as invalid:
                raise IncorrectLookupParameters from invalid
            shown = read[page.start_index() - 1 : page.end_index()]
        if len(read) <= paginator.cap:
            self.times = [when for _pk, when in read]
        self.result_count = result_count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = not self.show_full_result_count or bool(full_result_count)
        self.full_result_count = full_result_count
        self.result_list = self.queryset._clone() if shown is None else self._rows([pk for pk, _when in shown])
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator

    def _rows(self, ids: list[Any]) -> QuerySet[Any]:
        """The rows of these appointments with the list's joins, in the list's order (the ids' own)."""
        rows = self.apply_select_related(self.root_queryset.filter(pk__in=ids))
        return rows.order_by(*self.queryset.query.order_by)

    def date_bounds(self, field: str) -> tuple[date, date] | None:
        """The dates of the first and the last appointment listed (the date hierarchy's years), or None for none:
        from a search's read, or every row on this one page, else two index-ordered LIMIT 1 reads."""
        if self.times is not None:
            shown = self.times
        elif not self.multi_page:  # every row is on this page (a narrow filter): it holds the bounds
            shown = [getattr(row, field) for row in self.result_list]
        else:
            ordered = self.queryset.values_list(field, flat=True)
            first, last = ordered.order_by(field).first(), ordered.order_by(f"-{field}").first()
            shown = [first, last] if first is not None and last is not None else []
        return (min(shown).date(), max(shown).date()) if shown else None
