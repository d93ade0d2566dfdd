"""The task list and the task actions.

Every action carries the list URL it came from (`return_to`) and goes back there,
so filters, search and the place in the list survive a toggle, an edit or a delete.
Scripts (static/js/app.js) post to the same endpoints asking for JSON and update
the page in place.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import (
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..errors import Conflict, ValidationError
from ..forms import EditTaskForm, TaskForm, optional_int, show_errors
from ..security import local_path
from ..services import projects, quickadd, scheduling, tasks
from ..services.timezones import now_in
from .blueprint import bp
from .display import friendly_date
from .rows import task_row

PAGE_SIZE = 20
DATED_VIEWS = ("today", "upcoming")
LIST_PARAMS = ("status", "q", "tag", "priority", "sort", "cursor")


def list_params(values: Mapping[str, str]) -> dict[str, str]:
    """The list's filters, sort and cursor found in a query string; blanks dropped."""
    return {key: values[key].strip() for key in LIST_PARAMS if (values.get(key) or "").strip()}


def return_to() -> str:
    """The list URL an action came from (only a path on this site), else the home page."""
    return local_path(request.values.get("return_to")) or url_for("pages.index")


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _counts() -> dict:
    counts = tasks.count_tasks(current_user.id)
    return {"active": counts.active, "completed": counts.completed, "total": counts.total}


@dataclass(frozen=True)
class RowContext:
    """What every row of a task list shares, worked out once per page, so that a row
    renders without a url_for, a csrf_token() or an icon macro of its own."""

    csrf: str
    return_to: Markup  # the list the row's actions come back to (escaped once, for attributes)
    return_query: Markup  # the same, as the query string of the edit and delete links
    tasks_url: str  # "/tasks/": a task's URLs are this, its id and the action
    tag_url: str  # "/?tag=": the list of a tag is this and the tag
    now: datetime  # the user's wall clock (due dates and times are read in it)
    icons: dict[str, Markup]

    @property
    def today(self) -> date:
        return self.now.date()

    @classmethod
    def for_list(cls, return_to: str, tz: str) -> RowContext:
        return cls(csrf=generate_csrf(), return_to=escape(return_to),
                   return_query=escape(urlencode({"return_to": return_to})),
                   tasks_url=url_for("pages.index") + "tasks/", tag_url=url_for("pages.index", tag=""),
                   now=now_in(tz), icons=row_icons())


# Markup that is the same on every page, rendered by its macro once per process (and
# template environment), not once per row or per page.

@cache
def _icons(_environment_id: int) -> dict[str, Markup]:
    icon = get_template_attribute("macros.html", "icon")
    return {name: icon(name, "check-icon" if name == "check" else "chip-icon")
            for name in ("check", "calendar", "flag", "repeat")}


def row_icons() -> dict[str, Markup]:
    return _icons(id(current_app.jinja_env))


@cache
def _blank_add_task_form(_environment_id: int) -> Markup:
    return get_template_attribute("pages/_task.html", "add_task_form")(TaskForm(formdata=None))


def blank_add_task_form() -> Markup:
    return _blank_add_task_form(id(current_app.jinja_env))


# The characters werkzeug leaves unquoted in a query string it builds (werkzeug.urls).
_QUERY_SAFE = "!$'()*,/:;?@"


def index_url(**params) -> str:
    """url_for("pages.index", **params), as werkzeug builds it (the path, then the values
    that are not None, in order), without its cost: a list page links to itself a score of
    times (views, tags, sorts, pages), and each url_for was ~15 µs."""
    query = urlencode([(name, value) for name, value in params.items() if value is not None], safe=_QUERY_SAFE)
    return f"{request.script_root}/?{query}" if query else f"{request.script_root}/"


bp.add_app_template_global(index_url)


def sidebar_links() -> dict[str, str]:
    """The sidebar's per-project link, as a prefix (no url_for per project)."""
    return {"project": url_for("pages.index") + "projects/"}


