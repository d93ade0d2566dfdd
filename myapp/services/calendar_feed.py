"""The calendar feed: a secret, revocable URL per user that calendar apps poll (iCalendar).

The URL's secret is an HMAC of the user's id and a random nonce under SECRET_KEY: the
account page can show it again at any time, yet the database holds only the nonce and
the secret's SHA-256 (a copy of the database alone opens no feed). Regenerating draws a
new nonce, so the old URL ends at once; turning the feed off clears both. A secret that
names no feed, well-formed or not, is NotFound with the same words either way.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from icalendar import Calendar, Event, vRecur
from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.engine import Row

from ..errors import NotFound
from ..extensions import db
from ..models import DUE_KEY, Project, Task, User
from .compiled import Compiled
from .operations import operation
from .recurrence import parse_rule
from .tasks import TASK_COLUMNS
from .timezones import zone

FEED_LIMIT = 2000
EVENT_MINUTES = 30  # a task with a time is an event this long
NOT_FOUND = "No such calendar."
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")

U = User.__table__.c
T = Task.__table__.c
P = Project.__table__.c

_OWNER = Compiled(select(U.id, U.timezone).where(U.calendar_feed_hash == bindparam("feed_hash")))
# The user's open tasks with a due date, in projects that are not archived, soonest first.
_TASKS = Compiled(select(*TASK_COLUMNS).where(
    T.user_id == bindparam("owner"), T.completed.is_(False), T.due_date.is_not(None),
    T.project_id.not_in(select(P.id).where(P.user_id == bindparam("owner"), P.archived)))
    .order_by(literal_column(DUE_KEY), T.created_at, T.id).limit(FEED_LIMIT))


def _secret(user_id: uuid.UUID, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"calendar feed of {user_id}: {nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_secret(account) -> str | None:
    """The secret of the account's feed URL (from the nonce its lookup loaded), or None
    when the feed is off."""
    return _secret(account.id, account.calendar_nonce) if account.calendar_nonce else None


@operation("calendar.regenerate")
def regenerate(user_id: uuid.UUID) -> str:
    """A new feed URL (the old one, if any, ends now); its secret."""
    nonce = secrets.token_urlsafe(16)
    secret = _secret(user_id, nonce)
    db.session.execute(update(User).where(U.id == user_id).values(calendar_nonce=nonce,
                                                                  calendar_feed_hash=_hash(secret)))
    return secret


@operation("calendar.revoke")
def revoke(user_id: uuid.UUID) -> None:
    db.session.execute(update(User).where(U.id == user_id).values(calendar_nonce=None, calendar_feed_hash=None))


@dataclass(frozen=True)
class Feed:
    timezone: str
    tasks: list[Row]


@operation("calendar.feed")
def read_feed(secret: str) -> Feed:
    """The tasks of the feed this secret opens; NotFound for any other secret."""
    owner = _OWNER.first(feed_hash=_hash(secret)) if _SECRET.fullmatch(secret or "") else None
    if owner is None:
        raise NotFound(NOT_FOUND)
    return Feed(owner.timezone, _TASKS.rows(owner=owner.id))


def to_ics(feed: Feed, task_url: Callable[[uuid.UUID], str]) -> bytes:
    """The feed as iCalendar: an all-day event on each due date, or a half-hour one at its
    time in the user's zone; a task that repeats by its schedule carries its RRULE (one
    counted from completion cannot be foretold: only its next date)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Tasks//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Tasks")
    calendar.add("x-wr-timezone", feed.timezone)
    place = zone(feed.timezone)
    for task in feed.tasks:
        event = Event()
        event.add("uid", f"{task.id}@tasks")
        event.add("dtstamp", task.updated_at)
        event.add("last-modified", task.updated_at)
        event.add("sequence", task.version)
        event.add("summary", task.title)
        link = task_url(task.id)
        event.add("description", f"{task.description}\n\n{link}" if task.description else link)
        event.add("url", link)
        if task.tags:
            event.add("categories", task.tags)
        if task.due_time:
            event.add("dtstart", due_start(task, place))
            event.add("duration", timedelta(minutes=EVENT_MINUTES))
        else:  # (a duration, not an end: the calendar's last day has no day after it)
            event.add("dtstart", task.due_date)
            event.add("duration", timedelta(days=1))
        if task.recurrence_rule and task.recurrence_mode == "due":
            event.add("rrule", rrule_of(task, place))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def due_start(task: Row, place) -> datetime | date:
    """When the task is due: its day, or that day at its time in the user's zone `place`."""
    if not task.due_time:
        return task.due_date
    return datetime.combine(task.due_date, datetime.strptime(task.due_time, "%H:%M").time(), tzinfo=place)


def rrule_of(task: Row, place) -> vRecur:
    """The task's rule for its event. UNTIL is a date for an all-day event and, as RFC 5545
    requires beside a start with a time zone, the end of that day in UTC for a timed one."""
    rule = parse_rule(task.recurrence_rule)
    recur = vRecur.from_ical(str(rule).split(";UNTIL=")[0])
    if rule.until is not None:
        recur["UNTIL"] = rule.until if not task.due_time else \
            datetime.combine(rule.until, datetime.max.time().replace(microsecond=0), tzinfo=place).astimezone(
                zone("UTC"))
    return recur
