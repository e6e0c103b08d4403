"""Health endpoints for load balancers and orchestrators, on django-health-check.

`/health/live`: the process answers (no dependency is checked, so a database outage never restarts the web
processes). `/health/ready`: the database answers and every migration is applied (a 500 with the failing check
otherwise, so the instance is taken out of rotation); the shared cache, when one is configured, is reported
"degraded" when it does not answer, with a 200: the service answers without it (each process counts its own rate
limits meanwhile), so taking every instance out of rotation for it would turn a loss of Redis into an outage.
"""

import dataclasses
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

from config.net import CACHE_ERRORS
from config.outage import DATABASE_UNAVAILABLE


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Ready only when the database has every migration this code expects."""

    def run(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DATABASE_UNAVAILABLE as exc:  # the Database check says so too; not an "unexpected" error
            raise ServiceUnavailable("the database does not answer") from exc
        finally:
            connection.close()  # checks run on a pool thread: its connection would otherwise stay open
        if pending:
            raise ServiceUnavailable(f"{len(pending)} migration(s) not applied")


@dataclasses.dataclass
class SharedCache(HealthCheck):
    """The shared cache answers; when it does not, the instance is degraded, not unready."""

    critical: ClassVar[bool] = False
    DEGRADED: ClassVar[str] = "degraded: the shared cache does not answer; rate limits count per process"

    def run(self) -> None:
        key = f"health:{uuid.uuid4().hex}"
        try:
            cache.set(key, "ok", timeout=5)
            answered = cache.get(key) == "ok"
            cache.delete(key)
        except CACHE_ERRORS as exc:
            raise ServiceWarning(self.DEGRADED) from exc
        if not answered:
            raise ServiceWarning(self.DEGRADED)


def ready_checks() -> list[Any]:
    checks: list[Any] = ["health_check.checks.Database", MigrationsApplied]
    if settings.REDIS_URL:
        checks.append(SharedCache)
    return checks


class ReadyView(HealthCheckView):
    def get_checks(self) -> Any:
        self.checks = ready_checks()
        return super().get_checks()

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = await super().get(request, *args, **kwargs)
        if response.status_code >= 500 and not any(
            result.error and getattr(result.check, "critical", True) for result in self.results
        ):
            response.status_code = 200  # only what the service answers without failed: reported, still ready
        if response.status_code >= 500:
            # Not ready is a state the load balancer acts on, and each failing check has logged a warning: one
            # line, not an error (a mail) per probe while the database is down.
            log_response("Not ready: %s", request.path, response=response, request=request, level="warning")
        return response


live = HealthCheckView.as_view(checks=[])
ready = ReadyView.as_view()
