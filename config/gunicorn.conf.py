"""gunicorn in production: `make serve`, the container image and compose use this file.

Workers default to one per core, each with 4 threads (gunicorn's threaded worker, gthread); WEB_CONCURRENCY and
WEB_THREADS override them (WEB_THREADS=1: the sync worker). Chosen by bench/throughput.py (docs/benchmarks.md,
"PATCH throughput"): at 8 connections the threaded worker made 1.2 to 3.3 times the PATCHes of 5 sync workers, for
a fifth to a third less processor a request, since it keeps a client's connection open between its requests. TIMEOUT:
a worker process silent for that many seconds is killed and logged; under sync workers that is a request running
that long, under gthread it is not (the worker's main thread keeps answering while a request's thread waits, so a
request is bounded by its own calls' timeouts: Redis's 1 s, the webhook test's, and each SQL statement's, which
PostgreSQL cancels after TIMEOUT seconds: DB_STATEMENT_TIMEOUT_MS, set here unless given). On SIGTERM
a worker finishes what it has for up to GRACEFUL_TIMEOUT seconds. Every line, the access log's included, is in the
one shape of config/logs.py (JSON with LOG_FORMAT=json), with the request id.
"""

import multiprocessing
import os

from config.logs import gunicorn_logging

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# Threads per worker: above 1, gunicorn's threaded worker (gthread), which keeps a client's connection open between
# its requests; 1, the sync worker (one request at a time, a connection closed after each). Both answer their own
# errors in JSON. Each thread holds its own database connection (DB_CONN_MAX_AGE).
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = (
    "config.gunicorn_worker.JsonErrorThreadWorker" if threads > 1 else "config.gunicorn_worker.JsonErrorSyncWorker"
)
timeout = int(os.environ.get("TIMEOUT", "30"))
# The same bound on each statement, by PostgreSQL (config/settings: DB_STATEMENT_TIMEOUT_MS), for the workers' Django:
# under gthread a request's thread waiting on the database is not killed by `timeout`, so the database ends it.
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", str(timeout * 1000))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "5000"))  # recycle workers now and then: no slow leak lives long
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25.1+ opens a control socket at one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl): a
# second server on the host takes it over and removes it when it stops. Nothing here uses gunicornc.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# gunicorn's own lines and its access lines in the shape Django's are (config/logs.py), LOG_FORMAT as Django reads it.
logger_class = "config.logs.GunicornLogger"
logconfig_dict = gunicorn_logging(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "INFO"))
