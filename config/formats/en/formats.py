"""Django's own formats for English (and en-gb, the service's language), from the one declaration of the back
office's day and clock (config.local_time, issue 24.5): what the admin shows of a date or a time it formats itself
(a user's last login, "Recent actions", a token's expiry) reads as the service's own pages do."""

from config.local_time import CLOCK_FORMAT, DAY_FORMAT

DATE_FORMAT = DAY_FORMAT
DATETIME_FORMAT = f"{DAY_FORMAT}, {CLOCK_FORMAT} T"
TIME_FORMAT = CLOCK_FORMAT
SHORT_DATE_FORMAT = DAY_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
