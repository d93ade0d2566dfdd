"""Typed models. No queries, no commits: those live in myapp.services.

Defaults that matter are set *in the database* (server_default and triggers in the
migration), so raw SQL gets them too. Columns the database maintains (updated_at,
version, completed_at, search_vector, priority_rank) are fetched back with RETURNING.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .services.validation import WHITESPACE

PRIORITIES = ("none", "low", "medium", "high")
COLORS = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
TOKEN_SCOPES = ("read", "write")

TIMESTAMPTZ = DateTime(timezone=True)
# The due sort's key: due date and time as one timestamp; a day without a time sorts just
# before that day's first minute (its tasks before the day's timed ones), no date last.
DUE_KEY = ("coalesce(due_date + due_time, due_date - '00:00:00.000001'::interval, "
           "'infinity'::timestamp without time zone)")


def _sql_characters(characters: str) -> str:
    """A PostgreSQL literal of these characters, spelled in ASCII (U& escapes)."""
    return "U&'" + "".join(f"\\{ord(c):04X}" for c in characters) + "'"


def _uuid_pk():
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _owner(**kwargs):
    return mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), **kwargs)


def _created_at():
    return mapped_column(TIMESTAMPTZ, server_default=func.now())


def _updated_at():
    # Moved by the trigger set_updated_at() on every UPDATE, raw SQL included.
    return mapped_column(TIMESTAMPTZ, server_default=func.now())


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = _uuid_pk()
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text, server_default=text("'UTC'"))
    # The calendar feed (services/calendar_feed.py): its URL's secret is made from the nonce
    # and SECRET_KEY; the hash finds the user by it. Both null: no feed.
    calendar_nonce: Mapped[str | None] = mapped_column(Text)
    calendar_feed_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("uq_users_email_lower", func.lower(email), unique=True),
        Index("uq_users_calendar_feed_hash", "calendar_feed_hash", unique=True),
        CheckConstraint("email = lower(btrim(email))", name="email_normalised"),
    )


class SignIn(db.Model):
    """One signed-in browser: its session and remember-me cookies name this row, and
    every page request checks that it still exists. Signing out deletes it."""

    __tablename__ = "sign_ins"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner(index=True)
    created_at: Mapped[datetime] = _created_at()
    # When the password was last typed on this device ("sudo mode" for sensitive actions).
    authenticated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    # Moved at most once a minute, by the lookup that loads the user.
    last_seen_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    user_agent: Mapped[str] = mapped_column(Text, server_default=text("''"))
    remember: Mapped[bool] = mapped_column(server_default=text("false"))

    __table_args__ = (
        CheckConstraint("char_length(user_agent) <= 512", name="user_agent_length"),
    )


def _not_blank(column: str, longest: int) -> str:
    return f"char_length(btrim({column}, {_sql_characters(WHITESPACE)})) BETWEEN 1 AND {longest}"


class Project(db.Model):
    """A user's list of tasks; every user has one Inbox (made by a trigger with the user).

    active_count and completed_count are kept by the tasks' count trigger; version and
    updated_at move only when what the user set changes (projects_before_write, which
    also puts a new project last and refuses a 301st).
    """

    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    name: Mapped[str] = mapped_column(Text)
    color: Mapped[str] = mapped_column(Text, server_default=text("'grey'"))
    position: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(server_default=text("false"))
    is_inbox: Mapped[bool] = mapped_column(server_default=text("false"))
    active_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completed_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        CheckConstraint(_not_blank("name", 100), name="name_length"),
        CheckConstraint(f"color IN ({', '.join(repr(c) for c in COLORS)})", name="color_valid"),
        CheckConstraint("NOT (is_inbox AND archived)", name="inbox_not_archived"),
        # The target of tasks' (project_id, user_id): a task's project is its owner's.
        UniqueConstraint("id", "user_id"),
        Index("uq_projects_user_name", "user_id", func.lower(name), unique=True),
        Index("uq_projects_user_inbox", "user_id", unique=True, postgresql_where=text("is_inbox")),
        Index("ix_projects_user_position", "user_id", "position", "created_at"),
    )


class Task(db.Model):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # A subtask's parent: a task of the same user in the same project (see the keys below).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(server_default=text("false"))
    completed_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)  # set by trigger
    due_date: Mapped[date | None]
    due_time: Mapped[time | None]  # only with a due date; read in the owner's time zone
    # A recurring task: an RRULE of the subset (services/recurrence.py), the series' first
    # date, and "due" or "completion". All three or none.
    recurrence_rule: Mapped[str | None] = mapped_column(Text)
    recurrence_anchor: Mapped[date | None]
    recurrence_mode: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text, server_default=text("'none'"))
    # high=3 ... none=0, so "priority" sorts with one index, high first.
    priority_rank: Mapped[int] = mapped_column(SmallInteger, Computed(
        "CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END",
        persisted=True))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    # An imported task's source: the format and the source's id or content (services/imports.py).
    import_key: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    search_vector: Mapped[str] = mapped_column(TSVECTOR, Computed(
        "to_tsvector('simple'::regconfig, title || ' ' || coalesce(description, ''))", persisted=True),
        deferred=True)

    __table_args__ = (
        CheckConstraint(_not_blank("title", 255), name="title_length"),
        CheckConstraint("char_length(description) <= 10000", name="description_length"),
        CheckConstraint("priority IN ('none', 'low', 'medium', 'high')", name="priority_valid"),
        CheckConstraint("cardinality(tags) <= 10", name="tags_count"),
        CheckConstraint("due_time IS NULL OR due_date IS NOT NULL", name="due_time_needs_date"),
        CheckConstraint("(recurrence_rule IS NULL) = (recurrence_anchor IS NULL) "
                        "AND (recurrence_rule IS NULL) = (recurrence_mode IS NULL)", name="recurrence_whole"),
        CheckConstraint("recurrence_rule IS NULL OR due_date IS NOT NULL", name="recurrence_needs_date"),
        CheckConstraint("recurrence_mode IN ('due', 'completion')", name="recurrence_mode_valid"),
        CheckConstraint("char_length(recurrence_rule) <= 300", name="recurrence_rule_length"),
        CheckConstraint("char_length(import_key) <= 200", name="import_key_length"),
        # The database itself keeps tasks in their owner's projects and under their owner's
        # tasks; a subtree follows its root to another project (ON UPDATE CASCADE).
        UniqueConstraint("id", "project_id", "user_id"),
        ForeignKeyConstraint(["project_id", "user_id"], ["projects.id", "projects.user_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["parent_id", "project_id", "user_id"], ["tasks.id", "tasks.project_id", "tasks.user_id"],
                             onupdate="CASCADE", ondelete="CASCADE"),
        Index("ix_tasks_parent", "parent_id", "completed", postgresql_where=text("parent_id IS NOT NULL")),
        Index("ix_tasks_project_created", "project_id", "created_at", "id"),
        # One index per sort order, each led by user_id (see services/tasks.py).
        Index("ix_tasks_user_created", "user_id", "created_at", "id"),
        Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at", "id"),
        Index("ix_tasks_user_priority", "user_id", "priority_rank", "created_at", "id"),
        Index("ix_tasks_user_due", "user_id", text(DUE_KEY), "created_at", "id"),
        Index("ix_tasks_user_title", "user_id", text("lower(title)"), "id"),
        Index("ix_tasks_tags", "tags", postgresql_using="gin"),
        Index("ix_tasks_search", "search_vector", postgresql_using="gin"),
        Index("uq_tasks_user_import_key", "user_id", "import_key", unique=True,
              postgresql_where=text("import_key IS NOT NULL")),
    )


class TaskCompletion(db.Model):
    """One completed occurrence of a recurring task: when, which due date, and what "Undo"
    restores: the anchor the task had before, and the subtasks it reopened."""

    __tablename__ = "task_completions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = _owner()
    due_date: Mapped[date]
    anchor: Mapped[date]
    reopened: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default=text("'{}'::uuid[]"))
    completed_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_task_completions_task", "task_id", "completed_at"),)


class TagCount(db.Model):
    """Tasks per tag per user, kept by the same trigger."""

    __tablename__ = "tag_counts"

    user_id: Mapped[uuid.UUID] = _owner(primary_key=True)
    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner(index=True)
    name: Mapped[str] = mapped_column(Text)
    # SHA-256 of the token: tokens are long random strings, so a fast hash is safe.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(Text)  # first characters, to tell tokens apart
    scope: Mapped[str] = mapped_column(Text, server_default=text("'write'"))
    expires_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    last_used_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("scope IN ('read', 'write')", name="scope_valid"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
    )


class IdempotencyKey(db.Model):
    """The task a POST with an Idempotency-Key created, so that a retry gets it back.

    It holds the task's id, never its text: when the task is deleted, nothing of it
    stays here (task_id becomes null and a retry is told the task is gone).
    """

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = _owner(primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        # Expired keys of every user are purged in batches, oldest first.
        Index("ix_idempotency_keys_created_at", "created_at"),
    )
