"""Times in a department's zone, labelled, in the format `config.local_time` declares:
`{{ moment|in_zone:zone }}` (`10:30 BST`) and `{{ moment|labelled:zone }}` (`Wed 25 Nov 2026, 10:30 GMT`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

from appointments.local_time import local_clock, local_label

register = template.Library()


@register.filter
def in_zone(moment: datetime | None, zone: str) -> str:
    return "—" if moment is None else local_clock(moment, ZoneInfo(zone))


@register.filter
def labelled(moment: datetime | None, zone: str) -> str:
    return "—" if moment is None else local_label(moment, ZoneInfo(zone))
