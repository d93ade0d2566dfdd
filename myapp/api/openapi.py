"""The OpenAPI 3.1 document of API v1, served at /api/v1/openapi.json.

Request schemas are generated from the pydantic models the service layer validates
with (their $defs moved into components), so every input rule the service enforces is
stated here. Response schemas mirror myapp.serializers. Tests run the live API
against this document (Schemathesis), so the two cannot drift apart unnoticed.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from .. import importers
from ..models import COLORS, PRIORITIES, TOKEN_SCOPES
from ..services import imports
from ..services.idempotency import KEY_LIFETIME
from ..services.projects import MAX_PROJECTS
from ..services.tasks import COMPLETIONS_MAX
from ..services.validation import (
    PROJECT_NAME_MAX,
    TAG_MAX,
    TIME_PATTERN,
    ProjectCreate,
    ProjectUpdate,
    QuickLine,
    TaskCreate,
    TaskQuery,
    TaskUpdate,
)
from .inputs import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN

JSON = "application/json"
NDJSON = "application/x-ndjson"
DESCRIPTION = f"""\
The JSON API of the task manager.

**Authentication.** Send `Authorization: Bearer <token>` with a personal API token (made on the
account page, or with `flask tokens create EMAIL NAME`). Read-only tokens may only use GET. The
browser session cookie works too; then unsafe methods (POST, PATCH, DELETE) must send the
page's CSRF token in `X-CSRFToken`. Without valid credentials: 401 with `WWW-Authenticate: Bearer`.

**Errors.** Every error has the body `{{"code", "message", "details"}}`; `details` maps each invalid
field (or header, or `_` for the whole body) to a message. Unknown routes under `/api` answer 404 and
methods a route does not have answer 405 with `Allow`, in the same shape.

**Paging.** `GET /tasks` returns `next_cursor` (and `prev_cursor` after the first page); pass one
back as `cursor` with the same `sort`. Cursors are opaque: one this API did not issue is a 422.

**Projects and subtasks.** Every task is in one of my projects (the Inbox when none is named) and may
have a parent: a task of the same project, at most 4 levels in all. A subtask sent with `parent_id` and
no `project_id` goes to its parent's project; a subtask moved on its own to another project (a PATCH
with only `project_id`) leaves its parent there; a task's subtasks move with it. Completing a task
completes its open subtasks; reopening a subtask reopens its completed ancestors. Deleting a task
deletes its subtasks; deleting a project deletes its tasks, unless `move_to` names a project to
move them to. A `project_id` or `parent_id` that is not mine is a 422 naming that field. At most
{MAX_PROJECTS} projects.

**Due times and recurrence.** `due_time` (`HH:MM`) is read in my time zone and needs a `due_date`.
`recurrence` is `{{"rule", "mode", "text"}}` or null; on write, send `rule` (an RFC 5545 RRULE: FREQ
DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT or UNTIL) or
`text` (an English phrase: `every monday`, `every 3rd friday`, `every! 2 weeks`, `after 3 days`,
... `until 2027-06-30`, `for 10 times`), and optionally `mode` (`due`: the next date follows the
schedule; `completion`: counted from the day it is done; `every!` and `after` mean `completion`).
A recurrence without a due date starts today; the due date becomes the schedule's first date on or
after it. Completing a recurring task (toggle, or PATCH `completed: true`) records the completion
and moves the due date on (reopening its subtasks); at the end of the series it completes for good.

**Quick add.** `POST /tasks/parse` `{{"text"}}` says what a line means (title, `#project`,
`@tags`, `p1`–`p4`, a date, a time, a recurrence phrase, and where each part is in the line) and
writes nothing; `POST /tasks/quick` creates that task (`Idempotency-Key` compares the text sent).

