"""Configuration read from the environment.

Every setting is read and checked here, once, at start-up. A missing or malformed
setting raises ConfigError naming it; `app.py` turns that into one line on stderr.
No message ever includes a database password: URLs are only shown masked.
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from limits import parse_many
from limits.storage import SCHEMES as STORAGE_SCHEMES
from sqlalchemy.engine import URL, make_url

APP_ENVS = ("development", "production", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
# A host name (letters, digits, hyphens, dots, underscores as some platforms use), an IPv4
# address, or an IPv6 one (which the parser hands over without its brackets).
_HOST = re.compile(r"[A-Za-z0-9_.-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?")


class ConfigError(Exception):
    """A setting is missing or malformed. str() is one line that names it."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"configuration error: {setting} {problem}")
        self.setting = setting


def database_url(raw: str, setting: str = "DATABASE_URL") -> URL:
    """Parse a PostgreSQL URL and point it at the psycopg 3 driver.

    Query parameters (sslmode, channel_binding, ...) are kept as they are.
    """
    problem = "is not a valid PostgreSQL URL (expected postgresql://USER:PASSWORD@HOST/DBNAME)"
    try:
        url = make_url(raw.strip())
        url.port  # noqa: B018 - a non-numeric port only fails when read
    except Exception:  # the parser's message may quote the URL: never show it
        raise ConfigError(setting, problem) from None
    if url.drivername not in POSTGRES_SCHEMES:
        raise ConfigError(setting, f"must be a PostgreSQL URL (postgresql://...), not {url.drivername}://")
    if not url.host and "host" not in url.query:
        raise ConfigError(setting, problem)
    if url.host and not _HOST.fullmatch(url.host):  # "[bad", "a host", "ho%st": not a host name or address
        raise ConfigError(setting, problem)
    return url.set(drivername="postgresql+psycopg")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """Checked here: Flask-Limiter would only log a bad limit and then apply none."""
    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(name, f"is not a rate limit like '5 per minute', got {value!r}") from None
    return value


def _storage_uri(env: Mapping[str, str]) -> str:
    value = env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://"
    scheme = value.split("://", 1)[0]
    if "://" not in value or scheme not in STORAGE_SCHEMES or scheme.startswith("async+"):
        raise ConfigError("RATELIMIT_STORAGE_URI", "must be memory:// or a storage URL such as "
                                                   "redis://HOST:6379/0")
    return value


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept under instance/, so development sessions survive a restart."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Flask settings built from an environment mapping (os.environ by default)."""

    def __init__(self, env: Mapping[str, str] | None = None, instance_path: Path | None = None):
        env = os.environ if env is None else env
        instance_path = instance_path or Path(__file__).resolve().parent / "instance"

        self.APP_ENV = _choice(env, "APP_ENV", "development", APP_ENVS)
        production = self.APP_ENV == "production"
        self.TESTING = self.APP_ENV == "testing"
        self.LOG_LEVEL = _choice({"LOG_LEVEL": env.get("LOG_LEVEL", "").upper()}, "LOG_LEVEL", "INFO", LOG_LEVELS)

        secret = env.get("SECRET_KEY", "").strip()
        if production and not secret:
            raise ConfigError("SECRET_KEY", "is required when APP_ENV=production (make one with: "
                              "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if production and len(secret) < 32:
            raise ConfigError("SECRET_KEY", "must be at least 32 characters when APP_ENV=production")
        self.SECRET_KEY = secret or ("testing-secret-key" if self.TESTING else _dev_secret_key(instance_path))

        raw_url = env.get("DATABASE_URL", "").strip()
        if production and not raw_url:
            raise ConfigError("DATABASE_URL", "is required when APP_ENV=production")
        # None means: start the embedded PostgreSQL under instance/ (see myapp.database).
        self.DATABASE_URL = database_url(raw_url) if raw_url else None
        raw_unpooled = env.get("DATABASE_URL_UNPOOLED", "").strip()
        self.DATABASE_URL_UNPOOLED = database_url(raw_unpooled, "DATABASE_URL_UNPOOLED") if raw_unpooled else None
        self.EMBEDDED_PGDATA = instance_path / "pgdata"

        # Neon suspends idle computes and its pooler runs PgBouncer in transaction mode.
        self.DB_POOL_SIZE = _int(env, "DB_POOL_SIZE", 5, 1)
        self.DB_MAX_OVERFLOW = _int(env, "DB_MAX_OVERFLOW", 10, 0)
        self.DB_POOL_TIMEOUT = _int(env, "DB_POOL_TIMEOUT", 5, 1)
        self.DB_POOL_RECYCLE = _int(env, "DB_POOL_RECYCLE", 300, 1)
        self.DB_CONNECT_TIMEOUT = _int(env, "DB_CONNECT_TIMEOUT", 5, 1)
        # A default of the app's role in its database, applied by `flask db upgrade`.
        self.DB_STATEMENT_TIMEOUT_MS = _int(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 1)
        # A pooled connection idle this long is pinged before use (it may have been dropped).
        self.DB_IDLE_PING_SECONDS = _int(env, "DB_IDLE_PING_SECONDS", 30, 0)
        # A silent network is noticed after this many seconds without an answer (TCP keepalives).
        self.DB_KEEPALIVE_SECONDS = _int(env, "DB_KEEPALIVE_SECONDS", 5, 1)

        self.TRUSTED_PROXIES = _int(env, "TRUSTED_PROXIES", 0, 0)
        self.MAX_CONTENT_LENGTH = _int(env, "MAX_CONTENT_LENGTH", 1024 * 1024, 1024)

        self.RATELIMIT_STORAGE_URI = _storage_uri(env)
        # memory:// counts in each process: under several gunicorn workers a limit of 5
        # would let 5 per worker through. Production needs a shared storage then.
        workers = _int(env, "WEB_CONCURRENCY", 2, 1)
        if production and workers > 1 and self.RATELIMIT_STORAGE_URI.startswith("memory://"):
            raise ConfigError("RATELIMIT_STORAGE_URI", f"must be a storage the {workers} workers share, such as "
                              "redis://HOST:6379/0, when APP_ENV=production (memory:// counts per worker; or set "
                              "WEB_CONCURRENCY=1)")
        # Instances that share a Redis count together; a prefix keeps apps apart.
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "").strip() or "tasks"
        self.RATELIMIT_ENABLED = env.get("RATELIMIT_ENABLED", "true").strip().lower() not in ("0", "false", "no")
        self.RATELIMIT_SIGNIN_PER_ACCOUNT = _rate_limit(env, "RATELIMIT_SIGNIN_PER_ACCOUNT", "5 per minute")
        self.RATELIMIT_SIGNIN_PER_ADDRESS = _rate_limit(env, "RATELIMIT_SIGNIN_PER_ADDRESS", "30 per minute")
        self.RATELIMIT_API = _rate_limit(env, "RATELIMIT_API", "600 per minute")
        # An import reads up to 50 MB and writes up to 50,000 rows: a budget of its own, per user.
        self.RATELIMIT_IMPORT = _rate_limit(env, "RATELIMIT_IMPORT", "20 per hour")
        # The calendar feed answers without a session (its secret URL): per client address.
        self.RATELIMIT_FEED = _rate_limit(env, "RATELIMIT_FEED", "60 per minute")

        # Cookies: signed, HttpOnly, SameSite=Lax; Secure wherever TLS is expected.
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = production
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = production
        self.REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
        self.WTF_CSRF_TIME_LIMIT = None  # a form left open for hours still submits
        self.PREFERRED_URL_SCHEME = "https" if production else "http"

