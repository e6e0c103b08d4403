"""gunicorn in production: `make serve`, the container image and compose use this file.

Workers default to 2 x cores + 1 (sync workers: the service is database-bound and short requests); WEB_CONCURRENCY
overrides it. A request that runs over TIMEOUT seconds is killed and logged; on SIGTERM a worker finishes what it
has for up to GRACEFUL_TIMEOUT seconds. Every line, the access log's included, is in the one shape of
config/logs.py (JSON with LOG_FORMAT=json), with the request id.
"""

import multiprocessing
import os

from config.logs import gunicorn_logging

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "config.gunicorn_worker.JsonErrorSyncWorker"  # sync, answering its own errors in JSON
timeout = int(os.environ.get("TIMEOUT", "30"))
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
