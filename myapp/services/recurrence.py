"""Recurring tasks: the RRULE subset, the English phrases, and the dates of a schedule.

A schedule is an RFC 5545 RRULE (the subset of PRODUCT.md, "Due times, recurrence and the
calendar feed"), its anchor (the series' first date) and a mode: `due` (the next date
follows the schedule) or `completion` (the schedule counted again from the day the task
was done). python-dateutil's rrule expands it. dateutil iterates from its start, so the
start given to it is never the anchor itself once that lies whole periods back: what
RFC 5545 takes from DTSTART (the weekday of a weekly rule, the day of a monthly one, ...)
is written into the rule explicitly, and the start moves to the beginning of the latest
period (day, week, month or year, times the interval) that keeps the rule's phase. A
daily rule anchored in 1900 costs what one anchored today does. A COUNT is kept as the
date of the series' last occurrence (UNTIL): counting needs the whole series, which is
done once, when the rule is set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import islice

from dateutil import rrule as du

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
MODES = ("due", "completion")
MAX_INTERVAL = 999
MAX_COUNT = 1000
RULE_MAX_LENGTH = 300
# A rule must have a date within this many years of its anchor.
HORIZON_YEARS = 100
_DU_FREQ = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
_DU_DAYS = (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU)


class RuleError(ValueError):
    """A rule or phrase outside what is understood; the message says why, for the user."""


@dataclass(frozen=True)
class Rule:
    """An RRULE of the subset, parsed. byday holds (ordinal, weekday index): ordinal 0 for
    every such weekday, 3 for the third, -1 for the last."""

    freq: str
    interval: int = 1
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[tuple[int, int], ...] = ()
    bysetpos: tuple[int, ...] = ()
    until: date | None = None
    count: int | None = None

    def __str__(self) -> str:
        """The rule as RRULE text, its parts in one order (what is stored and returned)."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.bymonth:
            parts.append("BYMONTH=" + ",".join(map(str, self.bymonth)))
        if self.bymonthday:
            parts.append("BYMONTHDAY=" + ",".join(map(str, self.bymonthday)))
        if self.byday:
            parts.append("BYDAY=" + ",".join(f"{n or ''}{WEEKDAYS[d]}" for n, d in self.byday))
        if self.bysetpos:
            parts.append("BYSETPOS=" + ",".join(map(str, self.bysetpos)))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            until = self.until  # (strftime's %Y does not pad years before 1000 everywhere)
            parts.append(f"UNTIL={until.year:04}{until.month:02}{until.day:02}")
        return ";".join(parts)


def _numbers(value: str, name: str, low: int, high: int, nonzero: bool = True) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise RuleError(f"{name} takes numbers separated by commas.") from None
    for number in numbers:
        if not (low <= number <= high) or (nonzero and number == 0):
            raise RuleError(f"{name} takes numbers from {low} to {high}" + (", not 0." if nonzero and low < 0 else "."))
    if len(set(numbers)) != len(numbers):
        raise RuleError(f"{name} names a value twice.")
    return numbers


_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?$")


