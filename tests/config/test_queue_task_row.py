"""config.queue.task_row: the outbox queues its task with one INSERT built once (issue 26) of the very row the task
library's enqueue writes, column for column, the request's id included, so the worker runs it as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_guid import clear_guid, set_guid
from django_tasks_db.models import DBTaskResult

from config.queue import task_row
from config.writes import insert_rows
from events.tasks import events_dispatch

pytestmark = pytest.mark.django_db

SAME = ("status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name", "backend_name", "run_after",
        "return_value", "exception_class_path", "traceback", "started_at", "finished_at")  # fmt: skip


@pytest.mark.parametrize("request_id", ["a1b2c3", None])
def test_the_row_is_the_librarys_row(request_id) -> None:
    if request_id:
        set_guid(request_id)
    try:
        library = events_dispatch.enqueue(["e1", "e2"]).id
        with CaptureQueriesContext(connection) as queries:
            insert_rows([task_row(events_dispatch, ["e1", "e2"])])
    finally:
        clear_guid()
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('INSERT INTO "django_tasks_database_dbtaskresult"')
    ours = DBTaskResult.objects.exclude(pk=library).get()
    theirs = DBTaskResult.objects.get(pk=library)
    assert {k: getattr(ours, k) for k in SAME} == {k: getattr(theirs, k) for k in SAME}
    assert ours.args_kwargs.get("request_id") == request_id
    assert ours.task_result.args == [["e1", "e2"]]  # what the worker reads back
    assert abs((ours.enqueued_at - theirs.enqueued_at).total_seconds()) < 60
