"""Personal API tokens: shown once, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row

from ..errors import InvalidCredentials, NotFound, ValidationError
from ..extensions import db
from ..models import TOKEN_SCOPES, ApiToken, User
from .compiled import Compiled
from .operations import operation
from .users import ACCOUNT_COLUMNS, Account, U, account

K = ApiToken.__table__.c
# A token as its owner sees it: never its hash.
TOKEN_COLUMNS = (K.id, K.name, K.prefix, K.scope, K.expires_at, K.last_used_at, K.created_at)

TOKEN_PREFIX = "tm_"
NAME_MAX = 100
EXPIRY_MAX_DAYS = 3650
# Last use is recorded at most this often: no write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(name: Any, scope: Any, expires_in_days: Any) -> tuple[str, str, int | None]:
    details = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        details["name"] = "Give the token a name."
    elif len(name) > NAME_MAX or "\x00" in name:
        details["name"] = f"Use at most {NAME_MAX} characters."
    if scope not in TOKEN_SCOPES:
        details["scope"] = "Choose read or write."
    if expires_in_days is not None and (isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int)
                                        or not 1 <= expires_in_days <= EXPIRY_MAX_DAYS):
        details["expires_in_days"] = f"Use a number of days from 1 to {EXPIRY_MAX_DAYS}, or none."
    if details:
        raise ValidationError(details=details)
    return name, scope, expires_in_days


@operation("token.create")
def create_token(user_id: uuid.UUID, name: Any, scope: Any = "write",
                 expires_in_days: Any = None) -> tuple[Row, str]:
    """A new token and its secret text, which is never stored and never shown again."""
    name, scope, days = _check(name, scope, expires_in_days)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=days) if days else None
    token = db.session.execute(insert(ApiToken).values(
        user_id=user_id, name=name, scope=scope, expires_at=expires_at,
        token_hash=_hash(secret), prefix=secret[:len(TOKEN_PREFIX) + 6]).returning(*TOKEN_COLUMNS)).one()
    return token, secret


@operation("token.list")
def list_tokens(user_id: uuid.UUID) -> list[Row]:
    return list(db.session.execute(select(*TOKEN_COLUMNS).where(K.user_id == user_id)
                                   .order_by(K.created_at.desc())))


@operation("token.revoke")
def revoke_token(user_id: uuid.UUID, token_id: Any) -> None:
    try:
        token_uuid = uuid.UUID(str(token_id))
    except ValueError:
        raise NotFound("Token not found.") from None
    if db.session.execute(delete(ApiToken).where(ApiToken.id == token_uuid, ApiToken.user_id == user_id)
                          .returning(ApiToken.id)).first() is None:
        raise NotFound("Token not found.")


@dataclass(frozen=True)
class Caller:
    """Who an API token belongs to, and what it may do."""

    account: Account
    token_id: uuid.UUID
    scope: str


# The lookup every API request makes, compiled once; a plain read, which PostgreSQL runs
# for less than one that might also write.
_VALID = (K.token_hash == bindparam("secret_sha256"), or_(K.expires_at.is_(None), K.expires_at > func.now()))
# Judged by the database's clock, like the write it decides on.
_USE_NOT_RECORDED = or_(K.last_used_at.is_(None), K.last_used_at < func.now() - LAST_USED_PRECISION)
_AUTHENTICATE = Compiled(select(*ACCOUNT_COLUMNS, K.id.label("token_id"), K.scope,
                                _USE_NOT_RECORDED.label("use_not_recorded"))
                         .join_from(ApiToken, User, U.id == K.user_id).where(*_VALID))
# At most once a minute per token; conditional, so that concurrent requests write once too.
_RECORD_USE = Compiled(update(ApiToken).where(K.id == bindparam("token"), _USE_NOT_RECORDED)
                       .values(last_used_at=func.now()))


@operation("token.authenticate")
def authenticate_token(secret: str) -> Caller:
    """The account and scope of a bearer secret, or InvalidCredentials (unknown, revoked or
    expired). One round trip; the token's last use is recorded at most once a minute."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise InvalidCredentials("Invalid or expired token.")
    row = _AUTHENTICATE.first(secret_sha256=_hash(secret))
    if row is None:
        raise InvalidCredentials("Invalid or expired token.")
    if row.use_not_recorded:
        _RECORD_USE.rows(token=row.token_id)
    return Caller(account(row), row.token_id, row.scope)