def parse_rule(text: str) -> Rule:
    """An RRULE of the subset (with or without the "RRULE:" prefix), or RuleError."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("Send a rule such as FREQ=WEEKLY;BYDAY=MO.")
    if len(text) > RULE_MAX_LENGTH:
        raise RuleError(f"A rule is at most {RULE_MAX_LENGTH} characters.")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise RuleError(f"“{part}” is not NAME=VALUE.")
        if name in parts:
            raise RuleError(f"{name} is given twice.")
        parts[name] = value.strip().upper()
    unknown = set(parts) - {"FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "COUNT", "UNTIL",
                            "WKST"}
    if unknown:
        raise RuleError(f"{', '.join(sorted(unknown))} is not supported: FREQ, INTERVAL, BYMONTH, BYMONTHDAY, "
                        "BYDAY, BYSETPOS, COUNT and UNTIL are.")
    if parts.get("WKST", "MO") != "MO":
        raise RuleError("Only WKST=MO is supported (weeks start on Monday).")
    freq = parts.get("FREQ")
    if freq not in FREQUENCIES:
        raise RuleError("FREQ is DAILY, WEEKLY, MONTHLY or YEARLY.")
    interval = _numbers(parts["INTERVAL"], "INTERVAL", 1, MAX_INTERVAL)[0] if "INTERVAL" in parts else 1
    if "INTERVAL" in parts and "," in parts["INTERVAL"]:
        raise RuleError("INTERVAL is one number.")
    byday: list[tuple[int, int]] = []
    for item in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
        match = _BYDAY.match(item)
        if not match:
            raise RuleError(f"BYDAY takes weekdays such as MO, or 3FR and -1FR; not “{item}”.")
        ordinal = int(match.group(1) or 0)
        if ordinal and freq not in ("MONTHLY", "YEARLY"):
            raise RuleError("A numbered weekday (3FR) is for MONTHLY and YEARLY rules.")
        in_months = freq == "MONTHLY" or "BYMONTH" in parts  # numbered within a month, else a year
        if not -5 <= ordinal <= 5 and in_months or not -53 <= ordinal <= 53:
            raise RuleError(f"No {'month' if in_months else 'year'} has a {item}.")
        byday.append((ordinal, WEEKDAYS.index(match.group(2))))
    if len(set(byday)) != len(byday):
        raise RuleError("BYDAY names a day twice.")
    count = until = None
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL cannot both be given.")
    if "COUNT" in parts:
        if "," in parts["COUNT"]:
            raise RuleError("COUNT is one number.")
        count = _numbers(parts["COUNT"], "COUNT", 1, MAX_COUNT)[0]
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        try:
            until = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
        except ValueError:
            until = None
        if until is None:
            raise RuleError("UNTIL is a date: YYYYMMDD.")
    # Each list in one order: the same rule reads the same however it was written.
    rule = Rule(
        freq=freq, interval=interval,
        bymonth=tuple(sorted(_numbers(parts["BYMONTH"], "BYMONTH", 1, 12))) if "BYMONTH" in parts else (),
        bymonthday=tuple(sorted(_numbers(parts["BYMONTHDAY"], "BYMONTHDAY", -31, 31), key=_month_day_order))
        if "BYMONTHDAY" in parts else (),
        byday=tuple(sorted(byday, key=lambda item: (item[1], item[0]))),
        bysetpos=tuple(sorted(_numbers(parts["BYSETPOS"], "BYSETPOS", -366, 366))) if "BYSETPOS" in parts else (),
        until=until, count=count)
    if rule.bysetpos and not (rule.byday or rule.bymonthday or rule.bymonth):
        raise RuleError("BYSETPOS picks among the dates of BYDAY, BYMONTHDAY or BYMONTH: give one of them.")
    most = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}[freq]  # dates in one period at most
    if any(abs(position) > most for position in rule.bysetpos):
        raise RuleError(f"A {freq.lower()} rule's BYSETPOS is from -{most} to {most}.")
    return rule


def _month_day_order(day: int) -> tuple[int, int]:
    """1 to 31, then -31 to -1 (the last day last)."""
    return (day < 0, day)


# ---------------------------------------------------------------------------------------
# The dates of a schedule


def rrule_arguments(rule: Rule, anchor: date) -> dict:
    """dateutil's arguments, with what RFC 5545 takes from DTSTART made explicit."""
    arguments = {"freq": _DU_FREQ[rule.freq], "interval": rule.interval, "wkst": du.MO}
    bymonth, bymonthday, byday = rule.bymonth, rule.bymonthday, rule.byday
    if not bymonthday and not byday:
        if rule.freq == "WEEKLY":
            byday = ((0, anchor.weekday()),)
        elif rule.freq == "MONTHLY":
            bymonthday = (anchor.day,)
        elif rule.freq == "YEARLY":
            bymonth = bymonth or (anchor.month,)
            bymonthday = (anchor.day,)
    if bymonth:
        arguments["bymonth"] = bymonth
    if bymonthday:
        arguments["bymonthday"] = bymonthday
    if byday:
        arguments["byweekday"] = [_DU_DAYS[d](n) if n else _DU_DAYS[d] for n, d in byday]
    if rule.bysetpos:
        arguments["bysetpos"] = rule.bysetpos
    return arguments


