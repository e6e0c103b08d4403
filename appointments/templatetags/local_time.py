"""`{{ moment|in_zone:"Europe/London" }}`: a time of day in a department's zone, labelled (`10:30 BST`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

register = template.Library()


@register.filter
def in_zone(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%H:%M} {local.tzname()}"
