"""gunicorn in production: `make serve`, the container image and compose use this file.

Workers default to 2 x cores + 1 (sync workers: the service is database-bound and short requests); WEB_CONCURRENCY
overrides it. A request that runs over TIMEOUT seconds is killed and logged; on SIGTERM a worker finishes what it
has for up to GRACEFUL_TIMEOUT seconds. The access log is one JSON object a line, with the request id.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "5000"))  # recycle workers now and then: no slow leak lives long
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"timestamp": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", '
    '"remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": %(B)s, '
    '"duration_ms": %(M)s, "user_agent": "%(a)s"}'
)