**Conditional requests.** Task and project responses carry a strong `ETag`: the version and the
counts the representation shows (a task's `"12.3.5"`: version, subtasks, completed subtasks; a
project's: version, active and completed tasks). PATCH, DELETE and toggle take an optional
`If-Match`: `*` or entity tags (RFC 9110); unless one of them is the current ETag (weak tags
never are), 412 and nothing is written. `If-None-Match` on GET answers 304 when it is unchanged.

**Idempotency.** `POST /tasks` with an `Idempotency-Key` header creates the task once: a retry with
the same key and body gets the task the first request created, as it is now (with
`Idempotent-Replayed: true`), for {KEY_LIFETIME.total_seconds() / 3600:.0f} hours; 410 if that task was
deleted since. The same key with a different body is a 409.

**Caching.** Every answer that carries my data says `Cache-Control: no-store`.

**Rate limits.** Each user has one budget for the whole API, shared by their tokens and browser
session (calls without valid credentials: one per client address); over it, 429 with `Retry-After`.
"""


def _ref(name: str, kind: str = "schemas") -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], **extra: Any) -> dict:
    """An object with exactly these properties, all present."""
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False, **extra}


UUID = {"type": "string", "format": "uuid"}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC, with its offset"}

RESPONSE_SCHEMAS = {
    "Task": _object({
        "id": UUID,
        "project_id": UUID,
        "parent_id": _nullable(UUID) | {"description": "The parent task; null for a root task"},
        "title": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": _nullable({"type": "string", "maxLength": 10_000}),
        "completed": {"type": "boolean"},
        "completed_at": _nullable(TIMESTAMP),
        "due_date": _nullable({"type": "string", "format": "date"}),
        "due_time": _nullable({"type": "string", "pattern": TIME_PATTERN}) | {
            "description": "HH:MM in my time zone; only with a due date"},
        "recurrence": _nullable(_ref("Schedule")),
        "priority": {"enum": list(PRIORITIES)},
        "tags": {"type": "array", "items": {"type": "string", "pattern": f"^[a-z0-9_-]{{1,{TAG_MAX}}}$"},
                 "maxItems": 10, "uniqueItems": True},
        "version": {"type": "integer", "minimum": 1, "description": "Moves on every change"},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "subtask_count": {"type": "integer", "minimum": 0, "description": "Direct subtasks"},
        "subtask_completed_count": {"type": "integer", "minimum": 0, "description": "Direct subtasks completed"},
    }),
    "Completion": _object({"completed_at": TIMESTAMP, "due_date": {"type": "string", "format": "date"}}),
    "Schedule": _object({
        "rule": {"type": "string", "description": "RFC 5545 RRULE (a COUNT is kept as UNTIL, its last date)"},
        "mode": {"enum": ["due", "completion"]},
        "text": {"type": "string", "description": "The rule in English"},
    }, description="How a task repeats"),
    "Completions": _object({"items": {"type": "array", "maxItems": COMPLETIONS_MAX, "items": _ref("Completion")}},
        description=f"The task's recorded completions, newest first (the latest {COMPLETIONS_MAX})"),
    "Occurrences": _object({"items": {"type": "array", "maxItems": 50, "items": {"type": "string", "format": "date"}}},
                           description="The task's due date, then the next dates of its schedule"),
    "ParsedLine": _object({
        "title": {"type": "string"},
        "project_id": _nullable(UUID) | {"description": "The #project named; null: the Inbox"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "priority": {"enum": list(PRIORITIES)},
        "due_date": _nullable({"type": "string", "format": "date"}),
        "due_time": _nullable({"type": "string", "pattern": TIME_PATTERN}),
        "recurrence": _nullable(_ref("Schedule")),
        "parts": {"type": "array", "items": _object({
            "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 1},
            "kind": {"enum": ["project", "tag", "priority", "date", "time", "recurrence"]}}),
            "description": "What was recognised, as offsets in code points (end exclusive)"},
        "unknown_projects": {"type": "array", "items": {"type": "string"},
                             "description": "Names after # that match none of my projects (left in the title)"},
    }, description="What a quick-add line means; nothing is written"),
    "Project": _object({
        "id": UUID,
        "name": {"type": "string", "minLength": 1, "maxLength": PROJECT_NAME_MAX},
        "color": {"enum": list(COLORS)},
        "position": {"type": "integer", "minimum": 0, "description": "My order (the Inbox first)"},
        "archived": {"type": "boolean"},
        "is_inbox": {"type": "boolean"},
        "active_count": {"type": "integer", "minimum": 0},
        "completed_count": {"type": "integer", "minimum": 0},
        "version": {"type": "integer", "minimum": 1, "description": "Moves on every change of the fields above"},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }),
    "ProjectList": _object({"items": {"type": "array", "items": _ref("Project"), "maxItems": MAX_PROJECTS}},
                           description="All my projects in my order, archived ones included"),
    "TaskPage": _object({
        "items": {"type": "array", "items": _ref("Task")},
        "next_cursor": _nullable({"type": "string"}) | {"description": "The next page; null on the last"},
        "prev_cursor": _nullable({"type": "string"}) | {"description": "The previous page; null on the first"},
    }),
    "TagCounts": _object({"items": {"type": "array", "items": _object({
        "tag": {"type": "string"}, "count": {"type": "integer", "minimum": 1}})}},
        description="My tags, alphabetically, with how many of my tasks carry each"),
    "User": _object({"id": UUID, "email": {"type": "string"}, "timezone": {"type": "string"},
                     "created_at": TIMESTAMP}),
    "ApiToken": _object({
        "id": UUID, "name": {"type": "string"}, "prefix": {"type": "string"},
        "scope": {"enum": list(TOKEN_SCOPES)}, "expires_at": _nullable(TIMESTAMP),
        "last_used_at": _nullable(TIMESTAMP), "created_at": TIMESTAMP,
    }, description="A token, without its secret (only ever shown once, at creation)"),
    "Export": _object({
        "exported_at": TIMESTAMP, "user": _ref("User"), "projects": {"type": "array", "items": _ref("Project")},
        "tasks": {"type": "array", "items": _ref("ExportTask")},
        "tokens": {"type": "array", "items": _ref("ApiToken")},
    }, description="Everything stored for me, as of one moment; `POST /import` reads it back"),
    "ImportReport": _object({
        "format": {"enum": list(importers.FORMATS)},
        "dry_run": {"type": "boolean", "description": "True: nothing was written"},
        "projects_created": {"type": "integer", "minimum": 0},
        "tasks_created": {"type": "integer", "minimum": 0},
        "tasks_existing": {"type": "integer", "minimum": 0,
                           "description": "Records imported before (the same source id or line): not made again"},
        "tasks_skipped": {"type": "array", "items": _object({"line": {"type": "integer", "minimum": 1},
                                                             "reason": {"type": "string"}})},
        "warnings": {"type": "array", "items": _object({"line": {"type": "integer", "minimum": 1},
                                                        "message": {"type": "string"}})},
        "preview": {"type": "array", "maxItems": imports.PREVIEW_ROWS, "items": {"type": "object"},
                    "description": "The first tasks as they would be made"},
        "mapping": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                    "description": "Only for `csv`: each column of the file -> the field it fills (null: not read)"},
    }, description="What an import made; `line` is the file's physical line where the record starts"),
    "Error": _object({
        "code": {"type": "string"},
        "message": {"type": "string", "description": "For people: safe to show"},
        "details": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "Field, header or `_` -> what is wrong with it"},
    }),
}

# A task in the export: as the API shows it, with its recorded completions.
RESPONSE_SCHEMAS["ExportTask"] = _object({**RESPONSE_SCHEMAS["Task"]["properties"],
                                          "completions": {"type": "array", "items": _ref("Completion")}})

HEADERS = {
    "ETag": {"description": "The version and the counts shown, as a strong entity tag", "required": True,
             "schema": {"type": "string", "pattern": '^"[1-9][0-9]*[.][0-9]+[.][0-9]+"$'}},
    "Location": {"description": "The new task's or project's URL", "required": True,
                 "schema": {"type": "string", "format": "uri-reference"}},
    "Idempotent-Replayed": {"description": "Sent with an Idempotency-Key: whether this is the first answer "
                                           "given again", "schema": {"enum": ["true", "false"]}},
    "Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
    "WWW-Authenticate": {"description": "The scheme to authenticate with", "required": True,
                         "schema": {"type": "string", "pattern": "^Bearer"}},
}

PARAMETERS = {
    "TaskId": {"name": "task_id", "in": "path", "required": True, "schema": UUID,
               "description": "A task of mine; any other id (malformed, unknown, someone else's) is a 404"},
    "ProjectId": {"name": "project_id", "in": "path", "required": True, "schema": UUID,
                  "description": "A project of mine; any other id (malformed, unknown, someone else's) is a 404"},
    "MoveTo": {"name": "move_to", "in": "query", "required": False,
               "schema": {"anyOf": [UUID, {"type": "string", "maxLength": 0}]},
               "description": "Move the project's tasks (with their subtasks) to this project of mine first; "
                              "without it (or empty), they are deleted with the project"},
    "IfMatch": {"name": "If-Match", "in": "header", "required": False,
                "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
                "description": "`*`, or entity tags (RFC 9110), as the task's ETag was received: 412 (nothing "
                               "written) unless one of them is the task's current ETag. Weak tags never match."},
    "IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                    "description": "ETags; 304 without a body when the task still has one of them"},
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                       "description": "Any unique string (a UUID, say): a retry with the same key and body "
                                      "returns the first answer instead of creating a second task"},
    "CsrfToken": {"name": "X-CSRFToken", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "Required when authenticated by the session cookie (the page's CSRF token)"},
}

QUERY_DESCRIPTIONS = {
    "status": "`overdue`: not completed, due before today in my time zone; `today`: not completed, due today or "
              "before; `upcoming`: not completed, due today or in the six days after it",
    "q": "Words that must each begin a word of the title or description",
    "tag": "Only tasks with this tag (matched in lower case)",
    "priority": "Only tasks with this priority",
    "due_before": "Due on or before this date",
    "due_after": "Due on or after this date",
    "project_id": "Only tasks of this project (archived or not)",
    "parent_id": "A task's id: its direct subtasks; `none`: root tasks only",
    "archived": "Tasks of archived projects: `false` (default without `project_id`) leaves them out, "
                "`true` lists only them, `any` both",
    "sort": "`due`: no due date last; `priority`: high first",
    "limit": "Tasks per page",
    "cursor": "`next_cursor` or `prev_cursor` of a previous page with the same sort",
}


def _error(description: str, *codes: str, headers: tuple[str, ...] = ()) -> dict:
    """An error response: the Error shape with the codes it may carry."""
    schema = {"allOf": [_ref("Error"), {"properties": {"code": {"enum": list(codes)}}}]}
    response = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = {name: _ref(name, "headers") for name in headers}
    return response


ERRORS = {
    "400": _error("Malformed JSON body, or a malformed If-Match or Idempotency-Key header",
                  "MALFORMED_JSON", "MALFORMED_HEADER"),
    "401": _error("No valid credentials (missing, unknown, revoked or expired token)", "UNAUTHORIZED",
                  headers=("WWW-Authenticate",)),
    "403": _error("A read-only token on an unsafe method, or a session call without its CSRF token",
                  "FORBIDDEN", "CSRF_FAILED"),
    "404": _error("No such task or project of mine", "NOT_FOUND"),
    "409": _error("This Idempotency-Key was first used with a different body", "IDEMPOTENCY_KEY_REUSED"),
    "410": _error("The task this Idempotency-Key created has been deleted since: no second one is made", "GONE"),
    "412": _error("If-Match names no current ETag: nothing was written", "PRECONDITION_FAILED"),
    "413": _error("The body is larger than the server accepts (MAX_CONTENT_LENGTH)", "PAYLOAD_TOO_LARGE"),
    "415": _error("The body is not sent as application/json", "UNSUPPORTED_MEDIA_TYPE"),
    "422": _error("Invalid input; `details` says which field and why", "VALIDATION_ERROR"),
    "429": _error("Over the rate limit", "RATE_LIMITED", headers=("Retry-After",)),
    "500": _error("Unexpected failure (logged; no details are given)", "INTERNAL_ERROR"),
    "503": _error("The database is unavailable, or a statement ran past its time limit", "DATABASE_UNAVAILABLE",
                  "QUERY_TIMEOUT", headers=("Retry-After",)),
}
READ_ERRORS = ("401", "429", "500", "503")
WRITE_ERRORS = ("400", "401", "403", "429", "500", "503")
BODY_ERRORS = ("413", "415", "422")
CONDITIONAL_ERRORS = ("404", "412")  # a task or project by id, with If-Match


def _ok(description: str, schema: str | None, *headers: str) -> dict:
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {JSON: {"schema": _ref(schema)}}
    if headers:
        response["headers"] = {name: _ref(name, "headers") for name in headers}
    return response


def _parameters(*names: str) -> list[dict]:
    return [_ref(name, "parameters") for name in names]


def _operation(operation_id: str, summary: str, responses: dict[str, dict], errors: tuple[str, ...],
               parameters: list[dict] | None = None, body: str | None = None, example: dict | None = None,
               **extra: Any) -> dict:
    operation = {"operationId": operation_id, "summary": summary,
                 "responses": {**responses, **{status: _ref(status, "responses") for status in sorted(errors)}},
                 **extra}
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body), "example": example}}}
    return operation


def _query_parameters(schema: dict) -> list[dict]:
    """TaskQuery's fields as query parameters. A parameter is text or absent, never null."""
    parameters = []
    for name, field in schema["properties"].items():
        field = {key: value for key, value in field.items() if key != "title"}
        alternatives = [option for option in field.pop("anyOf", []) if option != {"type": "null"}]
        if len(alternatives) > 1:
            field["anyOf"] = alternatives
        else:
            field.update(*alternatives)
        if field.get("default", "") is None:
            del field["default"]
        parameters.append({"name": name, "in": "query", "required": False, "schema": field,
                           "description": QUERY_DESCRIPTIONS[name]})
    return parameters


def _task_links() -> dict:
    by_id = {"task_id": "$response.body#/id"}
    return {name: {"operationId": operation_id, "parameters": by_id}
            for name, operation_id in (("GetTask", "getTask"), ("UpdateTask", "updateTask"),
                                       ("DeleteTask", "deleteTask"), ("ToggleTask", "toggleTask"),
                                       ("SkipTask", "skipTask"), ("ListCompletions", "listCompletions"),
                                       ("ListOccurrences", "listOccurrences"))}


@cache
def document() -> dict:
    _, top = models_json_schema([(TaskCreate, "validation"), (TaskUpdate, "validation"), (TaskQuery, "validation"),
                                 (ProjectCreate, "validation"), (ProjectUpdate, "validation"),
                                 (QuickLine, "validation")],
                                ref_template="#/components/schemas/{model}")
    schemas = top["$defs"]
    query = _query_parameters(schemas.pop("TaskQuery"))
    task_ok = _ok("The task", "Task", "ETag")
    project_ok = _ok("The project", "Project", "ETag")
    created = _ok("Created (or, with an Idempotency-Key seen before, the first answer again)", "Task",
                  "ETag", "Location", "Idempotent-Replayed") | {"links": _task_links()}
    paths = {
        "/tasks": {
            "get": _operation("listTasks", "One page of my tasks, filtered and sorted",
                              {"200": _ok("A page of tasks", "TaskPage")}, (*READ_ERRORS, "422"), query),
            "post": _operation("createTask", "Create a task", {"201": created},
                               (*WRITE_ERRORS, *BODY_ERRORS, "409", "410"),
                               _parameters("IdempotencyKey", "CsrfToken"), body="TaskCreate",
                               example={"title": "Water the plants", "tags": ["home"], "due_date": "2026-12-24",
                                        "recurrence": {"text": "every 3 days"}}),
        },
        "/tasks/parse": {
            "post": _operation("parseTask", "What a quick-add line means (writes nothing)",
                               {"200": _ok("The fields the line gives", "ParsedLine")},
                               (*WRITE_ERRORS, *BODY_ERRORS), _parameters("CsrfToken"), body="QuickLine",
                               example={"text": "Pay rent every month on the 1st #Home @bills p1"}),
        },
        "/tasks/quick": {
            "post": _operation("quickAddTask", "Create the task a quick-add line means", {"201": created},
                               (*WRITE_ERRORS, *BODY_ERRORS, "409", "410"),
                               _parameters("IdempotencyKey", "CsrfToken"), body="QuickLine",
                               example={"text": "Call Ana tomorrow at 17:30 @phone"}),
        },
        "/tasks/{task_id}": {
            "get": _operation("getTask", "One of my tasks", {"200": task_ok, "304": _ok(
                "Not modified: If-None-Match holds the current ETag", None, "ETag")},
                (*READ_ERRORS, "404"), _parameters("TaskId", "IfNoneMatch")),
            "patch": _operation("updateTask", "Change the fields sent (null clears description or due_date)",
                                {"200": task_ok}, (*WRITE_ERRORS, *BODY_ERRORS, *CONDITIONAL_ERRORS),
                                _parameters("TaskId", "IfMatch", "CsrfToken"), body="TaskUpdate",
                                example={"priority": "high", "description": None}),
            "delete": _operation("deleteTask", "Delete a task", {"204": _ok("Deleted", None)},
                                 (*WRITE_ERRORS, *CONDITIONAL_ERRORS), _parameters("TaskId", "IfMatch", "CsrfToken")),
        },
        "/tasks/{task_id}/toggle": {
            "post": _operation("toggleTask", "Flip completed (an open recurring task moves to its next date)",
                               {"200": task_ok}, (*WRITE_ERRORS, *CONDITIONAL_ERRORS),
                               _parameters("TaskId", "IfMatch", "CsrfToken")),
        },
        "/tasks/{task_id}/skip": {
            "post": _operation("skipTask", "Move a recurring task to its next date without recording a completion "
                               "(422 for a task that does not repeat)", {"200": task_ok},
                               (*WRITE_ERRORS, *CONDITIONAL_ERRORS, "422"),
                               _parameters("TaskId", "IfMatch", "CsrfToken")),
        },
        "/tasks/{task_id}/completions": {
            "get": _operation("listCompletions", "The recorded completions of a recurring task",
                              {"200": _ok("Its completions", "Completions")}, (*READ_ERRORS, "404", "422"),
                              _parameters("TaskId")),
        },
        "/tasks/{task_id}/occurrences": {
            "get": _operation("listOccurrences", "A task's due date and its schedule's next dates",
                              {"200": _ok("Its dates", "Occurrences")}, (*READ_ERRORS, "404", "422"),
                              [*_parameters("TaskId"), {"name": "limit", "in": "query", "required": False,
                                                        "schema": {"type": "integer", "minimum": 1, "maximum": 50,
                                                                   "default": 5}}]),
        },
        "/projects": {
            "get": _operation("listProjects", "All my projects, in my order",
                              {"200": _ok("My projects", "ProjectList")}, READ_ERRORS),
            "post": _operation("createProject", "Create a project (last in my order)", {"201": _ok(
                "Created", "Project", "ETag", "Location")}, (*WRITE_ERRORS, *BODY_ERRORS),
                _parameters("CsrfToken"), body="ProjectCreate", example={"name": "Garden", "color": "green"}),
        },
        "/projects/{project_id}": {
            "get": _operation("getProject", "One of my projects", {"200": project_ok, "304": _ok(
                "Not modified: If-None-Match holds the current ETag", None, "ETag")},
                (*READ_ERRORS, "404"), _parameters("ProjectId", "IfNoneMatch")),
            "patch": _operation("updateProject", "Rename, recolour, archive or place a project (the Inbox keeps its "
                                "name and place and is never archived: 422)", {"200": project_ok},
                                (*WRITE_ERRORS, *BODY_ERRORS, *CONDITIONAL_ERRORS),
                                _parameters("ProjectId", "IfMatch", "CsrfToken"), body="ProjectUpdate",
                                example={"name": "Garden 2027", "archived": False}),
            "delete": _operation("deleteProject", "Delete a project and its tasks, or move them first (the Inbox "
                                 "cannot be deleted: 422)", {"204": _ok("Deleted", None)},
                                 (*WRITE_ERRORS, *CONDITIONAL_ERRORS, "422"),
                                 _parameters("ProjectId", "MoveTo", "IfMatch", "CsrfToken")),
        },
        "/tags": {"get": _operation("listTags", "My tags with counts", {"200": _ok("My tags", "TagCounts")},
                                    READ_ERRORS)},
        "/me": {"get": _operation("getMe", "My account", {"200": _ok("My account", "User")}, READ_ERRORS)},
        "/export": {"get": _operation("exportData", "All my data as JSON (streamed; a line per project and task)",
                                      {"200": _ok("Everything stored for me", "Export")}, READ_ERRORS)},
        "/export.csv": {"get": _operation("exportCsv", "My tasks as CSV, a row each (for spreadsheets)", {"200": {
            "description": "One row per task", "content": {"text/csv": {"schema": {"type": "string"}}}}},
            READ_ERRORS)},
        "/export.ics": {"get": _operation("exportIcs", "My tasks as iCalendar VTODOs", {"200": {
            "description": "A VCALENDAR", "content": {"text/calendar": {"schema": {"type": "string"}}}}},
            READ_ERRORS)},
        "/import": {"post": _operation(
            "importTasks", "Import a file of tasks (one transaction; the same file twice makes nothing new)",
            {"200": {"description": "The report; with Accept: application/x-ndjson, lines of progress "
                                    "({\"stored\", \"total\"}) and then the report",
                     "content": {JSON: {"schema": _ref("ImportReport")},
                                 NDJSON: {"schema": {"type": "string"}}}}},
            (*WRITE_ERRORS, "413", "422"),
            [{"name": "dry_run", "in": "query", "required": False, "schema": {"enum": ["true", "false"]},
              "description": "true: answer the same report and write nothing"}, *_parameters("CsrfToken")],
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": f"At most {imports.MAX_BYTES // (1024 * 1024)} MB and "
                                            f"{imports.MAX_TASKS:,} tasks (413 or 422 beyond)"},
                    "format": {"enum": list(importers.FORMATS),
                               "description": "Detected from the file when not given"}}}}}})},
        "/openapi.json": {"get": _operation("getOpenApi", "This document", {"200": {
            "description": "The OpenAPI document", "content": {JSON: {"schema": {"type": "object"}}}}},
            ("429", "500", "503"), security=[])},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tasks API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"browserSession": []}],
        "paths": paths,
        "components": {
            "schemas": {**schemas, **RESPONSE_SCHEMAS},
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "responses": ERRORS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal API token (`tm_...`)"},
                "browserSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                   "description": "The signed-in browser session; unsafe methods also need "
                                                  "X-CSRFToken"},
            },
        },
    }
