"""Everything stored for a user, for them to take away."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from ..extensions import db
from ..models import TaskCompletion
from ..serializers import project_to_json, task_to_json, token_to_json, user_to_json
from .operations import operation
from .projects import ORDER, PROJECT_COLUMNS, P
from .tasks import TASK_COLUMNS, T
from .tokens import TOKEN_COLUMNS, K
from .users import get_user


@operation("user.export")
def export_data(user_id: uuid.UUID) -> dict:
    """Everything stored for this user, as JSON-ready data (token hashes excluded)."""
    user = get_user(user_id)
    projects = db.session.execute(select(*PROJECT_COLUMNS).where(P.user_id == user_id).order_by(*ORDER))
    tasks = db.session.execute(select(*TASK_COLUMNS).where(T.user_id == user_id).order_by(T.created_at, T.id))
    tokens = db.session.execute(select(*TOKEN_COLUMNS).where(K.user_id == user_id).order_by(K.created_at))
    C = TaskCompletion.__table__.c
    completions = db.session.execute(select(C.task_id, C.due_date, C.completed_at).where(C.user_id == user_id)
                                     .order_by(C.task_id, C.completed_at))
    return {
        "user": user_to_json(user),
        "projects": [project_to_json(project) for project in projects],
        "tasks": [task_to_json(task) for task in tasks],
        # Each completed occurrence of a recurring task: which task, which due date, when.
        "completions": [row._asdict() for row in completions],
        "api_tokens": [token_to_json(token) for token in tokens],
    }
