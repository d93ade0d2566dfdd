"""How dates and times read on the pages, judged in the user's own time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint

from ..services.signins import describe_device
from ..services.timezones import zone


def due_state(task, today: date) -> str | None:
    """'overdue' or 'today' for an open task that needs attention now, else None."""
    if task.completed or task.due_date is None:
        return None
    if task.due_date < today:
        return "overdue"
    return "today" if task.due_date == today else None


def friendly_date(day: date, today: date) -> str:
    names = {today: "Today", today + timedelta(days=1): "Tomorrow", today - timedelta(days=1): "Yesterday"}
    if day in names:
        return names[day]
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def due_label(task, today: date) -> str:
    """'Due tomorrow', 'Due 3 Dec', 'Overdue · yesterday'."""
    day = friendly_date(task.due_date, today)
    when = day.lower() if day in ("Today", "Tomorrow", "Yesterday") else day
    return f"Overdue · {when}" if due_state(task, today) == "overdue" else f"Due {when}"


def local_time(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone(tz))
    return f"{local.day} {local:%b %Y, %H:%M}"


def register(bp: Blueprint) -> None:
    bp.add_app_template_global(describe_device)
    bp.add_app_template_global(due_state)
    bp.add_app_template_global(due_label)
    bp.add_app_template_global(friendly_date)
    bp.add_app_template_filter(local_time)
