"""Projects: a project's page (root tasks with their subtasks nested), the list of all
projects (order, archived ones), and a project's settings (name, colour, archive, delete).

Everything here works without JavaScript: ordering is "move up / move down" buttons,
collapsing subtasks is <details>.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import escape

from ..errors import Conflict, ValidationError
from ..forms import ProjectForm, TaskForm, show_errors
from ..services import projects, quickadd, tasks
from .blueprint import bp
from .rows import Tree
from .task_views import PAGE_SIZE, RowContext, blank_add_task_form, list_params, return_to, sidebar_links

MAX_DEPTH = 4  # a root task and three levels below (the database refuses more)
NO_VERSION = "This form is missing the project's version. Open the project again and redo your change."


def _project_page(project_id, params: dict[str, str], form: TaskForm | None = None, status: int = 200):
    user = current_user
    project = projects.get_project(user.id, project_id)
    page = tasks.list_tasks(user.id, {**params, "project_id": str(project.id), "parent_id": "none",
                                      "limit": PAGE_SIZE}, user.timezone)
    children = tasks.descendants(user.id, [task.id for task in page.items])
    here = url_for("pages.project", project_id=project.id, **params)

    def list_url(**changes) -> str:
        return url_for("pages.project", project_id=project.id, **{**params, "cursor": None, **changes})

    add_url = url_for("pages.add_task", project_id=project.id)
    return render_template(
        "pages/project.html", project=project, page=page, params=params, form=form,
        here=here, list_url=list_url, add_url=add_url, tree=Tree(children, MAX_DEPTH, escape(add_url), escape(here)),
        add_task_fields=None if form else blank_add_task_form(),
        sidebar=tasks.sidebar(user.id), links=sidebar_links(),
        rows=RowContext.for_list(here, user.timezone),
    ), status


@bp.get("/projects/<project_id>")
@login_required
def project(project_id):
    params = list_params(request.args)
    try:
        return _project_page(project_id, params)
    except ValidationError as error:  # a hand-edited or outdated filter in the URL
        for message in error.details.values():
            flash(message, "error")
        return redirect(url_for("pages.project", project_id=project_id))


@bp.post("/projects/<project_id>/tasks")
@login_required
def add_task(project_id):
    """The project page's add box (a task of this project) and its subtask boxes (a task
    under another, in its parent's project)."""
    form = TaskForm()
    values = form.values()
    if not values["parent_id"]:
        values["project_id"] = project_id
        # The project's add box reads its line as quick add, as the list's does (this
        # project wins over a #project in the line).
        values, _ = quickadd.with_line(current_user.id, values, current_user.timezone)
    try:
        task = tasks.create_task(current_user.id, values, current_user.timezone)
    except ValidationError as error:
        if values["parent_id"]:  # a subtask's small box: its error on top of the page
            for message in error.details.values():
                flash(f"The subtask was not added: {message}", "error")
            return redirect(return_to())
        show_errors(form, error.details)
        params = list_params(dict(parse_qsl(urlsplit(return_to()).query)))
        return _project_page(project_id, params, form, status=422)
    flash(f"Added “{task.title}”.", "success")
    return redirect(return_to())


@bp.get("/projects")
@login_required
def project_list():
    return render_template("pages/projects.html", projects=projects.list_projects(current_user.id),
                           sidebar=tasks.sidebar(current_user.id), links=sidebar_links())


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project():
    form = ProjectForm()
    if request.method == "POST":
        try:
            created = projects.create_project(current_user.id, form.values())
        except ValidationError as error:
            show_errors(form, error.details)
            return render_template("pages/project_form.html", form=form, project=None), 422
        flash(f"Created the project “{created.name}”.", "success")
        return redirect(url_for("pages.project", project_id=created.id))
    return render_template("pages/project_form.html", form=form, project=None)


@bp.route("/projects/<project_id>/settings", methods=["GET", "POST"])
@login_required
def project_settings(project_id):
    project = projects.get_project(current_user.id, project_id)
    form = ProjectForm()
    if request.method == "GET":
        form.fill(project)
        return render_template("pages/project_form.html", form=form, project=project)
    if form.version.data is None:
        abort(400, NO_VERSION)
    values = form.values()
    if project.is_inbox:
        values.pop("name")  # the Inbox's name is not on its form
    try:
        updated = projects.update_project(current_user.id, project.id, values, expected_version=form.version.data)
    except ValidationError as error:
        if "version" in error.details:  # the hidden field, altered: as good as missing
            abort(400, NO_VERSION)
        show_errors(form, error.details)
        return render_template("pages/project_form.html", form=form, project=project), 422
    except Conflict as conflict:
        form.version.data = conflict.current.version
        return render_template("pages/project_form.html", form=form, project=conflict.current,
                               conflict=True), 409
    flash(f"Saved “{updated.name}”.", "success")
    return redirect(url_for("pages.project", project_id=updated.id))


@bp.post("/projects/<project_id>/move")
@login_required
def move_project(project_id):
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, "This form asks for an unknown direction. Reload the page and try again.")
    moved = projects.move_project(current_user.id, project_id, direction)
    flash(f"Moved “{moved.name}” {direction}.", "success")
    return redirect(url_for("pages.project_list"))


@bp.post("/projects/<project_id>/archive")
@login_required
def archive_project(project_id):
    archived = request.form.get("archived")
    if archived not in ("true", "false"):
        abort(400, "This form asks for an unknown state. Reload the page and try again.")
    try:
        updated = projects.update_project(current_user.id, project_id, {"archived": archived == "true"})
    except ValidationError as error:
        for message in error.details.values():
            flash(message, "error")
        return redirect(url_for("pages.project_settings", project_id=project_id))
    if updated.archived:
        flash(f"Archived “{updated.name}”: it is hidden from the sidebar and the task views.", "success")
    else:
        flash(f"“{updated.name}” is back in the sidebar.", "success")
    return redirect(url_for("pages.project", project_id=updated.id))


@bp.route("/projects/<project_id>/delete", methods=["GET", "POST"])
@login_required
def delete_project(project_id):
    project = projects.get_project(current_user.id, project_id)
    others = [p for p in projects.list_projects(current_user.id) if p.id != project.id]
    if request.method == "GET" or project.is_inbox:
        status = 200
        error = None
        if project.is_inbox:
            error, status = "The Inbox cannot be deleted.", 422 if request.method == "POST" else 200
        return render_template("pages/confirm_delete_project.html", project=project, others=others,
                               error=error), status
    try:
        projects.delete_project(current_user.id, project.id, request.form.get("move_to") or None)
    except ValidationError as error:
        return render_template("pages/confirm_delete_project.html", project=project, others=others,
                               error=" ".join(error.details.values())), 422
    flash(f"Deleted the project “{project.name}”.", "success")
    return redirect(url_for("pages.index"))
