"""Sign-ins: one server-side record per signed-in browser.

The session and remember-me cookies name a sign-in; every page request loads the user
through it (load: one statement; `last_seen_at` is written at most once a minute).
Signing out deletes it, so a copied cookie stops working at once; a password change
deletes all but the current one; the account page lists them and can end any.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Row

from ..errors import InvalidCredentials, NotFound, ValidationError
from ..extensions import db
from ..models import SignIn, User
from .compiled import Compiled
from .operations import operation
from .users import ACCOUNT_COLUMNS, Account, U, account, hasher, normalise_email, verify_password

S = SignIn.__table__.c
USER_AGENT_MAX = 512
# Bookkeeping, not a log: last seen is moved at most this often.
LAST_SEEN_PRECISION = timedelta(minutes=1)
# A sign-in unused this long has ended (the remember-me cookie's own lifetime).
LIFETIME = timedelta(days=30)
# Sensitive actions (creating an API token) need the password typed this recently.
RECENT = timedelta(minutes=10)

SIGN_IN_COLUMNS = (S.id, S.created_at, S.last_seen_at, S.user_agent, S.remember)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


@operation("signin.create")
def sign_in(email: Any, password: Any, user_agent: str = "", remember: bool = False) -> Account:
    """Check the email and password, then record a new sign-in; InvalidCredentials otherwise.

    An unknown email costs one hash verification too, so the answer and its timing
    are the same for an unknown email and a wrong password.
    """
    row = db.session.execute(select(U.id, U.password_hash).where(U.email == normalise_email(email))).first()
    if not verify_password(row.password_hash if row else None, password):
        raise InvalidCredentials()
    rehash = hasher().check_needs_rehash(row.password_hash)
    if rehash:  # stronger parameters than when it was set: store it again with them
        db.session.execute(update(User).where(U.id == row.id).values(password_hash=hasher().hash(password)))
    return start(row.id, user_agent, remember)


@operation("signin.start")
def start(user_id: uuid.UUID, user_agent: str = "", remember: bool = False) -> Account:
    """Record a sign-in of this user on this device (after sign-up, or sign_in)."""
    created = insert(SignIn).values(user_id=user_id, user_agent=(user_agent or "")[:USER_AGENT_MAX],
                                    remember=bool(remember)).returning(S.id, S.user_id, S.authenticated_at) \
        .cte("created")
    row = db.session.execute(select(*ACCOUNT_COLUMNS, created.c.id.label("sign_in_id"), created.c.authenticated_at)
                             .join_from(created, User, U.id == created.c.user_id)).one()
    return account(row)


# The lookup every page request makes, compiled once (see tokens._AUTHENTICATE).
_NOT_SEEN_LATELY = S.last_seen_at < func.now() - LAST_SEEN_PRECISION  # by the database's clock
_LOAD = Compiled(select(*ACCOUNT_COLUMNS, S.id.label("sign_in_id"), S.authenticated_at,
                        _NOT_SEEN_LATELY.label("not_seen_lately"))
                 .join_from(SignIn, User, U.id == S.user_id)
                 .where(S.id == bindparam("cookie_sign_in"), S.last_seen_at > func.now() - LIFETIME))
# At most once a minute per sign-in; conditional, so that concurrent requests write once too.
_RECORD_SEEN = Compiled(update(SignIn).where(S.id == bindparam("seen_sign_in"), _NOT_SEEN_LATELY)
                        .values(last_seen_at=func.now()))


@operation("signin.load")
def load(sign_in_id: Any) -> Account | None:
    """The signed-in user of this sign-in, or None when it has ended. One round trip; when
    it was last seen is recorded at most once a minute."""
    sign_in_uuid = _uuid(sign_in_id)
    if sign_in_uuid is None:
        return None
    row = _LOAD.first(cookie_sign_in=sign_in_uuid)
    if row is None:
        return None
    if row.not_seen_lately:
        _RECORD_SEEN.rows(seen_sign_in=sign_in_uuid)
    return account(row)


@operation("signin.confirm_password")
def confirm_password(user_id: uuid.UUID, sign_in_id: uuid.UUID, password: Any) -> Account:
    """Typing the password again makes this sign-in recent ("sudo mode"); a validation
    error on `password` when it is wrong."""
    password_hash = db.session.execute(select(U.password_hash).where(U.id == user_id)).scalar()
    if not verify_password(password_hash, password):
        raise ValidationError(details={"password": "This is not your password."})
    confirmed = update(SignIn).where(S.id == sign_in_id, S.user_id == user_id) \
        .values(authenticated_at=func.now()).returning(S.id, S.user_id, S.authenticated_at).cte("confirmed")
    row = db.session.execute(select(*ACCOUNT_COLUMNS, confirmed.c.id.label("sign_in_id"),
                                    confirmed.c.authenticated_at)
                             .join_from(confirmed, User, U.id == confirmed.c.user_id)).first()
    if row is None:
        raise NotFound("This sign-in has ended.")
    return account(row)


@operation("signin.list")
def list_sign_ins(user_id: uuid.UUID) -> list[Row]:
    """This user's sign-ins, most recently seen first."""
    return list(db.session.execute(select(*SIGN_IN_COLUMNS)
                                   .where(S.user_id == user_id, S.last_seen_at > func.now() - LIFETIME)
                                   .order_by(S.last_seen_at.desc(), S.id)))


@operation("signin.end")
def end(user_id: uuid.UUID, sign_in_id: Any) -> None:
    """Sign that device out: its cookies stop working with the next request."""
    sign_in_uuid = _uuid(sign_in_id)
    if sign_in_uuid is None or db.session.execute(
            delete(SignIn).where(S.id == sign_in_uuid, S.user_id == user_id).returning(S.id)).first() is None:
        raise NotFound("This sign-in has already ended.")


_BROWSERS = (("Edge", r"Edg(e|A|iOS)?/"), ("Opera", r"OPR/|Opera"), ("Samsung Internet", r"SamsungBrowser/"),
             ("Firefox", r"Firefox/|FxiOS/"), ("Chrome", r"Chrome/|CriOS/|Chromium/"), ("Safari", r"Safari/"),
             ("curl", r"^curl/"))
_SYSTEMS = (("Android", r"Android"), ("iPhone", r"iPhone"), ("iPad", r"iPad"), ("Windows", r"Windows"),
            ("macOS", r"Macintosh|Mac OS X"), ("ChromeOS", r"CrOS"), ("Linux", r"Linux|X11"))


def describe_device(user_agent: str) -> str:
    """"Firefox on Linux", "Safari on iPhone": enough to recognise one's own devices."""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"
