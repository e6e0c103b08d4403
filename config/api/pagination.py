"""Laravel's length-aware paginator for every list endpoint."""

from typing import Any

from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 1 else default


def _totally_ordered(rows: Any) -> bool:
    """Whether `rows` (a queryset, or a reader that says so) are in an order whose last key is the id, so that no
    two rows tie and `reverse()` reads them exactly backwards."""
    if hasattr(rows, "totally_ordered"):
        return bool(rows.totally_ordered)
    query = getattr(rows, "query", None)
    if query is None or not getattr(rows, "ordered", False):
        return False
    order = list(query.order_by) or (list(rows.model._meta.ordering) if query.default_ordering else [])
    return bool(order) and str(order[-1]).lstrip("-") in ("id", "pk")


class LaravelPagination(BasePagination):
    """Laravel's length-aware paginator: `data`, `links.first/last/prev/next` and `meta`.

    As Laravel does, a page that is not a positive integer reads as 1, a page past the end is empty, and
    `per_page` falls back to the default (15) when malformed and is capped at 100. Links keep the other
    query parameters (filters, sort), so following `next` keeps the same list.
    """

    page_size = 15
    max_page_size = 100
    on_each_side = 3

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None, *, whole_up_to: int = 0
    ) -> list[Any]:
        """The page's rows, Laravel's exact total counted. With `whole_up_to`, a list read from its few matches
        (a search, appointments.search) is read whole in one statement when it has at most that many rows, and
        counted from what was read: counting it apart would read every match twice (issue 26.3). Longer lists, and
        every list without it, are counted and then sliced."""
        self.request = request
        # The links' path and the other parameters, read once for the response's nine links.
        self._base, self._query = request.build_absolute_uri(request.path), request.query_params.copy()
        self.per_page = min(_positive_int(request.query_params.get("per_page"), self.page_size), self.max_page_size)
        self.page = _positive_int(request.query_params.get("page"), 1)
        offset = (self.page - 1) * self.per_page
        if whole_up_to:
            rows = list(queryset[: whole_up_to + 1])
            if len(rows) <= whole_up_to:
                self._counted(len(rows))
                return rows[offset : offset + self.per_page]
        self._counted(queryset.count())
        if offset >= self.total:
            return []
        after = self.total - offset - self.per_page  # the rows that follow this page
        if after > offset or not _totally_ordered(queryset):
            return list(queryset[offset : offset + self.per_page])
        # Nearer the end than the start, in an order that ends with the id: read it backwards, skipping only the
        # rows after this page (the last page skips none), and turn the page round (issue 26.3).
        return list(queryset.reverse()[max(0, after) : self.total - offset])[::-1]

    def _counted(self, total: int) -> None:
        self.total = total
        self.last_page = max(1, -(-total // self.per_page))

    def _url(self, page: int | None) -> str | None:
        if page is None:
            return None
        self._query["page"] = str(page)
        return f"{self._base}?{self._query.urlencode()}"

    @property
    def _previous_url(self) -> str | None:
        # Laravel's previousPageUrl(): any page after the first has one.
        return self._url(self.page - 1) if self.page > 1 else None

    @property
    def _next_url(self) -> str | None:
        return self._url(self.page + 1) if self.page < self.last_page else None

    def _page_links(self) -> list[dict[str, Any]]:
        window = range(max(1, self.page - self.on_each_side), min(self.last_page, self.page + self.on_each_side) + 1)
        pages = sorted({1, self.last_page, *window})
        links: list[dict[str, Any]] = [{"url": self._previous_url, "label": "&laquo; Previous", "active": False}]
        previous = 0
        for page in pages:
            if page - previous > 1:
                links.append({"url": None, "label": "...", "active": False})
            links.append({"url": self._url(page), "label": str(page), "active": page == self.page})
            previous = page
        links.append({"url": self._next_url, "label": "Next &raquo;", "active": False})
        return links

    def get_paginated_response(self, data: Any) -> Response:
        shown = len(data)
        first_index = (self.page - 1) * self.per_page + 1
        return Response(
            {
                "data": data,
                "links": {
                    "first": self._url(1),
                    "last": self._url(self.last_page),
                    "prev": self._previous_url,
                    "next": self._next_url,
                },
                "meta": {
                    "current_page": self.page,
                    "from": first_index if shown else None,
                    "last_page": self.last_page,
                    "links": self._page_links(),
                    "path": self._base,
                    "per_page": self.per_page,
                    "to": first_index + shown - 1 if shown else None,
                    "total": self.total,
                },
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "format": "uri", "nullable": True}
        number = {"type": "integer"}
        return {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": schema,
                "links": {"type": "object", "properties": {k: url for k in ("first", "last", "prev", "next")}},
                "meta": {
                    "type": "object",
                    "properties": {
                        "current_page": number,
                        "from": {"type": "integer", "nullable": True},
                        "last_page": number,
                        "links": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"url": url, "label": {"type": "string"}, "active": {"type": "boolean"}},
                            },
                        },
                        "path": {"type": "string", "format": "uri"},
                        "per_page": number,
                        "to": {"type": "integer", "nullable": True},
                        "total": number,
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                # Any value is accepted, as Laravel's paginator reads it: the schema says so (no type to violate).
                "schema": {"default": 1, "example": 1},
                "description": "Page number, a positive integer; anything else reads as 1.",
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {"default": self.page_size, "example": self.page_size},
                "description": f"Items per page, a positive integer (default {self.page_size}); more than "
                f"{self.max_page_size} reads as {self.max_page_size}, anything else as {self.page_size}.",
            },
        ]
