"""The routes of API v1: parse -> service -> serialise. Errors are mapped by myapp.errors."""
from __future__ import annotations

from collections.abc import Callable

from flask import g, jsonify, request, url_for

from .. import ratelimits, transfers
from ..errors import ValidationError
from ..serializers import project_etag, project_to_json, task_etag, task_to_json, user_to_json
from ..services import idempotency, imports, projects, quickadd, tasks
from . import openapi
from .blueprint import bp
from .inputs import expected_version, idempotency_key, json_body, query_params


def _row_response(body: dict, etag: str, location: Callable[[], str], status: int = 200):
    """A task or project with its strong ETag (its version and the counts it shows); a new
    one (201) also with its Location, made by `location()`."""
    response = jsonify(body)
    response.status_code = status
    response.set_etag(etag)
    if status == 201:
        response.headers["Location"] = location()
    return response


def _task_response(task, status: int = 200):
    return _row_response(task_to_json(task), task_etag(task), lambda: url_for(".get_task", task_id=task.id), status)


def _project_response(project, status: int = 200):
    return _row_response(project_to_json(project), project_etag(project),
                         lambda: url_for(".get_project", project_id=project.id), status)


def _conditional(response):
    """304 for a read whose If-None-Match names the current ETag, 412 for one whose If-Match
    does not: werkzeug's rules, asked only when the request has such a condition (for the
    others they cost a twentieth of a read). These answers carry no Last-Modified, so
    If-Modified-Since has nothing to compare with."""
    if "HTTP_IF_NONE_MATCH" in request.environ or "HTTP_IF_MATCH" in request.environ:
        return response.make_conditional(request)
    return response


@bp.after_request
def no_store(response):
    """My data is for me: no shared or browser cache keeps a copy (the document is public)."""
    if request.endpoint != "api.openapi":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/tasks")
def list_tasks():
    user = g.api_user
    page = tasks.list_tasks(user.id, query_params(), user.timezone)
    return {"items": [task_to_json(task) for task in page.items],
            "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor}


@bp.post("/tasks")
def create_task():
    data = json_body()
    key = idempotency_key()
    if key is None:
        return _task_response(tasks.create_task(g.api_user.id, data, g.api_user.timezone), 201)
    created = idempotency.create_task_once(g.api_user.id, key, data, g.api_user.timezone)
    response = _task_response(created.task, 201)
    response.headers["Idempotent-Replayed"] = "true" if created.replayed else "false"
    return response


@bp.post("/tasks/parse")
def parse_line():
    return quickadd.parse(g.api_user.id, json_body(), g.api_user.timezone)


@bp.post("/tasks/quick")
def quick_add():
    created = quickadd.create(g.api_user.id, json_body(), g.api_user.timezone, idempotency_key())
    response = _task_response(created.task, 201)
    if request.headers.get("Idempotency-Key") is not None:
        response.headers["Idempotent-Replayed"] = "true" if created.replayed else "false"
    return response


@bp.get("/tasks/<task_id:task_id>")
def get_task(task_id: str):
    task = tasks.get_task(g.api_user.id, task_id)
    return _conditional(_task_response(task))


@bp.patch("/tasks/<task_id:task_id>")
def update_task(task_id: str):
    task = tasks.update_task(g.api_user.id, task_id, json_body(), expected_version(), g.api_user.timezone)
    return _task_response(task)


@bp.delete("/tasks/<task_id:task_id>")
def delete_task(task_id: str):
    tasks.delete_task(g.api_user.id, task_id, expected_version())
    return "", 204


@bp.post("/tasks/<task_id:task_id>/toggle")
def toggle_task(task_id: str):
    task = tasks.toggle_task(g.api_user.id, task_id, expected_version(), g.api_user.timezone)
    return _task_response(task)


@bp.post("/tasks/<task_id:task_id>/skip")
def skip_task(task_id: str):
    task = tasks.skip_occurrence(g.api_user.id, task_id, expected_version(), g.api_user.timezone)
    return _task_response(task)


def _only(params: dict, *names: str) -> dict:
    unknown = {name: "Unknown parameter." for name in params if name not in names}
    if unknown:
        raise ValidationError(details=unknown)
    return params


@bp.get("/tasks/<task_id:task_id>/completions")
def list_completions(task_id: str):
    _only(query_params())
    return {"items": [{"completed_at": row.completed_at, "due_date": row.due_date}
                      for row in tasks.list_completions(g.api_user.id, task_id)]}


@bp.get("/tasks/<task_id:task_id>/occurrences")
def list_occurrences(task_id: str):
    limit = _only(query_params(), "limit").get("limit", "5")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit[:3]) <= 50 and len(limit) <= 2):
        raise ValidationError(details={"limit": "Use a whole number from 1 to 50."})
    return {"items": tasks.list_occurrences(g.api_user.id, task_id, int(limit))}


@bp.get("/projects")
def list_projects():
    return {"items": [project_to_json(project) for project in projects.list_projects(g.api_user.id)]}


@bp.post("/projects")
def create_project():
    return _project_response(projects.create_project(g.api_user.id, json_body()), 201)


@bp.get("/projects/<project_id>")
def get_project(project_id: str):
    return _conditional(_project_response(projects.get_project(g.api_user.id, project_id)))


@bp.patch("/projects/<project_id>")
def update_project(project_id: str):
    project = projects.update_project(g.api_user.id, project_id, json_body(), expected_version())
    return _project_response(project)


@bp.delete("/projects/<project_id>")
def delete_project(project_id: str):
    params = _only(query_params(), "move_to")
    projects.delete_project(g.api_user.id, project_id, params.get("move_to"), expected_version())
    return "", 204


@bp.get("/tags")
def list_tags():
    return {"items": [{"tag": tag, "count": count} for tag, count in tasks.list_tags(g.api_user.id)]}


@bp.get("/me")
def me():
    return user_to_json(g.api_user)


@bp.get("/export", defaults={"extension": "json"})
@bp.get("/export.csv", defaults={"extension": "csv"})
@bp.get("/export.ics", defaults={"extension": "ics"})
def export_file(extension: str):
    return transfers.export_response(g.api_user, extension)


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ValidationError(details={name: "Use true or false."})


@bp.post("/import")
@transfers.body_limit(imports.MAX_BYTES)
def import_file():
    params = _only(query_params(), "dry_run", "format")
    ratelimits.spend_import(g.api_user.id)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError(details={"file": "Send the file as the multipart/form-data field “file”."})
    events = imports.import_file(g.api_user.id, upload.read(), upload.filename or "",
                                 request.form.get("format") or params.get("format"),
                                 _flag(params.get("dry_run"), "dry_run"), g.api_user.timezone)
    if transfers.wants_ndjson():
        return transfers.ndjson_response(events)
    *_, report = events
    return report


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    return openapi.document()
