"""Due times and recurring tasks through the API: the fields, completing, skipping, the
completions and occurrences, and every new endpoint refusing another user's task."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest

from myapp.services.timezones import today_in

pytestmark = pytest.mark.pooled


def create(client, headers, **fields):
    response = client.post("/api/v1/tasks", headers=headers, json={"title": "Water the plants", **fields})
    assert response.status_code == 201, response.json
    return response.json


def toggle(client, headers, task_id, **extra):
    response = client.post(f"/api/v1/tasks/{task_id}/toggle", headers={**headers, **extra})
    assert response.status_code == 200, response.json
    return response.json


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def test_a_phrase_becomes_a_rule_with_its_words_and_starts_today_without_a_due_date(client, as_alice, alice):
    task = create(client, as_alice, recurrence={"text": "Every 3 days"})
    today = today_in(alice.timezone)
    assert task["recurrence"] == {"rule": "FREQ=DAILY;INTERVAL=3", "mode": "due", "text": "every 3 days"}
    assert task["due_date"] == today.isoformat()


def test_a_rule_gives_the_first_date_of_its_schedule_on_or_after_the_due_date(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-01", recurrence={"rule": "FREQ=MONTHLY;BYDAY=3FR"})
    assert task["due_date"] == "2030-01-18"  # the third Friday of January 2030
    assert task["recurrence"]["text"] == "every 3rd Friday"
    counted = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday for 3 times"})
    assert counted["recurrence"]["rule"] == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20300121"  # COUNT kept as its last date


def test_a_recurring_task_toggled_100_times_lands_on_the_100th_date_after_its_first(client, as_alice, sql):
    first = month_end(2030, 1)
    task = create(client, as_alice, due_date=first.isoformat(), recurrence={"text": "every 31st"})
    for _ in range(100):
        task = toggle(client, as_alice, task["id"])
    month = 2030 * 12 + 100  # January 2030 plus 100 months
    assert task["due_date"] == month_end(month // 12, month % 12 + 1).isoformat()
    assert task["completed"] is False and task["version"] == 101
    completions = client.get(f"/api/v1/tasks/{task['id']}/completions", headers=as_alice).json["items"]
    assert len(completions) == 100
    assert completions[-1]["due_date"] == first.isoformat()  # newest first
    assert completions[0]["due_date"] == month_end(2038, 4).isoformat()
    assert sql("SELECT count(*) FROM task_completions")[0][0] == 100


def test_completing_the_last_date_of_a_series_completes_the_task_for_good(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday for 2 times"})
    task = toggle(client, as_alice, task["id"])
    assert (task["due_date"], task["completed"]) == ("2030-01-14", False)
    task = toggle(client, as_alice, task["id"])
    assert (task["due_date"], task["completed"]) == ("2030-01-14", True)
    task = toggle(client, as_alice, task["id"])  # reopened: a plain toggle again
    assert task["completed"] is False


def test_a_patch_that_completes_moves_the_task_on_with_its_other_fields(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    response = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice,
                            json={"completed": True, "priority": "high"})
    assert response.status_code == 200
    assert (response.json["due_date"], response.json["completed"], response.json["priority"]) == \
        ("2030-01-14", False, "high")
    stopped = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"recurrence": None})
    assert stopped.json["recurrence"] is None and stopped.json["due_date"] == "2030-01-14"
    done = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"completed": True})
    assert done.json["completed"] is True


def test_if_match_guards_a_completion(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    assert client.post(f"/api/v1/tasks/{task['id']}/toggle",
                       headers={**as_alice, "If-Match": '"9.0.0"'}).status_code == 412
    moved = toggle(client, as_alice, task["id"], **{"If-Match": '"1.0.0"'})
    assert moved["due_date"] == "2030-01-14"
    assert client.post(f"/api/v1/tasks/{task['id']}/toggle",  # a retry with the old tag: nothing moves twice
                       headers={**as_alice, "If-Match": '"1.0.0"'}).status_code == 412


def test_completing_reopens_its_subtasks_for_the_next_time(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    child = create(client, as_alice, title="Buy soil", parent_id=task["id"])
    grandchild = create(client, as_alice, title="Find a bag", parent_id=child["id"])
    toggle(client, as_alice, child["id"])  # done, with its own subtask
    assert client.get(f"/api/v1/tasks/{grandchild['id']}", headers=as_alice).json["completed"] is True
    moved = toggle(client, as_alice, task["id"])
    assert (moved["subtask_count"], moved["subtask_completed_count"]) == (1, 0)
    for subtask in (child, grandchild):
        assert client.get(f"/api/v1/tasks/{subtask['id']}", headers=as_alice).json["completed"] is False


def test_skip_moves_to_the_next_date_without_a_completion(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-15", recurrence={"text": "every 15th"})
    response = client.post(f"/api/v1/tasks/{task['id']}/skip", headers=as_alice)
    assert response.status_code == 200 and response.json["due_date"] == "2030-02-15"
    assert client.get(f"/api/v1/tasks/{task['id']}/completions", headers=as_alice).json == {"items": []}
    plain = create(client, as_alice, title="Once")
    refused = client.post(f"/api/v1/tasks/{plain['id']}/skip", headers=as_alice)
    assert refused.status_code == 422 and "recurrence" in refused.json["details"]


def test_completion_mode_counts_from_the_day_it_is_done(client, as_alice, alice):
    today = today_in(alice.timezone)
    task = create(client, as_alice, due_date=(today - timedelta(days=10)).isoformat(),
                  recurrence={"text": "after 3 days"})
    assert task["recurrence"]["mode"] == "completion"
    assert toggle(client, as_alice, task["id"])["due_date"] == (today + timedelta(days=3)).isoformat()


def test_occurrences_are_the_due_date_and_the_next_ones(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-31", recurrence={"text": "every last day"})
    response = client.get(f"/api/v1/tasks/{task['id']}/occurrences?limit=4", headers=as_alice)
    assert response.json == {"items": ["2030-01-31", "2030-02-28", "2030-03-31", "2030-04-30"]}
    assert len(client.get(f"/api/v1/tasks/{task['id']}/occurrences", headers=as_alice).json["items"]) == 5
    for bad in ("0", "51", "x", "-1", "5&limit=6"):
        assert client.get(f"/api/v1/tasks/{task['id']}/occurrences?limit={bad}",
                          headers=as_alice).status_code == 422
    once = create(client, as_alice, title="Once", due_date="2030-01-01")
    assert client.get(f"/api/v1/tasks/{once['id']}/occurrences", headers=as_alice).json == {"items": ["2030-01-01"]}


@pytest.mark.parametrize(("recurrence", "field"), [
    ({"text": "every blursday"}, "recurrence"),
    ({"rule": "FREQ=HOURLY"}, "recurrence"),
    ({"rule": "FREQ=DAILY", "text": "every day"}, "recurrence"),
    ({}, "recurrence"),
    ({"rule": "FREQ=DAILY;UNTIL=20200101"}, "recurrence"),
    ({"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence"),
    ({"text": "every day", "mode": "sometimes"}, "recurrence"),
    ("every day", "recurrence"),
])
def test_a_recurrence_that_cannot_be_kept_is_a_422_naming_it_and_stores_nothing(client, as_alice, sql,
                                                                                 recurrence, field):
    response = client.post("/api/v1/tasks", headers=as_alice, json={"title": "x", "recurrence": recurrence})
    assert response.status_code == 422 and field in response.json["details"], response.json
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


def test_a_due_time_is_kept_as_hh_mm_and_needs_a_date(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-01", due_time="09:30")
    assert task["due_time"] == "09:30"
    for bad in ("9:30", "24:00", "09:30:00", "noon", 930):
        response = client.post("/api/v1/tasks", headers=as_alice,
                               json={"title": "x", "due_date": "2030-01-01", "due_time": bad})
        assert response.status_code == 422 and "due_time" in response.json["details"]
    alone = client.post("/api/v1/tasks", headers=as_alice, json={"title": "x", "due_time": "09:30"})
    assert alone.status_code == 422 and "due_time" in alone.json["details"]
    cleared = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"due_date": None})
    assert (cleared.json["due_date"], cleared.json["due_time"]) == (None, None)  # the time goes with the date
    refused = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"due_time": "10:00"})
    assert refused.status_code == 422 and "due_time" in refused.json["details"]


def test_a_recurring_task_keeps_its_due_date(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    refused = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"due_date": None})
    assert refused.status_code == 422 and "due_date" in refused.json["details"]
    both = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"due_date": None, "recurrence": None})
    assert both.status_code == 200 and both.json["due_date"] is None


def test_the_due_sort_puts_a_days_timed_tasks_after_its_untimed_ones_in_time_order(client, as_alice):
    for title, due, at in (("late", "2030-01-02", "18:00"), ("early", "2030-01-02", "07:15"),
                           ("any time", "2030-01-02", None), ("day before", "2030-01-01", "23:59"),
                           ("no date", None, None)):
        create(client, as_alice, title=title, due_date=due, due_time=at)
    titles = [task["title"] for task in client.get("/api/v1/tasks?sort=due&limit=2", headers=as_alice).json["items"]]
    page = client.get("/api/v1/tasks?sort=due&limit=2", headers=as_alice).json
    while page["next_cursor"]:
        page = client.get(f"/api/v1/tasks?sort=due&limit=2&cursor={page['next_cursor']}", headers=as_alice).json
        titles += [task["title"] for task in page["items"]]
    assert titles == ["day before", "any time", "early", "late", "no date"]


def test_a_task_due_earlier_today_at_a_time_is_overdue(client, as_alice, alice):
    today = today_in(alice.timezone)
    create(client, as_alice, title="this morning", due_date=today.isoformat(), due_time="00:00")
    create(client, as_alice, title="tonight", due_date=today.isoformat(), due_time="23:59")
    create(client, as_alice, title="yesterday", due_date=(today - timedelta(days=1)).isoformat())
    overdue = {task["title"] for task in client.get("/api/v1/tasks?status=overdue", headers=as_alice).json["items"]}
    assert overdue == {"this morning", "yesterday"}


def test_another_users_recurring_task_is_not_found_everywhere(client, as_alice, as_bob, sql):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    version = task["version"]
    for method, path in (("post", "skip"), ("post", "toggle"), ("get", "completions"), ("get", "occurrences")):
        response = getattr(client, method)(f"/api/v1/tasks/{task['id']}/{path}", headers=as_bob)
        assert response.status_code == 404, path
    assert client.patch(f"/api/v1/tasks/{task['id']}", headers=as_bob, json={"completed": True}).status_code == 404
    assert sql("SELECT due_date::text, version FROM tasks") == [("2030-01-07", version)]
    assert sql("SELECT count(*) FROM task_completions")[0][0] == 0


def test_an_idempotent_create_with_a_recurrence_makes_it_once(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "rent-1"}
    body = {"title": "Pay rent", "due_date": "2030-01-01", "recurrence": {"text": "every 1st"}}
    first = client.post("/api/v1/tasks", headers=headers, json=body)
    again = client.post("/api/v1/tasks", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert first.json["recurrence"]["rule"] == "FREQ=MONTHLY;BYMONTHDAY=1"
    assert sql("SELECT count(*) FROM tasks")[0][0] == 1


def test_the_export_holds_the_completions(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    toggle(client, as_alice, task["id"])
    exported = client.get("/api/v1/export", headers=as_alice).json
    (item,) = [t for t in exported["tasks"] if t["id"] == task["id"]]
    assert item["recurrence"]["rule"] == "FREQ=WEEKLY;BYDAY=MO" and item["due_date"] == "2030-01-14"
    assert [c["due_date"] for c in item["completions"]] == ["2030-01-07"]


def test_done_and_repeating_no_more_in_one_patch_completes_it(client, as_alice):
    task = create(client, as_alice, due_date="2030-01-07", recurrence={"text": "every monday"})
    response = client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice,
                            json={"completed": True, "recurrence": None})
    assert (response.json["completed"], response.json["recurrence"], response.json["due_date"]) == \
        (True, None, "2030-01-07")


def test_a_series_on_the_calendars_last_day_completes_for_good(client, as_alice):
    task = create(client, as_alice, due_date="9999-12-30", recurrence={"text": "every day"})
    task = toggle(client, as_alice, task["id"])
    assert (task["due_date"], task["completed"]) == ("9999-12-31", False)
    assert client.get(f"/api/v1/tasks/{task['id']}/occurrences", headers=as_alice).json == {"items": ["9999-12-31"]}
    assert toggle(client, as_alice, task["id"])["completed"] is True


def test_a_rule_naming_months_but_no_day_keeps_its_first_dates_day(client, as_alice):
    task = create(client, as_alice, due_date="2030-02-10", recurrence={"rule": "FREQ=YEARLY;BYMONTH=2",
                                                                        "mode": "completion"})
    assert task["recurrence"]["rule"] == "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=10"
    # Re-anchored on a 31st (a new due date), then done: counted from today, its next date is
    # still a 10 February (implicit, the day would have been the 31st: none in February).
    client.patch(f"/api/v1/tasks/{task['id']}", headers=as_alice, json={"due_date": "2030-03-31"})
    done = toggle(client, as_alice, task["id"])
    assert done["due_date"].endswith("-02-10") and done["completed"] is False


def test_a_rule_that_written_out_would_pass_300_characters_is_a_422_not_a_500(client, as_alice):
    rule = "FREQ=YEARLY;BYMONTH=1;BYSETPOS=" + ",".join(str(n) for n in range(1, 200))
    rule = rule[:rule.rindex(",", 0, 292)] + ";COUNT=1"  # COUNT=1 becomes a longer UNTIL=...
    response = client.post("/api/v1/tasks", json={"title": "t", "due_date": "2030-01-01",
                                                  "recurrence": {"rule": rule}}, headers=as_alice)
    assert response.status_code == 422 and "longer than 300" in response.json["details"]["recurrence"]
