"""Recurrence: the phrases, the rules, and the dates they give (no database: pure functions).

The date table pins PRODUCT.md's rules: month ends, leap years, numbered weekdays,
intervals, UNTIL and COUNT, both modes, late and repeated completions, far-past anchors,
and the user's own "today" in zones far east and west of UTC across daylight-saving
changes. Dates were worked out by hand from the calendar, not by the code under test.
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from myapp.services import phrases, recurrence
from myapp.services.recurrence import RuleError, Schedule, parse_rule
from myapp.services.timezones import today_in

D = date.fromisoformat


def schedule(spec: str, anchor: str, mode: str | None = None) -> Schedule:
    """A schedule from a phrase (or, with "FREQ=", a raw rule), anchored where a task would be."""
    if spec.startswith("FREQ="):
        rule, phrase_mode = parse_rule(spec), "due"
    else:
        rule, phrase_mode = phrases.parse_phrase(spec)
    return Schedule(recurrence.with_count_as_until(rule, D(anchor)), D(anchor), mode or phrase_mode)


# (rule or phrase, anchor, due date done, the day it is done, the next due date or None)
NEXT_DATES = [
    # days and intervals
    ("every day", "2026-11-27", "2026-11-27", "2026-11-27", "2026-11-28"),
    ("every day", "2026-11-01", "2026-11-20", "2026-11-27", "2026-11-27"),  # late: today, not the past
    ("every 3 days", "2026-11-01", "2026-11-01", "2026-11-01", "2026-11-04"),
    ("every 3 days", "2026-11-01", "2026-11-01", "2026-11-09", "2026-11-10"),  # keeps its phase
    ("every other day", "2026-12-31", "2026-12-31", "2026-12-31", "2027-01-02"),
    ("daily", "2026-02-27", "2026-02-28", "2026-02-28", "2026-03-01"),
    ("every day", "2028-02-28", "2028-02-28", "2028-02-28", "2028-02-29"),
    ("every day until 2026-12-01", "2026-11-27", "2026-11-30", "2026-11-30", "2026-12-01"),
    ("every day until 2026-12-01", "2026-11-27", "2026-12-01", "2026-12-01", None),
    ("every day for 3 times", "2026-11-27", "2026-11-28", "2026-11-28", "2026-11-29"),
    ("every day for 3 times", "2026-11-27", "2026-11-29", "2026-11-29", None),
    ("every day for 3 times", "2026-11-27", "2026-11-27", "2026-12-05", None),  # late: the dates passed are used up
    # weeks
    ("every monday", "2026-11-30", "2026-11-30", "2026-11-30", "2026-12-07"),
    ("every monday", "2026-11-30", "2026-11-30", "2026-12-09", "2026-12-14"),
    ("every monday", "2026-11-30", "2026-11-30", "2026-11-25", "2026-12-07"),  # done early: the next after it
    ("every mon, wed and fri", "2026-11-27", "2026-11-27", "2026-11-27", "2026-11-30"),
    ("every mon, wed and fri", "2026-11-27", "2026-11-30", "2026-11-30", "2026-12-02"),
    ("every weekday", "2026-11-27", "2026-11-27", "2026-11-27", "2026-11-30"),
    ("every weekend", "2026-11-28", "2026-11-28", "2026-11-28", "2026-11-29"),
    ("every weekend", "2026-11-28", "2026-11-29", "2026-11-29", "2026-12-05"),
    ("every other monday", "2026-11-30", "2026-11-30", "2026-11-30", "2026-12-14"),
    ("every other monday", "2026-11-30", "2026-12-14", "2026-12-20", "2026-12-28"),
    ("every 2 weeks on tue and thu", "2026-12-01", "2026-12-01", "2026-12-01", "2026-12-03"),
    ("every 2 weeks on tue and thu", "2026-12-01", "2026-12-03", "2026-12-03", "2026-12-15"),
    ("weekly", "2026-11-27", "2026-11-27", "2026-11-27", "2026-12-04"),
    ("every other week", "2026-11-27", "2026-11-27", "2026-11-27", "2026-12-11"),
    ("every 3 weeks", "2026-12-24", "2026-12-24", "2026-12-24", "2027-01-14"),
    ("every monday", "1900-01-01", "2026-11-30", "2026-11-30", "2026-12-07"),  # a far-past anchor
    ("every other week", "1900-01-12", "2026-11-27", "2026-11-27", "2026-12-11"),
    ("every week until 2026-12-10", "2026-11-27", "2026-12-04", "2026-12-04", None),
    ("every week until 2026-12-11", "2026-11-27", "2026-12-04", "2026-12-04", "2026-12-11"),
    ("every monday for 2 times", "2026-11-30", "2026-11-30", "2026-11-30", "2026-12-07"),
    ("every monday for 2 times", "2026-11-30", "2026-12-07", "2026-12-07", None),
    # months
    ("every 15th", "2026-11-15", "2026-11-15", "2026-11-15", "2026-12-15"),
    ("every 15th", "2026-11-15", "2026-11-15", "2026-12-20", "2027-01-15"),
    ("every 15th", "2026-09-15", "2026-09-15", "2026-11-27", "2026-12-15"),  # months late
    ("every month on the 15th", "2026-12-15", "2026-12-15", "2026-12-15", "2027-01-15"),
    ("every 31st", "2026-01-31", "2026-01-31", "2026-01-31", "2026-02-28"),
    ("every 31st", "2026-01-31", "2026-02-28", "2026-02-28", "2026-03-31"),
    ("every 31st", "2026-01-31", "2026-03-31", "2026-03-31", "2026-04-30"),
    ("every 31st", "2028-01-31", "2028-01-31", "2028-01-31", "2028-02-29"),
    ("every 30th", "2027-01-30", "2027-01-30", "2027-01-30", "2027-02-28"),
    ("every 30th", "2028-01-30", "2028-01-30", "2028-01-30", "2028-02-29"),
    ("every 29th", "2027-01-29", "2027-01-29", "2027-01-29", "2027-02-28"),
    ("every 29th", "2028-01-29", "2028-01-29", "2028-01-29", "2028-02-29"),
    ("every month on the 31st", "2026-04-30", "2026-04-30", "2026-04-30", "2026-05-31"),
    ("every last day", "2026-01-31", "2026-01-31", "2026-01-31", "2026-02-28"),
    ("every last day", "2028-01-31", "2028-01-31", "2028-01-31", "2028-02-29"),
    ("every last day", "2026-12-31", "2026-12-31", "2026-12-31", "2027-01-31"),
    ("every 2 months on the 30th", "2026-12-30", "2026-12-30", "2026-12-30", "2027-02-28"),
    ("every 3rd friday", "2026-11-20", "2026-11-20", "2026-11-20", "2026-12-18"),
    ("every 3rd friday", "2026-11-20", "2026-12-18", "2026-12-18", "2027-01-15"),
    ("every last friday", "2026-11-27", "2026-11-27", "2026-11-27", "2026-12-25"),
    ("every last friday", "2026-11-27", "2026-12-25", "2026-12-25", "2027-01-29"),
    ("every 1st monday", "2026-11-02", "2026-11-02", "2026-11-02", "2026-12-07"),
    ("every first monday", "2026-11-02", "2026-11-02", "2026-11-10", "2026-12-07"),
    ("monthly", "2026-01-31", "2026-01-31", "2026-01-31", "2026-03-31"),  # RFC 5545: no 31st, no date
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-01-31", "2026-01-31", "2026-01-31", "2026-03-31"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-11-30", "2026-11-30", "2026-11-30", "2026-12-31"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-11-30", "2026-12-31", "2026-12-31", "2027-01-29"),
    ("FREQ=MONTHLY;BYMONTHDAY=-2", "2026-02-27", "2026-02-27", "2026-02-27", "2026-03-30"),
    ("every month on the 15th for 3 times", "2026-11-15", "2027-01-15", "2027-01-15", None),
    ("every 15th", "1900-01-15", "2026-11-15", "2026-11-15", "2026-12-15"),  # a far-past anchor
    # years
    ("every jan 5", "2027-01-05", "2027-01-05", "2027-01-05", "2028-01-05"),
    ("every feb 29", "2028-02-29", "2028-02-29", "2028-02-29", "2032-02-29"),
    ("every dec 31", "2026-12-31", "2026-12-31", "2026-12-31", "2027-12-31"),
    ("yearly", "2026-11-27", "2026-11-27", "2026-11-27", "2027-11-27"),
    ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "2026-11-26", "2026-11-26", "2026-11-26", "2027-11-25"),  # Thanksgiving
    # mode completion: counted again from the day it is done
    ("after 3 days", "2026-11-20", "2026-11-20", "2026-11-27", "2026-11-30"),
    ("every! week", "2026-11-20", "2026-11-20", "2026-11-25", "2026-12-02"),
    ("every! monday", "2026-11-23", "2026-11-23", "2026-11-27", "2026-11-30"),
    ("after 1 month", "2026-01-15", "2026-01-15", "2026-01-31", "2026-02-28"),
    ("every! 15th", "2026-11-15", "2026-11-15", "2026-11-16", "2026-12-15"),
    ("after 2 weeks", "2026-12-01", "2026-12-01", "2026-12-30", "2027-01-13"),
    ("after a year", "2028-02-29", "2028-02-29", "2028-02-29", "2029-02-28"),
    ("every! day until 2026-12-01", "2026-11-27", "2026-11-27", "2026-12-01", None),
]


@pytest.mark.parametrize(("spec", "anchor", "due", "done_on", "expected"), NEXT_DATES,
                         ids=[f"{row[0]} {row[2]}@{row[3]}" for row in NEXT_DATES])
def test_the_next_due_date(spec, anchor, due, done_on, expected):
    following = schedule(spec, anchor).next_after_completion(D(due), D(done_on))
    assert (following[0].isoformat() if following else None) == expected


def test_completing_twice_in_a_row_moves_on_twice():
    every_day = schedule("every day", "2026-11-27")
    first, _ = every_day.next_after_completion(D("2026-11-27"), D("2026-11-27"))
    second, _ = every_day.next_after_completion(first, D("2026-11-27"))
    assert (first, second) == (D("2026-11-28"), D("2026-11-29"))


def test_a_daily_rule_anchored_in_1900_keeps_its_phase():
    anchor, today = D("1900-01-01"), D("2026-11-27")
    # Every 7th day from a Monday is a Monday; every 3rd keeps (days since the anchor) % 3 == 0.
    assert schedule("every 7 days", "1900-01-01").next_after_completion(today, today)[0].weekday() == 0
    following, _ = schedule("every 3 days", "1900-01-01").next_after_completion(today, today)
    assert (following - anchor).days % 3 == 0 and 1 <= (following - today).days <= 3


def test_a_far_past_anchor_costs_no_more_than_a_recent_one():
    old, new = schedule("every day", "1900-01-01"), schedule("every day", "2026-11-01")

    def cost(plan):
        started = time.process_time()
        for _ in range(200):
            plan.next_after_completion(D("2026-11-27"), D("2026-11-27"))
        return time.process_time() - started

    # Generous (a stepping implementation is ~46,000 times slower here), not a stopwatch.
    assert cost(old) < cost(new) * 10 + 0.05


def test_occurrences_start_with_the_due_date():
    assert schedule("every 31st", "2026-01-31").occurrences(D("2026-01-31"), 5) == [
        D("2026-01-31"), D("2026-02-28"), D("2026-03-31"), D("2026-04-30"), D("2026-05-31")]
    assert schedule("every monday for 3 times", "2026-11-30").occurrences(D("2026-11-30"), 5) == [
        D("2026-11-30"), D("2026-12-07"), D("2026-12-14")]
    assert schedule("after 3 days", "2026-11-27").occurrences(D("2026-11-27"), 3) == [
        D("2026-11-27"), D("2026-11-30"), D("2026-12-03")]


def test_count_is_kept_as_the_date_of_the_last_occurrence():
    rule, _ = phrases.parse_phrase("every 3rd friday for 4 times")
    assert str(recurrence.with_count_as_until(rule, D("2026-11-20"))) == "FREQ=MONTHLY;BYDAY=3FR;UNTIL=20270219"


# The user's "today": the same instant is a different day east and west of UTC, and
# daylight-saving changes move the local date boundary. (zone, instant UTC, local date)
TODAYS = [
    ("Pacific/Kiritimati", "2026-11-27T10:30:00", "2026-11-28"),  # UTC+14
    ("Pacific/Pago_Pago", "2026-11-27T10:30:00", "2026-11-26"),  # UTC-11
    ("America/New_York", "2026-03-08T04:59:00", "2026-03-07"),  # 23:59 EST, before the spring change
    ("America/New_York", "2026-03-08T07:00:00", "2026-03-08"),  # 03:00 EDT, after it
    ("America/New_York", "2026-11-01T04:30:00", "2026-11-01"),  # 00:30 EDT, the autumn change's day
    ("America/New_York", "2026-11-02T04:30:00", "2026-11-01"),  # 23:30 EST
    ("Pacific/Auckland", "2026-04-04T11:30:00", "2026-04-05"),  # 00:30 NZDT, the autumn change's day
    ("Pacific/Auckland", "2026-09-26T12:30:00", "2026-09-27"),  # 00:30 NZST, the spring change's day
    ("Europe/London", "2026-03-29T00:30:00", "2026-03-29"),
    ("Europe/London", "2026-10-24T23:30:00", "2026-10-25"),  # 00:30 BST
]


@pytest.mark.parametrize(("zone", "instant", "local_day"), TODAYS)
def test_a_users_today_is_their_own_date_and_sets_the_next_date(zone, instant, local_day):
    at = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    today = today_in(zone, at)
    assert today == D(local_day)
    # A daily task a week late moves to the user's today, wherever they are.
    due = today.replace(day=1) if today.day > 7 else D("2026-01-01")
    assert schedule("every day", due.isoformat()).next_after_completion(due, today)[0] == today


# Phrases: (text, rule, mode). Each must parse to its rule, and the text the app writes
# for that rule must parse back to the same rule and mode.
PHRASES = [
    ("every day", "FREQ=DAILY", "due"),
    ("Daily", "FREQ=DAILY", "due"),
    ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "due"),
    ("every weekend", "FREQ=WEEKLY;BYDAY=SA,SU", "due"),
    ("every 3 days", "FREQ=DAILY;INTERVAL=3", "due"),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", "due"),
    ("every 6 months", "FREQ=MONTHLY;INTERVAL=6", "due"),
    ("every 10 years", "FREQ=YEARLY;INTERVAL=10", "due"),
    ("every other day", "FREQ=DAILY;INTERVAL=2", "due"),
    ("every other month", "FREQ=MONTHLY;INTERVAL=2", "due"),
    ("every other friday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"),
    ("weekly", "FREQ=WEEKLY", "due"),
    ("monthly", "FREQ=MONTHLY", "due"),
    ("YEARLY", "FREQ=YEARLY", "due"),
    ("every monday", "FREQ=WEEKLY;BYDAY=MO", "due"),
    ("every Mondays", "FREQ=WEEKLY;BYDAY=MO", "due"),
    ("every mon, wed and fri", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "due"),
    ("every fri, mon", "FREQ=WEEKLY;BYDAY=MO,FR", "due"),
    ("every 15th", "FREQ=MONTHLY;BYMONTHDAY=15", "due"),
    ("every 1st", "FREQ=MONTHLY;BYMONTHDAY=1", "due"),
    ("every 31st", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", "due"),
    ("every last day", "FREQ=MONTHLY;BYMONTHDAY=-1", "due"),
    ("every month on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15", "due"),
    ("every month on the 30th", "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", "due"),
    ("every 3 months on the last day", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", "due"),
    ("every 3rd friday", "FREQ=MONTHLY;BYDAY=3FR", "due"),
    ("every last friday", "FREQ=MONTHLY;BYDAY=-1FR", "due"),
    ("every second tuesday", "FREQ=MONTHLY;BYDAY=2TU", "due"),
    ("every jan 5", "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=5", "due"),
    ("every 25 december", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", "due"),
    ("every day until 2027-06-30", "FREQ=DAILY;UNTIL=20270630", "due"),
    ("every monday for 10 times", "FREQ=WEEKLY;BYDAY=MO;COUNT=10", "due"),
    ("every 2 weeks on tue and thu", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "due"),
    ("after 3 days", "FREQ=DAILY;INTERVAL=3", "completion"),
    ("after a week", "FREQ=WEEKLY", "completion"),
    ("after 2 months", "FREQ=MONTHLY;INTERVAL=2", "completion"),
    ("every! monday", "FREQ=WEEKLY;BYDAY=MO", "completion"),
    ("every! 3 days", "FREQ=DAILY;INTERVAL=3", "completion"),
    ("  every   MONDAY  ", "FREQ=WEEKLY;BYDAY=MO", "due"),
]


@pytest.mark.parametrize(("text", "rule", "mode"), PHRASES, ids=[row[0] for row in PHRASES])
def test_a_phrase_gives_its_rule_and_the_rules_words_give_it_back(text, rule, mode):
    parsed, parsed_mode = phrases.parse_phrase(text)
    assert (str(parsed), parsed_mode) == (rule, mode)
    words = phrases.describe(parsed, parsed_mode)
    assert phrases.parse_phrase(words) == (parsed, parsed_mode), words


@pytest.mark.parametrize("text", [
    "", "sometimes", "every", "every blursday", "every 0 days", "every 1000 days", "every 32nd", "every feb 30",
    "every 6th friday", "every day until tomorrow", "every day until 2027-02-30", "every day for 0 times",
    "every day for 5000 times", "after 0 days", "every monday and", "every " + "day " * 60,
])
def test_a_phrase_not_understood_says_so(text):
    with pytest.raises(RuleError):
        phrases.parse_phrase(text)


@pytest.mark.parametrize("rule", [
    "", "FREQ=HOURLY", "FREQ=DAILY;INTERVAL=0", "FREQ=DAILY;INTERVAL=1000", "FREQ=WEEKLY;BYDAY=3FR",
    "FREQ=MONTHLY;BYDAY=XX", "FREQ=MONTHLY;BYMONTHDAY=0", "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ=YEARLY;BYMONTH=13",
    "FREQ=DAILY;COUNT=2;UNTIL=20270101", "FREQ=DAILY;UNTIL=2027", "FREQ=DAILY;BYHOUR=9", "FREQ=DAILY;FREQ=DAILY",
    "FREQ=DAILY;WKST=SU", "FREQ=DAILY;BYSETPOS=1", "FREQ", "FREQ=DAILY;" + "X=1;" * 100,
    "FREQ=YEARLY;BYMONTH=2;BYDAY=53MO", "FREQ=YEARLY;BYMONTH=12;BYDAY=20MO", "FREQ=DAILY;BYDAY=MO;BYSETPOS=2,3",
    "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=8",
])
def test_a_rule_outside_the_subset_says_so(rule):
    with pytest.raises(RuleError):
        parse_rule(rule)


@pytest.mark.parametrize("rule", ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
                                  "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
                                  "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29"])
def test_a_rule_with_no_date_is_found_out_quickly(rule):
    started = time.process_time()
    assert not recurrence.has_dates(parse_rule(rule), D("2026-11-30"))  # anchored on a Monday, in 2026
    assert time.process_time() - started < 5  # a bound that catches a search to the year 9999, not a stopwatch


def test_a_count_of_a_rare_rule_is_counted_within_the_horizon_quickly():
    started = time.process_time()
    rule = recurrence.with_count_as_until(parse_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=1000"),
                                          D("2044-02-29"))
    assert rule.until is not None and rule.until.year <= 2044 + recurrence.HORIZON_YEARS
    assert time.process_time() - started < 5  # a bound that catches a search to the year 9999, not a stopwatch


def test_the_calendars_last_day_ends_a_series():
    assert schedule("every day", "9999-12-30").next_after_completion(D("9999-12-31"), D("2026-11-27")) is None
    assert schedule("every day", "9999-12-30").occurrences(D("9999-12-30"), 5) == [D("9999-12-30"), D("9999-12-31")]


def test_rules_read_the_same_however_they_are_written():
    assert str(parse_rule("rrule:freq=weekly;byday=fr,mo;interval=1")) == "FREQ=WEEKLY;BYDAY=MO,FR"
    assert str(parse_rule("FREQ=MONTHLY;BYMONTHDAY=-1,1")) == "FREQ=MONTHLY;BYMONTHDAY=1,-1"
