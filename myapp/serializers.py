"""JSON shapes of the data, shared by the API and the account export."""
from __future__ import annotations

from datetime import datetime, timezone

from .models import ApiToken, Task, User


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset."""
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def task_to_json(task: Task) -> dict:
    return {
        "id": str(task.id),
        "title": task.title,
        "description": task.description,
        "completed": task.completed,
        "completed_at": iso(task.completed_at),
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "priority": task.priority,
        "tags": list(task.tags),
        "version": task.version,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
    }


def user_to_json(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "timezone": user.timezone,
        "created_at": iso(user.created_at),
    }


def token_to_json(token: ApiToken) -> dict:
    return {
        "id": str(token.id),
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
        "created_at": iso(token.created_at),
    }
