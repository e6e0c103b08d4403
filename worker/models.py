"""The leases of the task worker's loops: one row per loop, renewed every few seconds while its process lives."""

from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """A loop of a running worker (one per queue per process): when it was last seen, and the task it runs now.

    A task left RUNNING is run again once no loop seen within the lease names it (worker/sweep.py): the task of
    a worker killed with SIGKILL, or cut off from the database, is never lost."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    queue_name = models.CharField(max_length=32)
    # host:pid, for the operator reading the table
    process = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    task_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.queue_name}) on {self.process}"
