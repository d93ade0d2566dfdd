"""Accounts: sign-up, password and time zone, export, deletion.

Callers get an Account: the user's plain values (never the password hash), which is
also what Flask-Login holds as the signed-in user (see signins.py).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from ..database import rollback
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import ApiToken, SignIn, User
from . import timezones
from .operations import operation

EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

U = User.__table__.c
ACCOUNT_COLUMNS = (U.id, U.email, U.timezone, U.created_at, U.calendar_nonce)


@dataclass(frozen=True)
class Account:
    """A user as the pages and the API see them, and as Flask-Login holds them.

    `sign_in_id` is the browser sign-in the request came with (None for an API token
    or a bare account); the session and remember-me cookies hold it (get_id).
    """

    id: uuid.UUID
    email: str
    timezone: str
    created_at: datetime
    sign_in_id: uuid.UUID | None = None
    authenticated_at: datetime | None = None  # when the password was last typed on this device
    calendar_nonce: str | None = None  # the calendar feed's (services/calendar_feed.py); None: no feed

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.sign_in_id)


def account(row) -> Account:
    return Account(row.id, row.email, row.timezone, row.created_at,
                   getattr(row, "sign_in_id", None), getattr(row, "authenticated_at", None), row.calendar_nonce)


@cache
def _hasher(testing: bool) -> PasswordHasher:
    # Argon2id with the library's defaults; the test suite uses cheap parameters so
    # that hundreds of sign-ups stay quick (the code path is the same).
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if testing else PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher(bool(current_app.testing))


@cache
def _dummy_hash(testing: bool) -> str:
    return _hasher(testing).hash("dummy password, never matches")


def verify_password(password_hash: str | None, password: Any) -> bool:
    """Whether `password` is the one behind `password_hash`. Without a hash (no such
    account) one verification is spent all the same, so timing tells nothing."""
    password = password if isinstance(password, str) else ""
    try:
        return hasher().verify(password_hash or _dummy_hash(bool(current_app.testing)), password) \
            and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: Any) -> str:
    """Trimmed and lower-cased; "" for anything that cannot be an email (PostgreSQL text
    cannot even hold a NUL), so that it simply matches no account."""
    if not isinstance(email, str) or "\x00" in email:
        return ""
    return email.strip().lower()


def _check_email(email: Any) -> str:
    value = normalise_email(email)
    if not value:
        message = "Email is required." if not isinstance(email, str) or not email.strip() else \
            "Enter a valid email address, like name@example.com."
        raise ValidationError(details={"email": message})
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise ValidationError(details={"email": "Enter a valid email address, like name@example.com."})
    return value


def check_password_rules(password: Any, field: str = "password") -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise ValidationError(details={field: f"Use at least {PASSWORD_MIN} characters."})
    if len(password) > PASSWORD_MAX:
        raise ValidationError(details={field: f"Use at most {PASSWORD_MAX} characters."})
    if "\x00" in password:
        raise ValidationError(details={field: "Must not contain NUL characters."})
    return password


def _check_timezone(tz: Any) -> str:
    canonical = timezones.canonical(tz)
    if canonical is None:
        raise ValidationError(details={"timezone": "Choose a time zone from the list."})
    return canonical


@operation("user.create")
def create_user(email: Any, password: Any, timezone: str = "UTC") -> Account:
    email = _check_email(email)
    password = check_password_rules(password)
    timezone = _check_timezone(timezone)
    try:
        row = db.session.execute(insert(User).values(
            email=email, password_hash=hasher().hash(password), timezone=timezone)
            .returning(*ACCOUNT_COLUMNS)).one()
    except sa_exc.IntegrityError:
        rollback()
        raise ValidationError(details={"email": "An account with this email already exists."}) from None
    return account(row)


@operation("user.get")
def get_user(user_id: uuid.UUID) -> Account:
    row = db.session.execute(select(*ACCOUNT_COLUMNS).where(U.id == user_id)).first()
    if row is None:
        raise NotFound("Account not found.")
    return account(row)


@operation("user.find")
def find_user(email: Any) -> Account:
    """The account with this email (in any letter case), or NotFound."""
    row = db.session.execute(select(*ACCOUNT_COLUMNS).where(U.email == normalise_email(email))).first()
    if row is None:
        raise NotFound("No account has this email.")
    return account(row)


def _check_current_password(user_id: uuid.UUID, password: Any, field: str, message: str) -> None:
    password_hash = db.session.execute(select(U.password_hash).where(U.id == user_id)).scalar()
    if password_hash is None:
        raise NotFound("Account not found.")
    if not verify_password(password_hash, password):
        raise ValidationError(details={field: message})


@operation("user.change_password")
def change_password(user_id: uuid.UUID, current_password: Any, new_password: Any, *,
                    keep_sign_in: uuid.UUID | None = None, revoke_tokens: bool = False) -> None:
    """Set a new password. Every sign-in but `keep_sign_in` (the device it was changed on)
    ends, and with `revoke_tokens` every API token too: all in one statement."""
    _check_current_password(user_id, current_password, "current_password", "This is not your current password.")
    new_password = check_password_rules(new_password, "new_password")
    S = SignIn.__table__.c
    statement = update(User).where(U.id == user_id).values(password_hash=hasher().hash(new_password))
    ended = delete(SignIn).where(S.user_id == user_id)
    if keep_sign_in is not None:
        ended = ended.where(S.id != keep_sign_in)
        # Typing the password is as good as signing in again ("sudo mode").
        statement = statement.add_cte(update(SignIn).where(S.id == keep_sign_in, S.user_id == user_id)
                                      .values(authenticated_at=func.now()).cte("confirmed"))
    statement = statement.add_cte(ended.cte("ended"))
    if revoke_tokens:
        statement = statement.add_cte(delete(ApiToken).where(ApiToken.user_id == user_id).cte("revoked"))
    db.session.execute(statement)


@operation("user.set_password")
def set_password(user_id: uuid.UUID, new_password: Any, *, revoke_tokens: bool = False) -> None:
    """An operator's reset (`flask users set-password`): no current password asked. Every
    sign-in ends, and with `revoke_tokens` every API token too."""
    new_password = check_password_rules(new_password)
    statement = update(User.__table__).where(U.id == user_id).values(password_hash=hasher().hash(new_password)) \
        .add_cte(delete(SignIn).where(SignIn.user_id == user_id).cte("ended"))
    if revoke_tokens:
        statement = statement.add_cte(delete(ApiToken).where(ApiToken.user_id == user_id).cte("revoked"))
    if db.session.execute(statement.returning(U.id)).first() is None:
        raise NotFound("Account not found.")


@operation("user.set_timezone")
def set_timezone(user_id: uuid.UUID, timezone: Any) -> Account:
    timezone = _check_timezone(timezone)
    row = db.session.execute(update(User).where(U.id == user_id).values(timezone=timezone)
                             .returning(*ACCOUNT_COLUMNS)).first()
    if row is None:
        raise NotFound("Account not found.")
    return account(row)


@operation("user.delete")
def delete_account(user_id: uuid.UUID, password: Any) -> None:
    """Delete the account and, by cascade, every task, token and sign-in in it."""
    _check_current_password(user_id, password, "password", "This is not your password.")
    db.session.execute(delete(User).where(U.id == user_id))
