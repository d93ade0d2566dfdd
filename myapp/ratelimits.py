"""Rate limits: attempts counted in RATELIMIT_STORAGE_URI with the `limits` library.

A limit is spent only where one applies (sign-in and sign-up, password checks, each API
call), by the code that handles the request: other requests pay nothing for rate
limiting, and a page or the API says nothing about limits until one is reached. Then the
answer is 429 with `Retry-After`: the seconds until the limit's window resets.

Counts are as shared as their storage: Redis (redis://...) for every worker and
instance; memory:// counts per worker process, which config.py only accepts where
that is all there is (see RATELIMIT_STORAGE_URI in the README).
"""
from __future__ import annotations

import hashlib
import math
import time
from functools import cache

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from .services.users import normalise_email

EXTENSION = "ratelimits"


@cache
def _limit(text: str) -> RateLimitItem:
    return parse(text)  # config.py has already checked that it parses


class RateLimits:
    """One app's limits: its storage, its key prefix, and whether they are on."""

    def __init__(self, app: Flask):
        self.enabled = app.config["RATELIMIT_ENABLED"]
        self.prefix = app.config["RATELIMIT_KEY_PREFIX"]
        self.strategy = FixedWindowRateLimiter(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))

    def spend(self, limit: str, *key: str) -> None:
        """One attempt against `limit` ("5 per minute") for `key`; TooManyRequests once over it."""
        if not self.enabled:
            return
        item, identity = _limit(limit), (self.prefix, *key)
        if not self.strategy.hit(item, *identity):
            reset_at = self.strategy.get_window_stats(item, *identity).reset_time
            raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = RateLimits(app)


def spend(setting: str, *key: str) -> None:
    """One attempt against the limit configured as `setting` (e.g. RATELIMIT_API) for `key`."""
    current_app.extensions[EXTENSION].spend(current_app.config[setting], *key)


def spend_sign_up_attempt() -> None:
    """Sign-ups count against the client address's sign-in attempts."""
    spend("RATELIMIT_SIGNIN_PER_ADDRESS", "auth-address", client_address())


def spend_sign_in_attempt(email: object) -> None:
    """Sign-in attempts are limited per client address and per account and address: someone
    hammering one account from their own address is stopped without locking its owner
    out anywhere else."""
    spend_sign_up_attempt()
    spend_password_check(email)


def spend_password_check(email: object) -> None:
    """One check of an account's password (sign-in, or a form that asks for it again)."""
    spend("RATELIMIT_SIGNIN_PER_ACCOUNT", "auth-account", account_and_address(normalise_email(email)))


def spend_import(user_id) -> None:
    """One import (or check of a file) of this user's: RATELIMIT_IMPORT, beside the API's."""
    spend("RATELIMIT_IMPORT", "import-user", str(user_id))


def spend_feed_read() -> None:
    """One read of a calendar feed from this client address (RATELIMIT_FEED)."""
    spend("RATELIMIT_FEED", "feed-address", client_address())


def client_address() -> str:
    """Who is asking, as far as the network says (made trustworthy by TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


def account_and_address(email: str) -> str:
    """The key of attempts on one account from one address. Hashed: no email in the storage."""
    return f"{hashlib.sha256(email.encode()).hexdigest()[:32]}|{client_address()}"
