"""The back office's search reads its matches once (issue 26.3; appointments.admin.changelist): one statement finds
them, in the list's order with their times, and gives the count, the date hierarchy's bounds and the page's ids; the
page reads only its rows by primary key, with their joins. What it shows is what Django's changelist showed, read by
count, page and bounds each finding the matches again."""

import re
from typing import Any

import pytest
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments.admin.appointment import AppointmentAdmin
from appointments.admin.changelist import AppointmentChangeList
from config.admin import CappedCountPaginator
from tests.factories import in_days, make_appointment
from tests.helpers import logged_in, staff

CHANGELIST = "/admin/appointments/appointment/"
SEARCH = {"q": "lovelace"}


@pytest.fixture
def desk(department) -> Client:
    return logged_in(staff("search-desk", department))


def book(department: Any, first: int, up_to: int) -> None:
    """Lovelaces first .. up_to - 1, over more than two years, two at some times (the id decides their order)."""
    for n in range(first, up_to):
        claimant = {"name": f"Ada Lovelace {n % 7}", "email": f"ada{n}@example.com", "data": {"Case number": "1"}}
        make_appointment(department, reference=f"L{n:03d}", appointment_at=in_days(1 + n * 37 % 800), claimant=claimant)


def searches(queries: CaptureQueriesContext) -> list[str]:
    """The statements that look for the text (SEARCH's)."""
    return [q["sql"] for q in queries if "%lovelace%" in q["sql"].lower()]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the one read of the matches is PostgreSQL's plan (appointments.search: an array of ids); SQLite's "
    "search is a subquery, read again where Django's changelist reads its queryset",
)
def test_a_search_reads_its_matches_once_however_many_there_are(
    desk, department, other_department, monkeypatch
) -> None:
    monkeypatch.setattr(AppointmentAdmin, "list_per_page", 5)
    make_appointment(department, reference="OTHER", claimant={"name": "Grace Hopper", "data": {"Case number": "1"}})
    make_appointment(other_department, reference="THEIRS", claimant={"name": "Ada Lovelace"})
    counted: list[int] = []
    have = 0
    for matches in (3, 30):
        book(department, have, matches)
        have = matches
        desk.get(CHANGELIST, SEARCH)
        with CaptureQueriesContext(connection) as queries:
            response = desk.get(CHANGELIST, {**SEARCH, "p": "2" if matches > 5 else "1"})
        cl = response.context["cl"]
        assert cl.result_count == matches
        assert len(cl.result_list) == min(matches, 5)
        found = searches(queries)
        assert len(found) == 1, found  # one read finds them: no count, no bounds, no page that searches again
        assert f"LIMIT {CappedCountPaginator.cap + 1}" in found[0]
        assert "COUNT(" not in found[0].upper()
        # The page: its rows by primary key, with their joins, and nothing else of the appointments' read.
        page = [q["sql"] for q in queries if '"appointments_appointment"."id" IN (' in q["sql"]]
        assert len(page) == 1
        assert '"claimants_claimant"' in page[0]
        assert "LIMIT" not in page[0]
        counted.append(len(queries))
    assert counted[0] == counted[1], counted


def shown(client: Client, params: dict[str, str]) -> dict[str, Any]:
    """What a changelist shows: its rows in order, the count and its pages, the date hierarchy and the paginator."""
    response = client.get(CHANGELIST, params)
    if response.status_code != 200:  # a page past the last: Django's redirect to the list with ?e=1
        return {"status": response.status_code, "to": response.get("Location")}
    cl = response.context["cl"]
    page = response.content.decode()
    hierarchy = re.search(r'<nav class="toplinks">.*?</nav>', page, re.S)
    return {
        "rows": [row.reference for row in cl.result_list],
        "count": cl.result_count,
        "full count": cl.full_result_count,
        "pages": (cl.multi_page, cl.can_show_all, cl.paginator.num_pages, cl.show_admin_actions),
        "date hierarchy": hierarchy.group(0) if hierarchy else None,
        "paginator": re.search(r'<p class="paginator">.*?</p>', page, re.S).group(0),  # type: ignore[union-attr]
    }


class ReadEachTime(AppointmentChangeList):
    """Django's changelist as it was: count, page and the date hierarchy's bounds each read the matches."""

    get_results = ChangeList.get_results


QUERIES = [
    SEARCH,
    {**SEARCH, "p": "2"},
    {**SEARCH, "p": "4"},  # the last page, shorter
    {**SEARCH, "o": "5"},  # by reference
    {**SEARCH, "o": "-3.5"},  # by the claimant's name (a relation's column), then the reference backwards
    {**SEARCH, "o": "-1", "p": "3"},
    {**SEARCH, "all": ""},  # every match on one page
    {**SEARCH, "show": "week"},  # a view with its own order (what is to come first)
    {**SEARCH, "appointment_at__year": str(in_days(1).year)},  # the date hierarchy's months
    {"q": "ada1"},  # a page or less
    {"q": "L02"},  # by reference
    {"q": "nobody"},
    {"q": "   "},  # blank: Django's list (today's)
]


@pytest.mark.parametrize("cap", [CappedCountPaginator.cap, 12])  # 12: the count stops at its cap ("more than")
def test_a_search_shows_what_it_showed_when_each_part_read_the_matches(desk, department, monkeypatch, cap) -> None:
    monkeypatch.setattr(AppointmentAdmin, "list_per_page", 5)
    monkeypatch.setattr(CappedCountPaginator, "cap", cap)
    book(department, 0, 18)
    make_appointment(department, reference="OTHER", claimant={"name": "Grace Hopper", "data": {"Case number": "1"}})
    now = {str(params): shown(desk, params) for params in QUERIES}
    monkeypatch.setattr(AppointmentAdmin, "get_changelist", lambda self, request, **kwargs: ReadEachTime)
    before = {str(params): shown(desk, params) for params in QUERIES}
    assert now == before
    assert now[str(SEARCH)]["count"] == min(18, cap + 1)  # a count stops at its cap and one
    assert len(now[str({**SEARCH, "p": "2"})]["rows"]) == 5  # the pages hold rows, the hierarchy years
    assert "appointment_at__year=" in now[str(SEARCH)]["date hierarchy"]
    assert ("more than 12" in now[str(SEARCH)]["paginator"]) == (cap == 12)
