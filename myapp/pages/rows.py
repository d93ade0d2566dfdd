"""A row of a task list, and a task with its subtasks on a project page, as HTML: the list
pages' hottest markup, written here in Python.

Rendered by a Jinja macro it cost about 100 µs a row (a macro call, some forty autoescaped
values, as many attribute lookups through the template runtime): half of a 20-row page's
time. Here the values a user typed (title, description, tags) are escaped, once each; the
rest are ids, dates, fixed words and Markup worked out once per page (RowContext).
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from ..services.scheduling import describe
from .display import due_label, due_state


def task_row(task, rows, inner: str = "") -> Markup:
    """The row of `task` in a list whose shared parts are `rows` (a RowContext); `inner` is
    markup that goes inside it (on a project page, its subtasks)."""
    state = due_state(task, rows.now)
    task_id = str(task.id)  # once for the three places that name it
    url = f"{rows.tasks_url}{task_id}"
    title = escape(task.title)
    done = task.completed
    recurring = task.recurrence_rule is not None
    in_tree = task.subtask_count or task.parent_id
    parts = [
        f'<li class="task{" is-done" if done else ""}{f" is-{state}" if state else ""} priority-{task.priority}" '
        f'id="task-{task_id}" tabindex="-1"{" data-tree" if in_tree else ""}{" data-repeats" if recurring else ""}>\n'
        f'  <form class="task-toggle" method="post" action="{url}/toggle">\n'
        f'    <input type="hidden" name="csrf_token" value="{rows.csrf}">\n'
        f'    <input type="hidden" name="return_to" value="{rows.return_to}">\n'
        f'    <input type="hidden" name="completed" value="{"false" if done else "true"}">']
    if recurring and not done:
        parts.append(f'\n    <input type="hidden" name="occurrence" value="{task.due_date.isoformat()}">')
    parts.append(
        f'\n    <button type="submit" class="check">{rows.icons["check"]}<span class="visually-hidden">'
        f'{"Mark as not done: " if done else "Mark as done: "}{title}</span>\n    </button>\n'
        f'  </form>\n'
        f'  <div class="task-body">\n'
        f'    <a class="task-title" href="{url}/edit?{rows.return_query}">{title}</a>')
    if task.description:
        parts.append(f'\n    <p class="task-description">{escape(task.description)}</p>')
    if task.due_date or task.priority != "none" or task.tags or task.subtask_count or recurring:
        parts.append('\n    <ul class="task-meta">')
        if task.subtask_count:
            parts.append(f'\n      <li class="chip chip-progress">{rows.icons["check"]}{task.subtask_completed_count}/'
                         f'{task.subtask_count}<span class="visually-hidden"> subtasks done</span></li>')
        if task.due_date:
            at = f"T{task.due_time}" if task.due_time else ""
            parts.append(f'\n      <li class="chip chip-{state or "due"}">{rows.icons["calendar"]}<time datetime="'
                         f'{task.due_date.isoformat()}{at}">{due_label(task, rows.now)}</time></li>')
        if recurring:
            parts.append(f'\n      <li class="chip chip-repeat">{rows.icons["repeat"]}<span class="visually-hidden">'
                         f'Repeats </span>{escape(describe(task.recurrence_rule, task.recurrence_mode))}</li>')
        if task.priority != "none":
            parts.append(f'\n      <li class="chip chip-{task.priority}">{rows.icons["flag"]}'
                         f'{task.priority.capitalize()}<span class="visually-hidden"> priority</span></li>')
        for tag in task.tags:
            tag = escape(tag)
            parts.append(f'\n      <li><a class="chip chip-tag" href="{rows.tag_url}{tag}"><span '
                         f'class="visually-hidden">Tag </span>#{tag}</a></li>')
        parts.append('\n    </ul>')
    confirm = "" if task.subtask_count else (
        f'\n       data-confirm="Delete “{title}”? This cannot be undone." data-confirm-button="Delete task"'
        f'\n       data-remove="task-{task_id}"')
    parts.append(
        f'\n  </div>\n'
        f'  <div class="task-actions">\n'
        f'    <a class="btn btn-small btn-quiet" href="{url}/edit?{rows.return_query}">Edit<span '
        f'class="visually-hidden"> “{title}”</span></a>\n'
        f'    <a class="btn btn-small btn-quiet btn-danger-text" href="{url}/delete?{rows.return_query}"'
        f'{confirm}>Delete<span class="visually-hidden"> “{title}”</span></a>\n'
        f'  </div>{inner}\n</li>')
    return Markup("".join(parts))


@dataclass(frozen=True)
class Tree:
    """What a project page's task tree shares: each task's subtasks (in order), the depth
    under which a task offers "Add subtask", where that form posts, and the page's URL."""

    children: dict
    max_depth: int
    add_url: Markup
    here: Markup


def task_node(task, rows, tree: Tree, depth: int = 1) -> Markup:
    """The row of `task` with its subtasks nested inside it (collapsible) and, while the tree
    has room below it, a box to add one."""
    title = escape(task.title)
    task_id = str(task.id)
    parts = []
    subtasks = tree.children.get(task.id, ())
    if subtasks:
        parts.append(
            f'\n  <details class="subtasks" open>\n'
            f'    <summary>Subtasks <span class="count">{task.subtask_completed_count}/{task.subtask_count}</span>'
            f'<span class="visually-hidden"> done, of “{title}”</span></summary>\n'
            f'    <ul class="task-list nested" aria-label="Subtasks of “{title}”">')
        parts.extend(f"\n      {task_node(subtask, rows, tree, depth + 1)}" for subtask in subtasks)
        parts.append("\n    </ul>\n  </details>")
    if depth < tree.max_depth and not task.completed:
        parts.append(
            f'\n  <details class="add-subtask">\n'
            f'    <summary>Add subtask<span class="visually-hidden"> to “{title}”</span></summary>\n'
            f'    <form method="post" action="{tree.add_url}" class="add-row">\n'
            f'      <input type="hidden" name="csrf_token" value="{rows.csrf}">\n'
            f'      <input type="hidden" name="return_to" value="{tree.here}">\n'
            f'      <input type="hidden" name="parent_id" value="{task_id}">\n'
            f'      <div class="field field-grow">\n'
            f'        <label class="field-label visually-hidden" for="subtask-{task_id}">'
            f'New subtask of “{title}”</label>\n'
            f'        <input class="input" id="subtask-{task_id}" name="title" maxlength="255" required '
            f'autocomplete="off" placeholder="Subtask…">\n'
            f'      </div>\n'
            f'      <button type="submit" class="btn btn-small">Add</button>\n'
            f'    </form>\n'
            f'  </details>')
    return task_row(task, rows, "".join(parts))


def task_rows(tasks, rows, tree: Tree | None = None) -> Markup:
    """The rows of a list, a line each (on a project page, with `tree`, each with its
    subtasks): one call per page, where a call from the template per row cost a few
    percent of the page."""
    if tree is None:
        return Markup("".join(f"\n      {task_row(task, rows)}" for task in tasks))
    return Markup("".join(f"\n      {task_node(task, rows, tree)}" for task in tasks))
