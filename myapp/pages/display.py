"""How dates and times read on the pages, judged in the user's own time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from flask import Blueprint

from ..services.scheduling import describe
from ..services.signins import describe_device
from ..services.timezones import zone


def due_state(task, now: datetime) -> str | None:
    """'overdue' or 'today' for an open task that needs attention now, else None. `now` is
    the user's wall clock: a task due today at a time is overdue once that time has passed."""
    if task.completed or task.due_date is None:
        return None
    today = now.date()
    if task.due_date < today or (task.due_date == today and task.due_time and task.due_time < f"{now:%H:%M}"):
        return "overdue"
    return "today" if task.due_date == today else None


@lru_cache(maxsize=4096)
def friendly_date(day: date, today: date) -> str:
    """'Today', 'Tomorrow', 'Yesterday', a weekday name within the coming week, then the date.
    Kept: the rows of a page share few days, and the pages of a day share its today."""
    names = {today: "Today", today + timedelta(days=1): "Tomorrow", today - timedelta(days=1): "Yesterday"}
    if day in names:
        return names[day]
    if today < day < today + timedelta(days=7):
        return f"{day:%A}"
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def due_label(task, now: datetime) -> str:
    """'Due tomorrow', 'Due Friday 09:30', 'Due 3 Dec', 'Overdue · yesterday'."""
    day = friendly_date(task.due_date, now.date())
    when = day.lower() if day in ("Today", "Tomorrow", "Yesterday") else day
    if task.due_time:
        when = f"{when} {task.due_time}"
    return f"Overdue · {when}" if due_state(task, now) == "overdue" else f"Due {when}"


def local_time(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone(tz))
    return f"{local.day} {local:%b %Y, %H:%M}"


def register(bp: Blueprint) -> None:
    bp.add_app_template_global(describe_device)
    bp.add_app_template_global(friendly_date)
    bp.add_app_template_global(describe, "describe_recurrence")
    bp.add_app_template_filter(local_time)
