"""The calendar feed: made, regenerated and turned off on the account page; read back with
icalendar, and its rules expanded by an independent library (recurring-ical-events) to
the same dates as the app's own occurrences; 404 for any secret that opens nothing."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events

from myapp.services import calendar_feed, projects, scheduling, tasks
from myapp.services.timezones import zone

from support.pages import post

pytestmark = pytest.mark.pooled


CSRF_TOKEN = re.compile(r'(?<=name="csrf-token" content=")[^"]+|(?<=name="csrf_token" value=")[^"]+')


def feed_path(client) -> str:
    html = client.get("/account").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/calendar/[A-Za-z0-9_-]+\.ics)"', html)
    assert match, "the account page shows the feed URL"
    return match.group(1)


@pytest.fixture
def feed(signed_in):
    """The signed-in user's feed URL path, made on the account page."""
    assert post(signed_in, "/account/calendar").status_code == 302
    return feed_path(signed_in)


@pytest.fixture
def app_client(new_client):
    """A client with no session, as a calendar app is."""
    return new_client()


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.data)


def test_the_feed_holds_open_dated_tasks_of_unarchived_projects_as_events(signed_in, user, feed, make_task,
                                                                          app_client):
    make_task(user, "All day", due_date="2030-01-07", tags=["home", "garden"], description="Bring gloves")
    make_task(user, "At nine", due_date="2030-01-08", due_time="09:00")
    make_task(user, "Done", due_date="2030-01-09", completed=True)
    make_task(user, "Undated")
    archived = projects.create_project(user.id, {"name": "Old"})
    make_task(user, "Archived", due_date="2030-01-10", project_id=str(archived.id))
    projects.update_project(user.id, archived.id, {"archived": True})
    calendar = parse(app_client.get(feed))  # no session: the URL alone opens it
    events = {str(event["summary"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {"All day", "At nine"}
    all_day = events["All day"]
    assert all_day.decoded("dtstart") == date(2030, 1, 7) and all_day.decoded("duration") == timedelta(days=1)
    assert [str(c) for c in all_day["categories"].cats] == ["home", "garden"]
    assert str(all_day["description"]).startswith("Bring gloves\n\nhttp://localhost/tasks/")
    assert int(all_day["sequence"]) == 1 and str(all_day["uid"]).endswith("@tasks")
    timed = events["At nine"].decoded("dtstart")
    assert (timed.replace(tzinfo=None), timed.utcoffset()) == (datetime(2030, 1, 8, 9, 0),
                                                               datetime(2030, 1, 8, 9, 0, tzinfo=zone(
                                                                   user.timezone)).utcoffset())
    assert events["At nine"].decoded("duration") == timedelta(minutes=30)


@pytest.mark.parametrize(("phrase", "due", "due_time", "timezone"), [
    ("every monday", "2030-01-07", None, "UTC"),
    ("every 31st", "2030-01-31", None, "UTC"),
    ("every 3rd friday", "2030-01-18", "18:30", "America/New_York"),
    ("every other week on tue and thu", "2030-01-01", None, "UTC"),
    ("every last day for 6 times", "2030-01-31", "08:00", "Pacific/Kiritimati"),
    ("every feb 29", "2032-02-29", None, "UTC"),
    ("every weekday until 2030-03-01", "2030-01-01", "07:15", "Europe/London"),
])
def test_the_feeds_rules_give_the_apps_own_dates(signed_in, user, feed, make_task, client, sql,
                                                 phrase, due, due_time, timezone):
    sql("UPDATE users SET timezone = :tz WHERE id = :id", tz=timezone, id=user.id)
    task = make_task(user, "Repeats", due_date=due, due_time=due_time, recurrence={"text": phrase})
    expected = scheduling.occurrences(task, 12)
    calendar = parse(client.get(feed))
    start = date.fromisoformat(due)
    found = recurring_ical_events.of(calendar).between(start, expected[-1] + timedelta(days=1))
    dates = sorted({event.decoded("dtstart") if isinstance(event.decoded("dtstart"), date)
                    and not isinstance(event.decoded("dtstart"), datetime)
                    else event.decoded("dtstart").date() for event in found})
    assert dates[:12] == expected


def test_a_completion_mode_task_shows_only_its_next_date(signed_in, user, feed, make_task, client):
    make_task(user, "After", due_date="2030-01-07", recurrence={"text": "after 3 days"})
    (event,) = parse(client.get(feed)).walk("VEVENT")
    assert "rrule" not in event and event.decoded("dtstart") == date(2030, 1, 7)


def test_a_conditional_get_is_a_304_until_a_task_changes(signed_in, user, feed, make_task, client):
    task = make_task(user, "Dated", due_date="2030-01-07")
    first = client.get(feed)
    assert first.headers["ETag"] and "Last-Modified" not in first.headers  # it could go back in time
    again = client.get(feed, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    tasks.update_task(user.id, task.id, {"title": "Renamed"})
    assert client.get(feed, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_a_task_due_on_the_calendars_last_day_is_in_the_feed(signed_in, user, feed, make_task, client):
    make_task(user, "The end", due_date="9999-12-31", due_time="23:59")
    make_task(user, "The very end", due_date="9999-12-31")
    assert len(parse(client.get(feed)).walk("VEVENT")) == 2


def test_a_wrong_or_revoked_secret_is_a_404_that_says_nothing_more(signed_in, user, feed, app_client):
    client = app_client
    made_up = "/calendar/" + "A" * 43 + ".ics"
    malformed = "/calendar/x.ics"
    answers = {path: client.get(path) for path in (made_up, malformed)}
    assert post(signed_in, "/account/calendar").status_code == 302  # a new URL: the old one ends
    answers[feed] = client.get(feed)
    new = feed_path(signed_in)
    assert client.get(new).status_code == 200
    post(signed_in, "/account/calendar/off")
    answers[new] = client.get(new)
    assert 'value="http://localhost/calendar/' not in signed_in.get("/account").get_data(as_text=True)
    # The same page for each: nothing tells them apart. (The form token in every page is
    # signed with the second it was made, so it can differ from one answer to the next.)
    bodies = {CSRF_TOKEN.sub("", response.get_data(as_text=True)) for response in answers.values()}
    assert {response.status_code for response in answers.values()} == {404}
    assert len(bodies) == 1


def test_the_secret_is_kept_only_as_a_hash_and_never_logged(signed_in, user, feed, client, sql, json_logs):
    secret = feed.removeprefix("/calendar/").removesuffix(".ics")
    stored = sql("SELECT calendar_nonce, calendar_feed_hash FROM users WHERE id = :id", id=user.id)[0]
    assert secret not in stored
    json_logs()
    client.get(feed)
    lines = json_logs()
    assert lines and all(secret not in str(line) for line in lines)
    assert [line["path"] for line in lines if line.get("logger") == "myapp.request"] == ["/calendar/…"]


def test_another_users_feed_secret_opens_only_theirs(signed_in, user, other_user, make_task, client):
    make_task(user, "Mine", due_date="2030-01-07")
    make_task(other_user, "Theirs", due_date="2030-01-07")
    secret = calendar_feed.regenerate(other_user.id)
    calendar = parse(client.get(f"/calendar/{secret}.ics"))
    assert [str(event["summary"]) for event in calendar.walk("VEVENT")] == ["Theirs"]
