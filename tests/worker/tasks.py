"""Tasks that only the tests enqueue (a real worker imports them by path)."""

import time

from config.queue import task


@task()
def sleep_for(seconds: float) -> None:
    """A task that takes longer than it may (the worker's time limit)."""
    time.sleep(seconds)
