"""gunicorn settings for production: `gunicorn app:app` reads this file.

Workers and threads come from the environment. Each worker holds its own
connection pool (DB_POOL_SIZE + DB_MAX_OVERFLOW), so workers x pool must stay
within what the database (or Neon's pooler) accepts.
"""
import os
import sys

from gunicorn.glogging import Logger

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # config.py beside this file
from config import Config, ConfigError  # noqa: E402

# Every setting is checked once here, before any worker starts: a bad one stops gunicorn
# with one line naming it, instead of each worker failing to boot in turn.
try:
    Config()
except ConfigError as error:
    print(error, file=sys.stderr)
    sys.exit(2)

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Longer than the worst database wait (pool + connect + statement timeouts), so a
# slow database gets a 503 from the app rather than a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10


class NoAccessLogLogger(Logger):
    """gunicorn's logger without the access log: the app logs every request itself (JSON,
    with request id and user id). With logconfig_dict set, gunicorn would otherwise build
    an access line for every request (its atoms, a date) only to drop it."""

    def access(self, resp, req, environ, request_time):
        pass


logger_class = NoAccessLogLogger
accesslog = None
errorlog = "-"
# gunicorn's own lines as JSON too, like the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {
        "()": "pythonjsonlogger.orjson.OrjsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    }},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {"gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False}},
    # The app puts its own JSON handler on the root logger (myapp/logs.py).
    "root": {"level": "INFO", "handlers": []},
}
