"""Configuration: start-up failures as a newcomer sees them, and the engine a deployment gets."""
from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from sqlalchemy import exc

from config import Config, ConfigError, database_url
from myapp.extensions import db

from conftest import ROOT, make_app

PASSWORD = "s3cretpw"
GOOD_KEY = "k" * 40


def start(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Start the app in a fresh process with exactly these settings (no inherited ones)."""
    clean = {key: value for key, value in os.environ.items()
             if key not in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "DATABASE_URL_UNPOOLED", "LOG_LEVEL",
                            "FLASK_APP", "WEB_CONCURRENCY") and not key.startswith(("DB_", "RATELIMIT_"))}
    clean.update(env)
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


IMPORT_APP = [sys.executable, "-c", "import app"]
FLASK_ROUTES = [sys.executable, "-m", "flask", "--app", "app", "routes"]

START_UP_FAILURES = [
    pytest.param({"APP_ENV": "production", "DATABASE_URL": f"postgresql://user:{PASSWORD}@db.example.com/app"},
                 "SECRET_KEY", id="production-without-secret-key"),
    pytest.param({"APP_ENV": "production", "SECRET_KEY": "short",
                  "DATABASE_URL": f"postgresql://user:{PASSWORD}@db.example.com/app"},
                 "SECRET_KEY", id="production-with-a-short-secret-key"),
    pytest.param({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY}, "DATABASE_URL",
                 id="production-without-database-url"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": f"mysql://user:{PASSWORD}@db.example.com/app"},
                 "DATABASE_URL", id="mysql-url"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": f"postgresql://user:{PASSWORD}@host:notaport/db"},
                 "DATABASE_URL", id="malformed-url-with-password"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": f"postgres://user:{PASSWORD}@/db"},
                 "DATABASE_URL", id="url-without-host"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": f"postgresql://u:{PASSWORD}@[bad/x"},
                 "DATABASE_URL", id="url-with-a-bracket-for-a-host"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgresql://user@127.0.0.1:1/db",
                  "DATABASE_URL_UNPOOLED": f"postgresql://user:{PASSWORD}@host:99x/db"},
                 "DATABASE_URL_UNPOOLED", id="malformed-unpooled-url"),
    pytest.param({"APP_ENV": "staging", "SECRET_KEY": GOOD_KEY}, "APP_ENV", id="unknown-app-env"),
    pytest.param({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgresql://user@127.0.0.1:1/db",
                  "DB_POOL_SIZE": "five"}, "DB_POOL_SIZE", id="pool-size-not-a-number"),
]


@pytest.mark.parametrize("command", [IMPORT_APP, FLASK_ROUTES], ids=["import-app", "flask-routes"])
@pytest.mark.parametrize(("env", "setting"), START_UP_FAILURES)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(command, env, setting):
    result = start(command, env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f" {setting} " in f" {lines[0]} "
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_a_good_configuration_starts(database_url):
    result = start(IMPORT_APP, {"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": database_url,
                                "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("raw", [
    "postgres://user:pw@db.example.com:6543/app",
    "postgresql://user:pw@db.example.com:6543/app",
    "postgresql+psycopg://user:pw@db.example.com:6543/app",
])
def test_every_accepted_scheme_becomes_the_psycopg_driver(raw):
    url = database_url(raw)
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == \
        ("user", "pw", "db.example.com", 6543, "app")


def test_sslmode_and_channel_binding_are_kept():
    url = database_url("postgresql://u:p@ep-x-pooler.eu.aws.neon.tech/neondb?sslmode=require&channel_binding=require")
    assert url.drivername == "postgresql+psycopg"
    assert dict(url.query) == {"sslmode": "require", "channel_binding": "require"}
    assert url.host == "ep-x-pooler.eu.aws.neon.tech"


@pytest.mark.parametrize("host", ["db.example.com", "ep-cool-1.eu-central-1.aws.neon.tech", "10.0.0.7", "[::1]",
                                  "[fe80::1%eth0]", "my_db"])
def test_host_names_and_addresses_are_accepted(host):
    assert database_url(f"postgresql://u:pw@{host}:5432/app").drivername == "postgresql+psycopg"


def test_a_socket_url_without_a_host_name_is_accepted():
    url = database_url("postgresql://postgres@/postgres?host=/tmp/socketdir")
    assert url.query["host"] == "/tmp/socketdir"


@pytest.mark.parametrize("raw", [
    f"mysql://user:{PASSWORD}@host/db",
    f"sqlite:///{PASSWORD}.db",
    f"postgresql://user:{PASSWORD}@host:notaport/db",
    f"not a url {PASSWORD}",
    f"postgresql://user:{PASSWORD}@/db",
    f"postgresql://u:{PASSWORD}@[bad/x",
    f"postgresql://u:{PASSWORD}@a host/x",
    f"postgresql://u:{PASSWORD}@ho%st/x",
])
def test_a_rejected_url_names_the_setting_and_never_the_password(raw):
    with pytest.raises(ConfigError) as caught:
        database_url(raw, "DATABASE_URL_UNPOOLED")
    assert caught.value.setting == "DATABASE_URL_UNPOOLED"
    assert "DATABASE_URL_UNPOOLED" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_production_needs_a_database_url(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Config({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY}, tmp_path)
    assert caught.value.setting == "DATABASE_URL"


def test_the_pool_size_and_overflow_are_configurable(database_url):
    app = make_app(database_url, env={"DB_POOL_SIZE": 2, "DB_MAX_OVERFLOW": 3})
    with app.app_context():
        assert db.engine.pool.size() == 2
        assert db.engine.pool._max_overflow == 3
        db.engine.dispose()


@pytest.mark.parametrize("setting, value", [
    ("RATELIMIT_SIGNIN_PER_ACCOUNT", "5 per minit"),
    ("RATELIMIT_SIGNIN_PER_ADDRESS", "lots"),
    ("RATELIMIT_API", "-1 per second"),
    ("RATELIMIT_STORAGE_URI", "localhost:6379"),
    ("RATELIMIT_STORAGE_URI", "postgres://db/limits"),
])
def test_a_malformed_rate_limit_setting_stops_start_up_instead_of_switching_the_limit_off(setting, value):
    with pytest.raises(ConfigError) as raised:
        Config({"APP_ENV": "testing", setting: value})
    assert raised.value.setting == setting


def test_log_level_is_accepted_in_any_letter_case():
    assert Config({"APP_ENV": "testing", "LOG_LEVEL": "warning"}).LOG_LEVEL == "WARNING"


def test_a_deadlock_is_an_error_not_an_outage():
    from psycopg import errors

    from myapp.database import is_unavailable

    deadlock = exc.OperationalError("UPDATE ...", {}, errors.DeadlockDetected("deadlock detected"))
    refused = exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    assert not is_unavailable(deadlock)
    assert is_unavailable(refused)


@pytest.mark.parametrize("workers", ["2", "4"])
def test_production_refuses_per_worker_rate_limit_counts_under_several_workers(tmp_path, workers):
    env = {"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgresql://u@db.example.com/app",
           "WEB_CONCURRENCY": workers}
    with pytest.raises(ConfigError) as caught:
        Config(env, tmp_path)
    assert caught.value.setting == "RATELIMIT_STORAGE_URI"
    assert Config({**env, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, tmp_path)
    assert Config({**env, "WEB_CONCURRENCY": "1"}, tmp_path)  # one process: memory:// is shared by all of it
    assert Config({**env, "APP_ENV": "development"}, tmp_path)


def test_gunicorn_refuses_to_start_with_memory_counts_in_production_with_one_line(tmp_path):
    env = {"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgresql://u@127.0.0.1:1/app",
           "WEB_CONCURRENCY": "2", "PORT": "0"}
    result = start([str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "app:app"], env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RATELIMIT_STORAGE_URI" in lines[0]
