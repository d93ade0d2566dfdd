"""Recurrence in English: the phrases of PRODUCT.md to a rule and mode, and a rule back to words.

No maintained library reads these phrases into RFC 5545 rules (dateutil's rrule.__str__
and recurrent-style parsers either write no English or do not read the grammar users
type), so the grammar is here, tested by a table (tests/test_recurrence.py). `describe`
writes a rule as such a phrase whenever the grammar can say it, so that the phrase it
returns parses back to the same rule.
"""
from __future__ import annotations

import re
from datetime import date

from .recurrence import DAY_NAMES, MAX_COUNT, MAX_INTERVAL, MONTH_NAMES, Rule, RuleError

_DAYS = {name: index for index, full in enumerate(DAY_NAMES)
         for name in (full.lower(), full.lower()[:3], full.lower() + "s")}
_DAYS.update({"tues": 1, "wednes": 2, "thur": 3, "thurs": 3})
_MONTHS = {name: index + 1 for index, full in enumerate(MONTH_NAMES) for name in (full.lower(), full.lower()[:3])}
_MONTHS["sept"] = 9
_UNITS = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_WEEKDAYS_ONLY = tuple((0, d) for d in range(5))
_WEEKEND = ((0, 5), (0, 6))

_DAY = "|".join(sorted(_DAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NTH = r"(\d{1,2})(?:st|nd|rd|th)"
_UNIT = r"(day|week|month|year)s?"
_DAY_LIST = rf"((?:{_DAY})(?:\s*(?:,|\band\b)\s*(?:{_DAY}))*)"

# The body of a phrase after "every" (or "every!"), each form once.
_EVERY_FORMS = (
    ("unit", re.compile(rf"^{_UNIT}$")),
    ("n_units", re.compile(rf"^(\d{{1,3}})\s+{_UNIT}$")),
    ("other_unit", re.compile(rf"^other\s+{_UNIT}$")),
    ("weekday", re.compile(r"^weekdays?$")),
    ("weekend", re.compile(r"^weekends?$")),
    ("other_days", re.compile(rf"^other\s+{_DAY_LIST}$")),
    ("n_weeks_on", re.compile(rf"^(\d{{1,3}}|other)\s+weeks?\s+on\s+{_DAY_LIST}$")),
    ("days", re.compile(rf"^{_DAY_LIST}$")),
    ("last_day", re.compile(r"^last\s+day(?:\s+of\s+the\s+month)?$")),
    ("nth", re.compile(rf"^{_NTH}$")),
    ("month_on", re.compile(rf"^(?:(\d{{1,3}}|other)\s+)?months?\s+on\s+the\s+(?:{_NTH}|(last)\s+day)$")),
    ("nth_weekday", re.compile(rf"^(?:(\d)(?:st|nd|rd|th)|(first|second|third|fourth|fifth|last))\s+({_DAY})$")),
    ("month_day", re.compile(rf"^({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?$")),
    ("day_month", re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?$")),
)
_PLAIN = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "YEARLY", "annually": "YEARLY"}
_AFTER = re.compile(rf"^after\s+(\d{{1,3}}|a|an|one)\s+{_UNIT}$")
_ENDING = re.compile(r"^(.*?)\s+(?:until\s+(\S.*)|for\s+(\d{1,4})\s+times?)$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WRITTEN = re.compile(rf"^({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$")


def _day_list(text: str) -> tuple[tuple[int, int], ...]:
    days = sorted({_DAYS[name] for name in re.findall(_DAY, text)})
    return tuple((0, d) for d in days)


def _interval(text: str) -> int:
    n = 2 if text == "other" else int(text)
    if not 1 <= n <= MAX_INTERVAL:
        raise RuleError(f"The number of days, weeks, months or years is from 1 to {MAX_INTERVAL}.")
    return n


def _month_day(day: int) -> dict:
    """The 29th to 31st, said in words, fall on the last day of a month that lacks them."""
    if not 1 <= day <= 31:
        raise RuleError("A day of the month is from 1st to 31st.")
    if day <= 28:
        return {"bymonthday": (day,)}
    return {"bymonthday": tuple(range(28, day + 1)), "bysetpos": (-1,)}


def _date(text: str) -> date:
    for pattern, parts in ((_ISO, lambda m: (int(m[1]), int(m[2]), int(m[3]))),
                           (_WRITTEN, lambda m: (int(m[3]), _MONTHS[m[1]], int(m[2])))):
        match = pattern.match(text)
        if match:
            try:
                return date(*parts(match))
            except ValueError:
                break
    raise RuleError(f"“{text}” is not a date: write it as YYYY-MM-DD.")


def _every(body: str) -> Rule:
    for form, pattern in _EVERY_FORMS:
        match = pattern.match(body)
        if match is None:
            continue
        if form == "unit":
            return Rule(_UNITS[match[1]])
        if form == "n_units":
            return Rule(_UNITS[match[2]], _interval(match[1]))
        if form == "other_unit":
            return Rule(_UNITS[match[1]], 2)
        if form == "weekday":
            return Rule("WEEKLY", byday=_WEEKDAYS_ONLY)
        if form == "weekend":
            return Rule("WEEKLY", byday=_WEEKEND)
        if form == "other_days":
            return Rule("WEEKLY", 2, byday=_day_list(match[1]))
        if form == "n_weeks_on":
            return Rule("WEEKLY", _interval(match[1]), byday=_day_list(match[2]))
        if form == "days":
            return Rule("WEEKLY", byday=_day_list(match[1]))
        if form == "last_day":
            return Rule("MONTHLY", bymonthday=(-1,))
        if form == "nth":
            return Rule("MONTHLY", **_month_day(int(match[1])))
        if form == "month_on":
            interval = _interval(match[1]) if match[1] else 1
            if match[3]:
                return Rule("MONTHLY", interval, bymonthday=(-1,))
            return Rule("MONTHLY", interval, **_month_day(int(match[2])))
        if form == "nth_weekday":
            ordinal = int(match[1]) if match[1] else _ORDINAL_WORDS[match[2]]
            if not 1 <= abs(ordinal) <= 5:
                raise RuleError("A month has at most five of a weekday.")
            return Rule("MONTHLY", byday=((ordinal, _DAYS[match[3]]),))
        month, day = (match[1], match[2]) if form == "month_day" else (match[2], match[1])
        month, day = _MONTHS[month], int(day)
        try:
            date(2024, month, day)  # a leap year: Feb 29 is a day of the year
        except ValueError:
            raise RuleError(f"{MONTH_NAMES[month - 1]} has no day {day}.") from None
        return Rule("YEARLY", bymonth=(month,), bymonthday=(day,))
    raise RuleError(f"“every {body}” is not understood. Try “every day”, “every monday”, “every 15th”, "
                    "“every 3rd friday” or “every jan 5”.")


def parse_phrase(text: str) -> tuple[Rule, str]:
    """(rule, mode) of an English phrase, or RuleError saying what is understood."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("Say how it repeats, e.g. “every monday”.")
    phrase = " ".join(text.lower().split())
    if len(phrase) > 200:
        raise RuleError("A phrase is at most 200 characters.")
    until = count = None
    ending = _ENDING.match(phrase)
    if ending:
        phrase = ending[1]
        if ending[2]:
            until = _date(ending[2])
        else:
            count = int(ending[3])
            if not 1 <= count <= MAX_COUNT:
                raise RuleError(f"“for N times” takes N from 1 to {MAX_COUNT}.")
    mode = "due"
    if phrase in _PLAIN:
        rule = Rule(_PLAIN[phrase])
    elif (after := _AFTER.match(phrase)) is not None:
        mode = "completion"
        rule = Rule(_UNITS[after[2]], 1 if after[1] in ("a", "an", "one") else _interval(after[1]))
    elif phrase.startswith("every!"):
        mode = "completion"
        rule = _every(phrase[6:].strip())
    elif phrase.startswith("every "):
        rule = _every(phrase[6:].strip())
    else:
        raise RuleError(f"“{text.strip()}” is not understood. A phrase starts with “every”, “every!” or “after”, "
                        "or is daily, weekly, monthly or yearly.")
    return Rule(rule.freq, rule.interval, rule.bymonth, rule.bymonthday, rule.byday, rule.bysetpos,
                until, count), mode


# ---------------------------------------------------------------------------------------
# A rule in words


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _unit(rule: Rule) -> str:
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[rule.freq]
    if rule.interval == 1:
        return unit
    return f"other {unit}" if rule.interval == 2 else f"{rule.interval} {unit}s"


def _body(rule: Rule) -> str | None:
    """The words after "every" for a rule the grammar can say; None when it cannot."""
    simple = Rule(rule.freq, rule.interval, rule.bymonth, rule.bymonthday, rule.byday, rule.bysetpos)
    if simple == Rule(rule.freq, rule.interval):
        return _unit(rule)
    days = [DAY_NAMES[d] for n, d in rule.byday if n == 0]
    if rule.freq == "WEEKLY" and len(days) == len(rule.byday) and not (rule.bymonth or rule.bymonthday
                                                                         or rule.bysetpos):
        if rule.interval == 1 and rule.byday == _WEEKDAYS_ONLY:
            return "weekday"
        if rule.interval == 1 and rule.byday == _WEEKEND:
            return "weekend"
        if rule.byday != tuple(sorted(rule.byday)):
            return None
        if rule.interval == 1:
            return _and(days)
        if rule.interval == 2 and len(days) == 1:
            return f"other {days[0]}"
        return f"{_unit(rule)} on {_and(days)}"
    if rule.freq == "MONTHLY" and not (rule.bymonth or rule.byday):
        every = "" if rule.interval == 1 else f"{_unit(rule)} on the "
        if rule.bymonthday == (-1,) and not rule.bysetpos:
            return "last day" if rule.interval == 1 else every + "last day"
        day = None
        if len(rule.bymonthday) == 1 and 1 <= rule.bymonthday[0] <= 28 and not rule.bysetpos:
            day = rule.bymonthday[0]
        elif rule.bysetpos == (-1,) and rule.bymonthday in ((28, 29), (28, 29, 30), (28, 29, 30, 31)):
            day = rule.bymonthday[-1]
        if day is not None:
            return _ordinal(day) if rule.interval == 1 else every + _ordinal(day)
        return None
    if (rule.freq == "MONTHLY" and rule.interval == 1 and len(rule.byday) == 1 and rule.byday[0][0]
            and not (rule.bymonth or rule.bymonthday or rule.bysetpos)):
        n, d = rule.byday[0]
        return f"{'last' if n == -1 else _ordinal(n)} {DAY_NAMES[d]}" if n >= -1 else None
    if (rule.freq == "YEARLY" and rule.interval == 1 and len(rule.bymonth) == 1 and len(rule.bymonthday) == 1
            and rule.bymonthday[0] > 0 and not (rule.byday or rule.bysetpos)):
        return f"{MONTH_NAMES[rule.bymonth[0] - 1][:3]} {rule.bymonthday[0]}"
    return None


def describe(rule: Rule, mode: str) -> str:
    """The rule in English: a phrase that parses back to it when the grammar can say it,
    else the rule itself after "repeats:"."""
    body = _body(rule)
    if body is None:
        return f"repeats: {rule}" + (" (counted from completion)" if mode == "completion" else "")
    text = ("every! " if mode == "completion" else "every ") + body
    if rule.until:
        text += f" until {rule.until.isoformat()}"
    elif rule.count:
        text += f" for {rule.count} times"
    return text
