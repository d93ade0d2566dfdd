"""Quick add: what each line gives (a table of lines, read at a fixed wall clock), and the
parts it answers with their places in the line."""
from __future__ import annotations

import time as clock
from datetime import date, datetime, time

import pytest

from myapp.services.quickadd import parse_line

PROJECTS = [("home-id", "Home"), ("work-id", "Work"), ("side-id", "Side project"), ("inbox-id", "Inbox")]
FRIDAY = datetime(2026, 11, 27, 10, 0)  # Friday 27 November 2026, 10:00 where the user is
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30)
JAN_31 = datetime(2026, 1, 31, 8, 0)
DST_SPRING = datetime(2026, 3, 8, 1, 30)  # New York springs forward at 02:00 that night
DST_AUTUMN = datetime(2026, 10, 25, 0, 30)  # Europe falls back at 03:00 that night
LEAP_DAY = datetime(2028, 2, 29, 9, 0)

D = date.fromisoformat


def T(text: str) -> time:
    return time.fromisoformat(text)


# (line, title, project, tags, priority, due date, due time, recurrence rule[, now])
LINES = [
    # the examples of PRODUCT.md
    ("Pay rent every month on the 1st #Home @bills p1", "Pay rent", "home-id", ["bills"], "high", None, None,
     "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("Call Ana tomorrow at 17:30 @phone", "Call Ana", None, ["phone"], "none", "2026-11-28", "17:30", None),
    # lines that stay plain titles
    ("Email bob@example.com about p1zza", "Email bob@example.com about p1zza", None, [], "none", None, None, None),
    ('Read "Tomorrow never dies"', 'Read "Tomorrow never dies"', None, [], "none", None, None, None),
    ("Buy 2 eggs", "Buy 2 eggs", None, [], "none", None, None, None),
    ("Fix p5 bug", "Fix p5 bug", None, [], "none", None, None, None),
    ("Review PR#12", "Review PR#12", None, [], "none", None, None, None),
    ("Learn C# basics", "Learn C# basics", None, [], "none", None, None, None),
    ("Sunday roast recipe", "roast recipe", None, [], "none", "2026-11-29", None, None),  # a weekday is a date
    ("Buy sun cream", "Buy sun cream", None, [], "none", None, None, None),
    ("Mayday drill", "Mayday drill", None, [], "none", None, None, None),
    ("Watch \"every day\" documentary", "Watch \"every day\" documentary", None, [], "none", None, None, None),
    ("Tweet @ someone", "Tweet @ someone", None, [], "none", None, None, None),
    ("Ask about the 2pm-ish slot", "Ask about the 2pm-ish slot", None, [], "none", None, None, None),
    ("Version 10:75 notes", "Version 10:75 notes", None, [], "none", None, None, None),
    ("Room 25:00", "Room 25:00", None, [], "none", None, None, None),
    ("Look up 13pm", "Look up 13pm", None, [], "none", None, None, None),
    ("Order #42 refund", "Order #42 refund", None, [], "none", None, None, None),
    ("tomorrow", "tomorrow", None, [], "none", None, None, None),  # nothing else to name it
    ("p1", "p1", None, [], "none", None, None, None),
    ("@home", "@home", None, [], "none", None, None, None),
    ("Plan 2026-02-30 party", "Plan 2026-02-30 party", None, [], "none", None, None, None),  # no such date
    ("Fix feb 30 typo", "Fix feb 30 typo", None, [], "none", None, None, None),
    ("every blursday chores", "every blursday chores", None, [], "none", None, None, None),
    # projects
    ("Write report #Work", "Write report", "work-id", [], "none", None, None, None),
    ("Write report #work", "Write report", "work-id", [], "none", None, None, None),
    ("Write report #WORK p2", "Write report", "work-id", [], "medium", None, None, None),
    ('Plan trip #"Side project"', "Plan trip", "side-id", [], "none", None, None, None),
    ('Plan trip #"side PROJECT" next week', "Plan trip", "side-id", [], "none", "2026-11-30", None, None),
    ("Plan trip #Side project", "Plan trip #Side project", None, [], "none", None, None, None),
    ("Fix #Unknown thing", "Fix #Unknown thing", None, [], "none", None, None, None),
    ("Sort mail #Inbox", "Sort mail", "inbox-id", [], "none", None, None, None),
    ("#Home clean the gutters", "clean the gutters", "home-id", [], "none", None, None, None),
    ("Both #Home #Work", "Both #Work", "home-id", [], "none", None, None, None),
    # tags and priorities
    ("Buy milk @errand @home", "Buy milk", None, ["errand", "home"], "none", None, None, None),
    ("Buy milk @Errand @errand", "Buy milk", None, ["errand"], "none", None, None, None),
    ("Buy milk @with-dash_and_underscore", "Buy milk", None, ["with-dash_and_underscore"], "none", None, None,
     None),
    ("Buy milk @" + "x" * 33, "Buy milk @" + "x" * 33, None, [], "none", None, None, None),
    ("Urgent p1", "Urgent", None, [], "high", None, None, None),
    ("Soon p2", "Soon", None, [], "medium", None, None, None),
    ("Later p3", "Later", None, [], "low", None, None, None),
    ("Whenever p4", "Whenever", None, [], "none", None, None, None),
    ("Shout P1", "Shout", None, [], "high", None, None, None),
    ("Two p1 p3", "Two p3", None, [], "high", None, None, None),
    ("p2 first then title", "first then title", None, [], "medium", None, None, None),
    # dates
    ("Call today", "Call", None, [], "none", "2026-11-27", None, None),
    ("Call tonight", "Call", None, [], "none", "2026-11-27", None, None),
    ("Call tomorrow", "Call", None, [], "none", "2026-11-28", None, None),
    ("Call TOMORROW", "Call", None, [], "none", "2026-11-28", None, None),
    ("Call monday", "Call", None, [], "none", "2026-11-30", None, None),
    ("Call on monday", "Call", None, [], "none", "2026-11-30", None, None),
    ("Call friday", "Call", None, [], "none", "2026-11-27", None, None),  # today included
    ("Call thursday", "Call", None, [], "none", "2026-12-03", None, None),
    ("Call saturday", "Call", None, [], "none", "2026-11-28", None, None),
    ("Call next week", "Call", None, [], "none", "2026-11-30", None, None),
    ("Call in 3 days", "Call", None, [], "none", "2026-11-30", None, None),
    ("Call in 1 day", "Call", None, [], "none", "2026-11-28", None, None),
    ("Call in 2 weeks", "Call", None, [], "none", "2026-12-11", None, None),
    ("Call in 1 month", "Call", None, [], "none", "2026-12-27", None, None),
    ("Call in 3 months", "Call", None, [], "none", "2027-02-27", None, None),
    ("Call dec 24", "Call", None, [], "none", "2026-12-24", None, None),
    ("Call December 24th", "Call", None, [], "none", "2026-12-24", None, None),
    ("Call 24 dec", "Call", None, [], "none", "2026-12-24", None, None),
    ("Call on 24th december", "Call", None, [], "none", "2026-12-24", None, None),
    ("Call jan 5", "Call", None, [], "none", "2027-01-05", None, None),
    ("Call 5 jan", "Call", None, [], "none", "2027-01-05", None, None),
    ("Call nov 27", "Call", None, [], "none", "2026-11-27", None, None),  # today included
    ("Call nov 26", "Call", None, [], "none", "2027-11-26", None, None),
    ("Call feb 29", "Call", None, [], "none", "2028-02-29", None, None),
    ("Call 2026-12-24", "Call", None, [], "none", "2026-12-24", None, None),
    ("Call on 2027-01-02", "Call", None, [], "none", "2027-01-02", None, None),
    ("Call on the 15th", "Call", None, [], "none", "2026-12-15", None, None),
    ("Call on the 27th", "Call", None, [], "none", "2026-11-27", None, None),
    ("Call on the 31st", "Call", None, [], "none", "2026-12-31", None, None),
    ("Call tomorrow and friday", "Call and friday", None, [], "none", "2026-11-28", None, None),
    # times
    ("Call at 5pm", "Call", None, [], "none", "2026-11-27", "17:00", None),
    ("Call 5pm", "Call", None, [], "none", "2026-11-27", "17:00", None),
    ("Call at 9am", "Call", None, [], "none", "2026-11-28", "09:00", None),  # passed: tomorrow
    ("Call at 10am", "Call", None, [], "none", "2026-11-28", "10:00", None),  # this very minute: passed
    ("Call at 11:15", "Call", None, [], "none", "2026-11-27", "11:15", None),
    ("Call 17:30", "Call", None, [], "none", "2026-11-27", "17:30", None),
    ("Call at noon", "Call", None, [], "none", "2026-11-27", "12:00", None),
    ("Call at midnight", "Call", None, [], "none", "2026-11-28", "00:00", None),
    ("Call 12am", "Call", None, [], "none", "2026-11-28", "00:00", None),
    ("Call 12pm", "Call", None, [], "none", "2026-11-27", "12:00", None),
    ("Call at 7:45pm", "Call", None, [], "none", "2026-11-27", "19:45", None),
    ("Call at 8 PM", "Call", None, [], "none", "2026-11-27", "20:00", None),
    ("Call monday at 9am", "Call", None, [], "none", "2026-11-30", "09:00", None),
    ("Call at 9am monday", "Call", None, [], "none", "2026-11-30", "09:00", None),
    ("Dinner friday 20:00 #Home", "Dinner", "home-id", [], "none", "2026-11-27", "20:00", None),
    # recurrence
    ("Water the plants every 3 days", "Water the plants", None, [], "none", None, None, "FREQ=DAILY;INTERVAL=3"),
    ("Stand-up every weekday at 9:30am @work", "Stand-up", None, ["work"], "none", None, "09:30",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("Gym every mon, wed and fri", "Gym", None, [], "none", None, None, "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ("Report every last friday #Work p2", "Report", "work-id", [], "medium", None, None, "FREQ=MONTHLY;BYDAY=-1FR"),
    ("Book club every 3rd friday at 19:00", "Book club", None, [], "none", None, "19:00", "FREQ=MONTHLY;BYDAY=3FR"),
    ("Budget every 31st", "Budget", None, [], "none", None, None, "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"),
    ("Birthday every jan 5", "Birthday", None, [], "none", None, None, "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=5"),
    ("Backup daily", "Backup", None, [], "none", None, None, "FREQ=DAILY"),
    ("Haircut after 6 weeks", "Haircut", None, [], "none", None, None, "FREQ=WEEKLY;INTERVAL=6"),
    ("Clean every! week", "Clean", None, [], "none", None, None, "FREQ=WEEKLY"),
    ("Meds every day until 2026-12-31", "Meds", None, [], "none", None, None, "FREQ=DAILY;UNTIL=20261231"),
    ("Lessons every tuesday for 10 times", "Lessons", None, [], "none", None, None, "FREQ=WEEKLY;BYDAY=TU;COUNT=10"),
    ("Every day walk", "walk", None, [], "none", None, None, "FREQ=DAILY"),
    ("Rent every month starting dec 1", "Rent starting", None, [], "none", "2026-12-01", None, "FREQ=MONTHLY"),
    ("Every other monday 1:1 with Sam", "1:1 with Sam", None, [], "none", None, None,
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("Gym every mon, tue, wed, thu, fri and sat until 2026-12-31", "Gym", None, [], "none", None, None,
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA;UNTIL=20261231"),
    ("Gym every other week on monday and friday for 10 times", "Gym", None, [], "none", None, None,
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=10"),
    # around month ends, year ends and daylight-saving changes
    ("Party tomorrow", "Party", None, [], "none", "2027-01-01", None, None, NEW_YEARS_EVE),
    ("Party at 9am", "Party", None, [], "none", "2027-01-01", "09:00", None, NEW_YEARS_EVE),
    ("Party dec 31", "Party", None, [], "none", "2026-12-31", None, None, NEW_YEARS_EVE),
    ("Party jan 1", "Party", None, [], "none", "2027-01-01", None, None, NEW_YEARS_EVE),
    ("Party next week", "Party", None, [], "none", "2027-01-04", None, None, NEW_YEARS_EVE),
    ("Party in 2 months", "Party", None, [], "none", "2027-02-28", None, None, NEW_YEARS_EVE),
    ("Pay in 1 month", "Pay", None, [], "none", "2026-02-28", None, None, JAN_31),
    ("Pay on the 30th", "Pay", None, [], "none", "2026-03-30", None, None, JAN_31),
    ("Pay on the 31st", "Pay", None, [], "none", "2026-01-31", None, None, JAN_31),
    ("Alarm at 3am", "Alarm", None, [], "none", "2026-03-08", "03:00", None, DST_SPRING),
    ("Alarm at 1am", "Alarm", None, [], "none", "2026-03-09", "01:00", None, DST_SPRING),
    ("Alarm at 2:30am", "Alarm", None, [], "none", "2026-10-25", "02:30", None, DST_AUTUMN),
    ("Alarm sunday", "Alarm", None, [], "none", "2026-10-25", None, None, DST_AUTUMN),
    ("Leap tomorrow", "Leap", None, [], "none", "2028-03-01", None, None, LEAP_DAY),
    ("Leap in 1 year", "Leap in 1 year", None, [], "none", None, None, None, LEAP_DAY),
    ("Leap feb 29", "Leap", None, [], "none", "2028-02-29", None, None, LEAP_DAY),
]


@pytest.mark.parametrize("row", LINES, ids=[row[0] for row in LINES])
def test_a_line_gives_its_fields(row):
    text, title, project, tags, priority, due, at, rule, *now = row
    quick = parse_line(text, PROJECTS, now[0] if now else FRIDAY)
    assert (quick.title, quick.project_id, quick.tags, quick.priority) == (title, project, tags, priority)
    assert (quick.due_date, quick.due_time) == (D(due) if due else None, T(at) if at else None)
    assert (str(quick.recurrence[0]) if quick.recurrence else None) == rule


def test_a_very_long_line_is_a_title_read_quickly():
    started = clock.process_time()
    quick = parse_line("every " * 5000 + "@a " * 3000, PROJECTS, FRIDAY)
    assert quick.parts == [] and clock.process_time() - started < 5


def test_the_table_has_at_least_a_hundred_lines():
    assert len(LINES) >= 100


def test_each_part_is_answered_with_its_place_in_the_line():
    text = "Pay rent every month on the 1st #Home @bills p1"
    quick = parse_line(text, PROJECTS, FRIDAY)
    assert [(text[p.start:p.end], p.kind) for p in quick.parts] == [
        ("every month on the 1st", "recurrence"), ("#Home", "project"), ("@bills", "tag"), ("p1", "priority")]
    emoji = "🎉 Party tomorrow at 9pm"  # offsets in code points, not UTF-16 units or bytes
    parts = parse_line(emoji, PROJECTS, FRIDAY).parts
    assert [(p.start, p.end, p.kind) for p in parts] == [(8, 16, "date"), (17, 23, "time")]


def test_unknown_projects_are_named_and_left_in_the_title():
    quick = parse_line('Fix it #Nope #"Not one" #Home', PROJECTS, FRIDAY)
    assert quick.unknown_projects == ["Nope", "Not one"]
    assert (quick.title, quick.project_id) == ('Fix it #Nope #"Not one"', "home-id")