def _period_start(rule: Rule, anchor: date, target: date) -> date:
    """The latest start, not after `target`, from which the schedule runs as from `anchor`:
    the beginning of a period a whole number of intervals after the anchor's (or the
    anchor itself, when `target` is still in the anchor's first interval)."""
    n = rule.interval
    if rule.freq == "DAILY":
        k = (target - anchor).days // n
        return anchor + timedelta(days=k * n) if k > 0 else anchor
    if rule.freq == "WEEKLY":
        week = anchor - timedelta(days=anchor.weekday())
        k = (target - week).days // 7 // n
        return week + timedelta(weeks=k * n) if k > 0 else anchor
    if rule.freq == "MONTHLY":
        first = anchor.year * 12 + anchor.month - 1
        k = (target.year * 12 + target.month - 1 - first) // n
        month = first + k * n
        return date(month // 12, month % 12 + 1, 1) if k > 0 else anchor
    k = (target.year - anchor.year) // n
    return date(anchor.year + k * n, 1, 1) if k > 0 else anchor


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _schedule(rule: Rule, anchor: date, target: date) -> du.rrule:
    """The schedule as a dateutil rrule that starts near `target`."""
    start = _period_start(rule, anchor, target)
    until = _midnight(rule.until) if rule.until else None
    return du.rrule(dtstart=_midnight(start), until=until, cache=False, **rrule_arguments(rule, anchor))


def written(rule: Rule) -> str:
    """The rule as it is stored: RuleError when that is longer than a rule may be (COUNT
    written as UNTIL, or the day made explicit, can lengthen a rule sent at the limit)."""
    text = str(rule)
    if len(text) > RULE_MAX_LENGTH:
        raise RuleError(f"Written out, this rule is longer than {RULE_MAX_LENGTH} characters.")
    return text


@lru_cache(maxsize=4096)  # an import asks it for each row, mostly of a few rules and dates
def has_dates(rule: Rule, anchor: date) -> bool:
    """Whether the schedule (without its end) has a date within HORIZON_YEARS of the anchor.

    dateutil looks for a rule's next date through empty periods up to the year 9999
    (UNTIL does not stop it), so a rule with no date at all (BYMONTH=2;BYMONTHDAY=30)
    would cost seconds each time. It is asked here instead, from the same calendar date
    moved a whole number of 400-year cycles (which repeat weekdays and leap days
    exactly) to between 100 and 500 years before 9999, where its search is short.
    """
    shift = ((9_500 - anchor.year) // 400 + 1) * 400
    start = anchor.replace(year=anchor.year + shift)
    found = du.rrule(dtstart=_midnight(start), cache=False, **rrule_arguments(rule, anchor)).after(
        _midnight(start), inc=True)
    return found is not None and found.year - start.year <= HORIZON_YEARS


def first_on_or_after(rule: Rule, anchor: date, day: date) -> date | None:
    """The schedule's first date on or after `day` (None when it has ended)."""
    day = max(day, anchor)
    try:
        found = _schedule(rule, anchor, day).after(_midnight(day), inc=True)
    except (ValueError, OverflowError):  # dateutil's, at the year 9999: the calendar ends the series
        return None
    return found.date() if found else None


def dates_from(rule: Rule, anchor: date, day: date, limit: int) -> list[date]:
    """Up to `limit` dates of the schedule, from `day` on."""
    day = max(day, anchor)
    found: list[date] = []
    try:
        for moment in _schedule(rule, anchor, day).xafter(_midnight(day), count=limit, inc=True):
            found.append(moment.date())
    except (ValueError, OverflowError):  # as above: no date after the year 9999
        pass
    return found


def with_count_as_until(rule: Rule, anchor: date) -> Rule:
    """COUNT=n as UNTIL=<the n-th date from the anchor> (RFC 5545 counts from DTSTART)."""
    if rule.count is None:
        return rule
    # One pass, bounded: a rule with few dates (Feb 29 on a Monday) would otherwise be
    # searched to the year 9999 for its thousandth.
    horizon = _midnight(date(min(anchor.year + HORIZON_YEARS, 9999), 12, 31))
    series = du.rrule(dtstart=_midnight(anchor), until=horizon, cache=False, **rrule_arguments(rule, anchor))
    dates = list(islice(series, rule.count))
    return replace(rule, count=None, until=dates[-1].date() if dates else anchor)


@dataclass(frozen=True)
class Schedule:
    """What a recurring task keeps: the rule (without COUNT), the anchor and the mode."""

    rule: Rule
    anchor: date
    mode: str

    def next_after_completion(self, due: date, today: date) -> tuple[date, date] | None:
        """(next due date, new anchor) once the occurrence due on `due` is done (or skipped)
        `today`; None when the series has ended.

        Mode due: the first date of the schedule after `due` that is not before today
        (a late completion never schedules into the past). Mode completion: the schedule
        counted again from today."""
        if date.max in (due, today):  # the calendar's last day: no date follows it
            return None
        if self.mode == "due":
            following = first_on_or_after(self.rule, self.anchor, max(due + timedelta(days=1), today))
            return (following, self.anchor) if following else None
        following = first_on_or_after(self.rule, today, today + timedelta(days=1)) if _has_by_parts(self.rule) \
            else _plain_step(self.rule, today)
        if following is None or (self.rule.until and following > self.rule.until):
            return None
        return following, following

    def occurrences(self, due: date, limit: int) -> list[date]:
        """The current due date, then the dates after it (for mode completion, as if each
        were done on its day)."""
        found = [due]
        while len(found) < limit:
            following = self.next_after_completion(found[-1], found[-1])
            if following is None:
                break
            found.append(following[0])
            if self.mode == "due" and found[-1] < date.max:  # one expansion gives the rest
                found += dates_from(self.rule, self.anchor, found[-1] + timedelta(days=1), limit - len(found))
                break
        return found[:limit]


def _has_by_parts(rule: Rule) -> bool:
    return bool(rule.bymonth or rule.bymonthday or rule.byday)


def _plain_step(rule: Rule, day: date) -> date | None:
    """`day` plus one interval of the rule: a month on from Jan 31 is the end of February."""
    n = rule.interval
    if rule.freq == "DAILY":
        return day + timedelta(days=n)
    if rule.freq == "WEEKLY":
        return day + timedelta(weeks=n)
    months = n if rule.freq == "MONTHLY" else 12 * n
    month = day.year * 12 + day.month - 1 + months
    year, month = divmod(month, 12)
    if year > 9999:
        return None
    return date(year, month + 1, min(day.day, _days_in_month(year, month + 1)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
