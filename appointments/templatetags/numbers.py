"""A span of time as the managers' numbers say it: `3 min 05 s`, `45 s`, `1 h 02 min`."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration_words(span: timedelta) -> str:
    seconds = max(0, round(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"
