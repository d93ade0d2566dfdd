"""Accounts: sign-up, sign-in, password and time zone, export, deletion."""
from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, exc as sa_exc, insert, select, update

from ..errors import InvalidCredentials, NotFound, ValidationError
from ..extensions import db
from ..models import ApiToken, Task, User
from ..serializers import task_to_json, token_to_json, user_to_json
from .operations import operation, rollback

EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


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
    if len(value) > EMAIL_MAX or "\x00" in value or not _EMAIL.match(value):
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
    if not isinstance(tz, str) or tz not in available_timezones():
        raise ValidationError(details={"timezone": "Choose a time zone from the list."})
    return tz


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@operation("user.create")
def create_user(email: Any, password: Any, timezone: str = "UTC") -> User:
    email = _check_email(email)
    password = check_password_rules(password)
    timezone = _check_timezone(timezone)
    try:
        user = db.session.scalar(insert(User).values(
            email=email, password_hash=hasher().hash(password), timezone=timezone).returning(User))
        db.session.commit()
    except sa_exc.IntegrityError:
        rollback()
        raise ValidationError(details={"email": "An account with this email already exists."}) from None
    return user


@operation("user.authenticate")
def authenticate(email: Any, password: Any) -> User:
    """The user whose email and password these are, or InvalidCredentials.

    An unknown email costs one hash verification too, so the answer and its timing
    are the same for an unknown email and a wrong password.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    password = password if isinstance(password, str) else ""
    if user is None:
        _verify(_dummy_hash(bool(current_app.testing)), password)
        raise InvalidCredentials()
    if not _verify(user.password_hash, password):
        raise InvalidCredentials()
    if hasher().check_needs_rehash(user.password_hash):
        user = db.session.scalar(update(User).where(User.id == user.id)
                                 .values(password_hash=hasher().hash(password)).returning(User)
                                 .execution_options(populate_existing=True))
        db.session.commit()
    return user


def _user_uuid(user_id: Any) -> uuid.UUID | None:
    try:
        return user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None


@operation("user.load")
def load_user(user_id: Any, session_epoch: int) -> User | None:
    """For Flask-Login: the user, if the session was made since the last password change."""
    user_uuid = _user_uuid(user_id)
    if user_uuid is None:
        return None
    return db.session.scalar(select(User).where(User.id == user_uuid, User.session_epoch == session_epoch))


@operation("user.get")
def get_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Account not found.")
    return user


@operation("user.find")
def find_user(email: Any) -> User:
    """The account with this email (in any letter case), or NotFound."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("No account has this email.")
    return user


@operation("user.change_password")
def change_password(user_id: uuid.UUID, current_password: Any, new_password: Any) -> User:
    """Set a new password; every other session and remember-me cookie stops working."""
    user = get_user(user_id)
    if not _verify(user.password_hash, current_password if isinstance(current_password, str) else ""):
        raise ValidationError(details={"current_password": "This is not your current password."})
    new_password = check_password_rules(new_password, "new_password")
    user = db.session.scalar(update(User).where(User.id == user_id).values(
        password_hash=hasher().hash(new_password), session_epoch=User.session_epoch + 1)
        .returning(User).execution_options(populate_existing=True))
    db.session.commit()
    return user


@operation("user.set_timezone")
def set_timezone(user_id: uuid.UUID, timezone: Any) -> User:
    timezone = _check_timezone(timezone)
    user = db.session.scalar(update(User).where(User.id == user_id).values(timezone=timezone)
                             .returning(User).execution_options(populate_existing=True))
    if user is None:
        raise NotFound("Account not found.")
    db.session.commit()
    return user


@operation("user.delete")
def delete_account(user_id: uuid.UUID, password: Any) -> None:
    """Delete the account and, by cascade, every task and token in it."""
    user = get_user(user_id)
    if not _verify(user.password_hash, password if isinstance(password, str) else ""):
        raise ValidationError(details={"password": "This is not your password."})
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.commit()


@operation("user.export")
def export_data(user_id: uuid.UUID) -> dict:
    """Everything stored for this user, as JSON-ready data (token hashes excluded)."""
    user = get_user(user_id)
    tasks = db.session.scalars(select(Task).where(Task.user_id == user_id).order_by(Task.created_at, Task.id))
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.created_at))
    return {
        "user": user_to_json(user),
        "tasks": [task_to_json(task) for task in tasks],
        "api_tokens": [token_to_json(token) for token in tokens],
    }
