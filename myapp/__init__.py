"""Application factory: small named wiring steps."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config

from . import cli, database, login, models, ratelimits, security, transfers  # noqa: F401 - models register their tables
from .errors import register_error_handlers
from .extensions import csrf, db, login_manager, migrate
from .json_provider import OrjsonProvider
from .logs import configure_logging
from .services import compiled
from .sessions import SessionCookies

ROOT = Path(__file__).resolve().parent.parent


def create_app(env: Mapping[str, str] | None = None, **overrides) -> Flask:
    """Build the app from the environment (or `env`), with optional config overrides.

    Raises config.ConfigError (one line naming the setting) on a bad setting.
    """
    env = os.environ if env is None else env
    if env is os.environ and os.environ.get("APP_ENV", "development") == "development":
        from dotenv import load_dotenv

        load_dotenv(ROOT / ".env", override=False)

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    config = Config(env, Path(app.instance_path))
    app.config.from_object(config)
    app.config.update(overrides)
    app.json = OrjsonProvider(app)
    app.session_interface = SessionCookies()

    configure_logging(app)
    configure_proxies(app)
    configure_database(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    cli.register_commands(app)
    security.init_app(app)
    transfers.init_app(app)
    with app.app_context():
        database.check_database_at_start(db.engine, app.config["DB_STATEMENT_TIMEOUT_MS"])
    return app


def configure_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto/-Host from exactly TRUSTED_PROXIES hops, no more."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def configure_database(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or database.embedded_database_url(app.config["EMBEDDED_PGDATA"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own, so it runs first (teardowns run in reverse).
    app.teardown_appcontext(database.end_session_quietly)
    app.teardown_appcontext(compiled.release_connection)
    with app.app_context():
        database.install_connection_checks(db.engine, app.config["DB_IDLE_PING_SECONDS"])
        database.install_stall_guard(db.engine, app.config["DB_STATEMENT_TIMEOUT_MS"] / 1000
                                     + app.config["DB_KEEPALIVE_SECONDS"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    ratelimits.init_app(app)
    login_manager.init_app(app)
    login.configure(login_manager)


def register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .health import bp as health_bp
    from .pages import bp as pages_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
