"""JSON shapes of the data, shared by the API and the account export.

Values stay as the database gave them (UUIDs, dates, timestamps in UTC: the app's role
runs its sessions in UTC, see myapp.database); the app's JSON encoder (orjson, see
myapp.json_provider) writes them as strings: UUIDs in their canonical form, dates as
YYYY-MM-DD and timestamps as ISO 8601 with their offset. Building a page of fifty
tasks is then a dict per row and nothing more.
"""
from __future__ import annotations

from .services.projects import PROJECT_COLUMNS
from .services.scheduling import describe
from .services.tasks import TASK_COLUMNS, entity_tag

TASK_FIELDS = tuple(column.name for column in TASK_COLUMNS)
_RECURRENCE = ("recurrence_rule", "recurrence_mode", "recurrence_anchor")
PROJECT_FIELDS = tuple(column.name for column in PROJECT_COLUMNS)


def task_to_json(task) -> dict:
    """A task row (services.tasks.TASK_COLUMNS first, in that order) as its JSON object."""
    data = dict(zip(TASK_FIELDS, task, strict=False))  # a list's rows carry their cursor keys after
    rule, mode, _ = (data.pop(name) for name in _RECURRENCE)
    data["recurrence"] = {"rule": rule, "mode": mode, "text": describe(rule, mode)} if rule else None
    return data


def task_etag(task) -> str:
    """The version and the counts the task shows: a copy with stale counts is stale."""
    return entity_tag(task)


def project_to_json(project) -> dict:
    return dict(zip(PROJECT_FIELDS, project, strict=True))


def project_etag(project) -> str:
    return f"{project.version}.{project.active_count}.{project.completed_count}"


def user_to_json(user) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "timezone": user.timezone,
        "created_at": user.created_at,
    }


def token_to_json(token) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "created_at": token.created_at,
    }
