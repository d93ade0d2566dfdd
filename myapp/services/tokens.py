"""Personal API tokens: shown once, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from ..errors import InvalidCredentials, NotFound, ValidationError
from ..extensions import db
from ..models import TOKEN_SCOPES, ApiToken, User
from .operations import operation, rollback

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
                 expires_in_days: Any = None) -> tuple[ApiToken, str]:
    """A new token and its secret text, which is never stored and never shown again."""
    name, scope, days = _check(name, scope, expires_in_days)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(timezone.utc) + timedelta(days=days) if days else None
    token = db.session.scalar(insert(ApiToken).values(
        user_id=user_id, name=name, scope=scope, expires_at=expires_at,
        token_hash=_hash(secret), prefix=secret[:len(TOKEN_PREFIX) + 6]).returning(ApiToken))
    db.session.commit()
    return token, secret


@operation("token.list")
def list_tokens(user_id: uuid.UUID) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                   .order_by(ApiToken.created_at.desc())))


@operation("token.revoke")
def revoke_token(user_id: uuid.UUID, token_id: Any) -> None:
    try:
        token_uuid = uuid.UUID(str(token_id))
    except ValueError:
        raise NotFound("Token not found.") from None
    if db.session.execute(delete(ApiToken).where(ApiToken.id == token_uuid, ApiToken.user_id == user_id)
                          .returning(ApiToken.id)).first() is None:
        raise NotFound("Token not found.")
    db.session.commit()


@operation("token.authenticate")
def authenticate_token(secret: str) -> tuple[User, ApiToken]:
    """The user and token for a bearer secret, or InvalidCredentials (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise InvalidCredentials("Invalid or expired token.")
    row = db.session.execute(select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
                             .where(ApiToken.token_hash == _hash(secret))).first()
    now = datetime.now(timezone.utc)
    if row is None or (row.ApiToken.expires_at is not None and row.ApiToken.expires_at <= now):
        rollback()
        raise InvalidCredentials("Invalid or expired token.")
    user, token = row
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional, so concurrent requests write at most once a minute too.
        db.session.execute(update(ApiToken).where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_PRECISION),
        ).values(last_used_at=now))
        token.last_used_at = now
        db.session.commit()
    # Otherwise nothing was written: the request's next reads share this transaction.
    return user, token