def render_row(task) -> str:
    """One row alone, as the list shows it (for the script's in-place updates)."""
    return task_row(task, RowContext.for_list(return_to(), current_user.timezone))


def _task_list(params: dict[str, str], form: TaskForm | None = None, status: int = 200):
    """The list page; with `form` (what the user typed, and its errors) in the add box."""
    user = current_user
    # Today and Upcoming read soonest due first unless another sort is asked for.
    sort = params.get("sort") or ("due" if params.get("status") in DATED_VIEWS else "newest")
    page = tasks.list_tasks(user.id, {**params, "sort": sort, "limit": PAGE_SIZE}, user.timezone)
    here = index_url(**params)

    def list_url(**changes) -> str:
        """This list with some filters changed; a new filter starts again at the top."""
        return index_url(**{**params, "cursor": None, **changes})

    return render_template(
        "pages/index.html", page=page, params=params, form=form, here=here, list_url=list_url, sort=sort,
        by_day=params.get("status") == "upcoming" and sort == "due",
        add_task_fields=None if form else blank_add_task_form(),
        sidebar=tasks.sidebar(user.id), links=sidebar_links(),
        rows=RowContext.for_list(here, user.timezone),
    ), status


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("pages/landing.html")
    params = list_params(request.args)
    try:
        return _task_list(params)
    except ValidationError as error:  # a hand-edited or outdated filter in the URL
        for message in error.details.values():
            flash(message, "error")
        kept = {key: value for key, value in params.items() if key not in error.details}
        return redirect(url_for("pages.index", **(kept if kept != params else {})))


@bp.post("/tasks")
@login_required
def create():
    """The add box reads its line as quick add (services/quickadd.py); the detailed fields,
    where filled, win. The message says what was understood."""
    form = TaskForm()
    try:
        values, line = quickadd.with_line(current_user.id, form.values(), current_user.timezone)
        task = tasks.create_task(current_user.id, values, current_user.timezone)
    except ValidationError as error:
        show_errors(form, error.details)
        params = list_params(dict(parse_qsl(urlsplit(return_to()).query)))
        return _task_list(params, form, status=422)
    understood = [form.title.data[part.start:part.end] for part in line.parts] if line else []
    flash(f"Added “{task.title}”" + (f" ({', '.join(understood)})." if understood else "."), "success")
    for name in line.unknown_projects if line else ():
        flash(f"No project is called “{name}”: “#{name}” stays in the title.", "info")
    return redirect(return_to())


def _occurrence() -> date | None:
    """The due date a recurring task's form completes (None when it does not say)."""
    try:
        return date.fromisoformat(request.form.get("occurrence", ""))
    except ValueError:
        return None


def _day(day: date) -> str:
    """A date as a sentence says it: 'today', 'Friday', '3 Dec'."""
    name = friendly_date(day, now_in(current_user.timezone).date())
    return name.lower() if name in ("Today", "Tomorrow", "Yesterday") else name


def _moved_on(task, done_due: date | None) -> str:
    """What the page says when a recurring task moved to its next date."""
    if done_due is None:
        return f"“{task.title}” skipped to {_day(task.due_date)}."
    return f"“{task.title}” done for {_day(done_due)}; next due {_day(task.due_date)}."


@bp.post("/tasks/<task_id>/toggle")
@login_required
def toggle(task_id):
    # The form says which state it wants, so a double submit or a second tab cannot undo it.
    wanted = request.form.get("completed")
    if wanted not in ("true", "false", None):
        abort(400, "This form asks for an unknown state. Reload the page and try again.")
    zone, occurrence = current_user.timezone, _occurrence()
    if wanted is None:  # a page from before the form said so
        task = tasks.toggle_task(current_user.id, task_id, tz=zone, occurrence=occurrence)
    else:
        task = tasks.set_completed(current_user.id, task_id, wanted == "true", zone, occurrence)
    undo = None
    if task.recurrence_rule and not task.completed and occurrence and task.due_date != occurrence:
        message = _moved_on(task, occurrence)
        undo = {"task_id": str(task.id), "version": task.version}
    else:
        message = f"“{task.title}” is done." if task.completed else f"“{task.title}” is open again."
    if wants_json():
        return jsonify(message=message, completed=task.completed, html=render_row(task), counts=_counts(), undo=undo)
    if undo:  # the flash carries the Undo form's values (templates/base.html)
        flash(f"{undo['task_id']} {undo['version']} {message}", "undo")
    else:
        flash(message, "success")
    return redirect(return_to())


