"""A task's schedule as the service layer sees it: the recurrence a client sends, turned
into the task's columns (and its due date), and the words and dates shown for it."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from functools import lru_cache

from ..errors import ValidationError
from . import phrases, recurrence
from .recurrence import RuleError, Schedule
from .validation import Recurrence

COLUMNS = ("recurrence_rule", "recurrence_anchor", "recurrence_mode")
NONE = dict.fromkeys(COLUMNS)


def _refuse(message: str) -> ValidationError:
    return ValidationError(details={"recurrence": message})


def _rule_and_mode(sent: Recurrence) -> tuple[recurrence.Rule, str]:
    if (sent.rule is None) == (sent.text is None):
        raise _refuse("Send either rule (an RRULE such as FREQ=WEEKLY;BYDAY=MO) or text (such as “every monday”).")
    try:
        if sent.rule is not None:
            return recurrence.parse_rule(sent.rule), sent.mode or "due"
        rule, mode = phrases.parse_phrase(sent.text)
    except RuleError as error:
        raise _refuse(str(error)) from None
    return rule, mode if mode == "completion" else sent.mode or mode


def columns(sent: Recurrence | None, due_date: date | None, due_time: time | None, today: date) -> dict:
    """The schedule columns for a recurrence sent with this due date (or none), and the due
    date itself: the schedule's first date on or after it (or after today, without one)."""
    if sent is None:
        return dict(NONE)
    rule, mode = _rule_and_mode(sent)
    start = due_date or today
    try:
        if not recurrence.has_dates(rule, start):
            raise _refuse(f"This rule has no date in the {recurrence.HORIZON_YEARS} years from {start.isoformat()}.")
        first = recurrence.first_on_or_after(rule, start, start)
        if first is not None:
            rule = recurrence.with_count_as_until(with_its_day(rule, first), first)
            text = recurrence.written(rule)
    except RuleError as error:
        raise _refuse(str(error)) from None
    except (ValueError, IndexError, OverflowError):  # dateutil's own limits (near the year 9999, say)
        raise _refuse("This rule cannot be expanded from that date.") from None
    if first is None or (rule.until is not None and rule.until < today):
        raise _refuse("This schedule has no date from today on.")
    return {"due_date": first, "recurrence_rule": text, "recurrence_anchor": first, "recurrence_mode": mode}


def with_its_day(rule: recurrence.Rule, first: date) -> recurrence.Rule:
    """A monthly or yearly rule that names months but no day takes its day from its anchor
    (RFC 5545): kept implicit, a later anchor (a completion on the 30th, a new due date)
    would change the day, and February could then have none. Its first date's day is
    written into the rule."""
    if rule.freq in ("MONTHLY", "YEARLY") and rule.bymonth and not (rule.bymonthday or rule.byday):
        return replace(rule, bymonthday=(first.day,))
    return rule


@lru_cache(maxsize=4096)
def describe(rule: str, mode: str) -> str:
    """The stored rule in words (a phrase that parses back to it where there is one)."""
    return phrases.describe(recurrence.parse_rule(rule), mode)


def to_json(task) -> dict | None:
    """The `recurrence` object of a task row: rule, mode and the rule in words."""
    if task.recurrence_rule is None:
        return None
    return {"rule": task.recurrence_rule, "mode": task.recurrence_mode,
            "text": describe(task.recurrence_rule, task.recurrence_mode)}


def schedule(task) -> Schedule | None:
    if task.recurrence_rule is None:
        return None
    return Schedule(recurrence.parse_rule(task.recurrence_rule), task.recurrence_anchor, task.recurrence_mode)


def occurrences(task, limit: int) -> list[date]:
    """The task's dates: its due date, then the schedule's next ones."""
    if task.due_date is None:
        return []
    found = schedule(task)
    return found.occurrences(task.due_date, limit) if found else [task.due_date]
