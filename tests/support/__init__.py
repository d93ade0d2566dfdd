"""Processes the tests run for themselves: PgBouncer, a private PostgreSQL, gunicorn."""