@bp.post("/tasks/<task_id>/undo")
@login_required
def undo(task_id):
    """Undo the latest completion of a recurring task, if nothing changed it since."""
    try:
        task = tasks.undo_completion(current_user.id, task_id, optional_int(request.form.get("version")))
    except ValidationError:
        abort(400, NO_VERSION)
    except Conflict:
        flash("The task has changed since it was done, so it was not undone.", "error")
        return redirect(return_to())
    flash(f"“{task.title}” is due {_day(task.due_date)} again.", "success")
    return redirect(return_to())


@bp.post("/tasks/<task_id>/skip")
@login_required
def skip(task_id):
    try:
        task = tasks.skip_occurrence(current_user.id, task_id, tz=current_user.timezone, occurrence=_occurrence())
    except ValidationError as error:
        for message in error.details.values():
            flash(message, "error")
        return redirect(return_to())
    flash(_moved_on(task, None), "success")
    return redirect(return_to())


NO_VERSION = "This form is missing the task's version. Open the task again and redo your change."


@bp.route("/tasks/<task_id>/edit", methods=["GET", "POST"])
@login_required
def edit(task_id):
    form = EditTaskForm()
    form.return_to.data = return_to()
    form.offer_projects(projects.list_projects(current_user.id))
    task = tasks.get_task(current_user.id, task_id)
    schedule = {"next": scheduling.occurrences(task, 5)} if task.recurrence_rule else None
    if request.method == "GET":
        form.fill(task)
        return render_template("pages/edit.html", form=form, task_id=task_id, schedule=schedule)
    if form.version.data is None:
        abort(400, NO_VERSION)
    try:
        task = tasks.update_task(current_user.id, task_id, form.values(), expected_version=form.version.data,
                                 tz=current_user.timezone)
    except ValidationError as error:
        if "version" in error.details:  # the hidden field, altered: as good as missing
            abort(400, NO_VERSION)
        show_errors(form, error.details)
        return render_template("pages/edit.html", form=form, task_id=task_id, schedule=schedule), 422
    except Conflict as conflict:
        # Keep what the user typed, show what the task holds now, and let a second
        # save (with the current version) replace it knowingly.
        form.version.data = conflict.current.version
        return render_template("pages/edit.html", form=form, task_id=task_id, current=conflict.current,
                               schedule=schedule), 409
    flash(f"Saved “{task.title}”.", "success")
    return redirect(form.return_to.data)


@bp.route("/tasks/<task_id>/delete", methods=["GET", "POST"])
@login_required
def delete(task_id):
    if request.method == "GET":
        task = tasks.get_task(current_user.id, task_id)
        return render_template("pages/confirm_delete.html", task=task, return_to=return_to(),
                               subtasks=tasks.count_descendants(current_user.id, task.id))
    tasks.delete_task(current_user.id, task_id)
    if wants_json():
        return jsonify(message="Task deleted.", counts=_counts(), tags=dict(tasks.list_tags(current_user.id)))
    flash("Task deleted.", "success")
    return redirect(return_to())


@bp.route("/tasks/clear-completed", methods=["GET", "POST"])
@login_required
def clear_completed():
    if request.method == "GET":
        return render_template("pages/confirm_clear.html", counts=tasks.count_tasks(current_user.id),
                               return_to=return_to())
    cleared = tasks.clear_completed(current_user.id)
    flash(f"Cleared {cleared} completed task{'' if cleared == 1 else 's'}.", "success")
    return redirect(return_to())
