"""Alembic environment for Flask-Migrate.

Schema changes run on DATABASE_URL_UNPOOLED when it is set (Neon wants DDL on the
direct endpoint, not through its pooler), else on the app's own database, without a
statement timeout. An upgrade ends by setting the app role's statement timeout in the
database (myapp.database.apply_role_settings). The app's logging is left as it is (no
fileConfig), and server defaults are compared.
"""
import logging

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, pool

from myapp.database import apply_role_settings, reset_role_settings

log = logging.getLogger("alembic.env")
db = current_app.extensions["migrate"].db


def migration_url():
    return current_app.config.get("DATABASE_URL_UNPOOLED") or db.engine.url


def configure(**kwargs):
    options = {"compare_type": True, "compare_server_default": True,
               **current_app.extensions["migrate"].configure_args, **kwargs}
    context.configure(target_metadata=db.metadata, **options)


def run_migrations_offline():
    configure(url=migration_url().render_as_string(hide_password=False), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty_autogenerate(context_, revision, directives):
        if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    url = migration_url()
    connect_args = {"connect_timeout": current_app.config["DB_CONNECT_TIMEOUT"], "prepare_threshold": None}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    steps = []
    with engine.connect() as connection:
        configure(connection=connection, process_revision_directives=skip_empty_autogenerate,
                  on_version_apply=lambda **step: steps.append(step))
        with context.begin_transaction():
            # Migrations may take long: no timeout for them (LOCAL: safe through a pooler too).
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            context.run_migrations()
            settle_role_settings(connection, migrated=bool(steps))


def settle_role_settings(connection, migrated: bool):
    """The app's role gets the configured statement timeout at every upgrade (also one with
    nothing to migrate, so that a changed DB_STATEMENT_TIMEOUT_MS takes effect); a
    downgrade to base removes it; `flask db check` and the like change nothing."""
    role = db.engine.url.username  # the app's own role (its pooled URL), not the migrator's
    at_base = not context.get_context().get_current_heads()
    if at_base and migrated:
        reset_role_settings(connection, role)
    elif not at_base and context.get_context().opts.get("destination_rev") is not None:  # an upgrade
        apply_role_settings(connection, role, current_app.config["DB_STATEMENT_TIMEOUT_MS"])


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
