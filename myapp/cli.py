"""Administration from the shell: `flask users create|set-password`, `flask tokens create`,
`flask maintenance purge`.

Both go through the service layer, so they validate exactly as the pages and the API do.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from .errors import AppError
from .services import maintenance, tokens, users

users_cli = AppGroup("users", help="Manage accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")
maintenance_cli = AppGroup("maintenance", help="Housekeeping to schedule.")


def _call(service: Callable, *args: Any, **kwargs: Any) -> Any:
    """A service call with the app's JSON logs sent to stderr (stdout is the command's output,
    e.g. a token for TOKEN=$(...)), and its errors turned into one line and exit code 1."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return service(*args, **kwargs)
    except AppError as error:
        reasons = "; ".join(f"{field}: {message}" for field, message in error.details.items())
        raise click.ClickException(reasons or error.message) from None


def _read_password() -> str:
    """Asked twice at a terminal; otherwise the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Paris.")
def create_user(email: str, timezone: str) -> None:
    """Create an account. The password is prompted for, or read from stdin when piped."""
    user = _call(users.create_user, email, _read_password(), timezone)
    click.echo(f"Created {user.email} ({user.id}).")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--revoke-tokens", is_flag=True, help="Also revoke every API token of the account.")
def set_password(email: str, revoke_tokens: bool) -> None:
    """Give an account a new password (prompted for, or read from stdin when piped), for
    someone who forgot theirs. Every signed-in device is signed out."""
    user = _call(users.find_user, email)
    _call(users.set_password, user.id, _read_password(), revoke_tokens=revoke_tokens)
    ended = "every device signed out" + (" and every API token revoked" if revoke_tokens else "")
    click.echo(f"New password set for {user.email}: {ended}.")


@maintenance_cli.command("purge")
def purge() -> None:
    """Delete what has expired: idempotency keys older than a day, sign-ins unused for 30 days."""
    purged = _call(maintenance.purge)
    click.echo(f"Purged {purged.idempotency_keys} expired idempotency keys and {purged.sign_ins} ended sign-ins.")


@tokens_cli.command("create")
@click.argument("email")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="May only read (GET).")
@click.option("--expires-in-days", type=click.IntRange(1, tokens.EXPIRY_MAX_DAYS), help="Default: never.")
def create_token(email: str, name: str, read_only: bool, expires_in_days: int | None) -> None:
    """Create an API token for EMAIL and print it (on stdout, alone): it is shown only this once."""
    user = _call(users.find_user, email)
    token, secret = _call(tokens.create_token, user.id, name, "read" if read_only else "write", expires_in_days)
    click.echo(secret)
    expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
    click.echo(f"Token {token.prefix}... for {user.email}: {token.scope}, {expiry}. "
               "Store it now; it cannot be shown again.", err=True)


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(maintenance_cli)
