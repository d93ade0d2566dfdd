"""The sidebar of the task pages as HTML: the views, the projects (Inbox first, archived
ones left out) with their active counts, the tags.

Written in Python like the rows (rows.py), for the same reason: as a Jinja macro it was a
tenth of a list page's time under load (bench/profile_request.py, py-spy), nearly all of
it the template runtime's calls and lookups. Names, tags and URLs are escaped.
"""
from __future__ import annotations

from markupsafe import Markup, escape

VIEWS = (("today", "Today"), ("upcoming", "Upcoming"), ("all", "All"), ("active", "Active"),
         ("completed", "Completed"), ("overdue", "Overdue"))
CURRENT_PAGE, CURRENT_TAG = ' aria-current="page"', ' aria-current="true"'
COUNTED = {"all": "total", "active": "active", "completed": "completed"}  # view -> its count


def sidebar_nav(sidebar, links, list_url, status=None, current=None, current_tag=None) -> Markup:
    """The sidebar; `list_url(**changes)` is the URL of the task list with those changes
    (the list page keeps its other filters), `status` the view shown, `current` the
    project shown, `current_tag` the tag the list is filtered by (its link turns it off)."""
    parts = ['\n<aside class="sidebar">\n  <nav class="views" aria-label="Task views">']
    for key, label in VIEWS:
        parts.append(f'\n    <a class="view-link" href="{escape(list_url(status=None if key == "all" else key))}"'
                     f'{CURRENT_PAGE if status == key else ""}>\n      <span>{label}</span>')
        if key in COUNTED:
            parts.append(f'\n      <span class="count" data-count="{COUNTED[key]}">'
                         f'{getattr(sidebar.counts, COUNTED[key])}</span>')
        parts.append("\n    </a>")
    parts.append('\n  </nav>\n  <nav class="sidebar-projects" aria-labelledby="sidebar-projects-title">'
                 '\n    <h2 class="sidebar-heading" id="sidebar-projects-title">Projects</h2>\n    <ul>')
    project_url = escape(links["project"])
    for project in sidebar.projects:
        parts.append(
            f'\n      <li><a class="view-link project-link" href="{project_url}{project.id}"'
            f'{CURRENT_PAGE if current == project.id else ""}>\n        <span class="project-name">'
            f'<span class="dot dot-{escape(project.color)}" aria-hidden="true"></span>{escape(project.name)}</span>'
            f'\n        <span class="count">{project.active_count}<span class="visually-hidden"> active</span>'
            f'</span></a></li>')
    parts.append(f'\n    </ul>\n    <p class="sidebar-actions">'
                 f'\n      <a class="btn btn-small btn-quiet" href="{project_url}new">New project</a>'
                 f'\n      <a class="btn btn-small btn-quiet" href="{escape(links["project"][:-1])}">All projects</a>'
                 f'\n    </p>\n  </nav>')
    if sidebar.tags:
        parts.append('\n  <section class="sidebar-tags" aria-labelledby="sidebar-tags-title">'
                     '\n    <h2 class="sidebar-heading" id="sidebar-tags-title">Tags</h2>\n    <ul>')
        for tag, count in sidebar.tags:
            name, on = escape(tag), current_tag == tag
            parts.append(f'\n      <li><a class="tag-link" href="{escape(list_url(tag=None if on else tag))}"'
                         f'{CURRENT_TAG if on else ""}>\n        <span>#{name}</span>'
                         f'<span class="count" data-tag-count="{name}">{count}</span></a></li>')
        parts.append("\n    </ul>\n  </section>")
    parts.append("\n</aside>")
    return Markup("".join(parts))
