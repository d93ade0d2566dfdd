"""Imports in the service layer, on a real PostgreSQL: the sample files of each format
land as the formats mean them; one transaction; nothing twice; the limits; ownership;
and round trips of this app's own exports (JSON, iCalendar)."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

import pytest

from myapp import exports
from myapp.errors import QueryTimeout, ValidationError
from myapp.extensions import db
from myapp.importers import records
from myapp.services import export, imports, projects, tasks, users
from myapp.services.timezones import today_in

pytestmark = pytest.mark.pooled
SAMPLES = Path(__file__).parent / "import_samples"
BERLIN = "Europe/Berlin"


def run(user, data: bytes, filename: str = "file", tz: str = "UTC", **options) -> dict:
    *progress, report = imports.import_file(user.id, data, filename, tz=tz, **options)
    assert all(set(event) == {"stored", "total"} for event in progress)
    return report


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def stored(sql, user) -> dict[str, dict]:
    """The user's tasks by title, with their project's name and their parent's title."""
    rows = sql("""SELECT t.title, p.name AS project, parent.title AS parent, t.tags, t.priority, t.due_date,
                         t.due_time, t.recurrence_rule, t.recurrence_mode, t.completed, t.completed_at, t.description
                  FROM tasks t JOIN projects p ON p.id = t.project_id LEFT JOIN tasks parent ON parent.id = t.parent_id
                  WHERE t.user_id = :owner""", owner=user.id)
    return {row.title: row._asdict() for row in rows}


def next_monday(tz: str) -> date:
    today = today_in(tz)
    return today + timedelta(days=(0 - today.weekday()) % 7)


def check(found: dict, project, parent, tags, priority, due_date, due_time, rule) -> None:
    assert (found["project"], found["parent"], set(found["tags"]), found["priority"], found["due_date"],
            found["due_time"], found["recurrence_rule"]) == (project, parent, set(tags), priority, due_date,
                                                             due_time, rule)


# --- the sample files --------------------------------------------------------------------------

def test_a_todoist_project_csv_imports_with_its_sections_labels_indents_notes_priorities_and_dates(alice, sql):
    report = run(alice, sample("todoist-home.csv"), "todoist-home.csv", tz=BERLIN)
    assert (report["format"], report["projects_created"], report["tasks_created"]) == ("todoist-csv", 1, 10)
    assert report["tasks_skipped"] == []
    assert [w["line"] for w in report["warnings"]] == [18]  # "every workday except holidays"
    found = stored(sql, alice)
    today, monday = today_in(BERLIN), next_monday(BERLIN)
    P = "todoist-home"
    check(found["Buy milk"], P, None, {"errands", "shop"}, "high", date(2030, 1, 15), None, None)
    assert found["Buy milk"]["description"] == "Two litres of oat milk\n\nThe corner shop closes at 8 on Saturdays"
    check(found["Take out the bins"], P, None, {"chores"}, "medium", monday, None, "FREQ=WEEKLY;BYDAY=MO")
    check(found["Descale the kettle, then the coffee machine"], P, None, {"kitchen"}, "low", date(2030, 1, 20),
          None, None)
    check(found["Wipe the counters"], P, None, {"kitchen"}, "none", today, None, "FREQ=DAILY")
    assert found["Deep clean the oven"]["recurrence_rule"].startswith("FREQ=WEEKLY;INTERVAL=2")
    assert found["Deep clean the oven"]["due_date"] == today
    assert found["Deep clean the oven"]["description"] == \
        "Step 1: take the racks out\nStep 2: spray and leave overnight"
    check(found["Soak the racks"], P, "Deep clean the oven", {"kitchen"}, "none", None, None, None)
    check(found["Buy oven cleaner"], P, "Soak the racks", {"shop", "kitchen"}, "none", None, None, None)
    check(found["Water the tomatoes"], P, None, {"garden-work"}, "low", monday, time(9), "FREQ=WEEKLY;BYDAY=MO")
    check(found["Mow the lawn"], P, None, {"garden", "garden-work"}, "medium", None, None, None)
    check(found["Book the chimney sweep"], P, None, {"garden-work"}, "high", date(2030, 2, 20), time(9, 35), None)


def test_a_ticktick_backup_imports_its_lists_subtasks_repeats_and_completions(alice, sql):
    report = run(alice, sample("ticktick-backup.csv"), "TickTick-backup.csv", tz=BERLIN)
    assert (report["format"], report["projects_created"], report["tasks_created"]) == ("ticktick-csv", 2, 8)
    assert report["tasks_skipped"] == [] and report["warnings"] == []
    assert [p["line"] for p in report["preview"]] == [8, 12, 13, 14, 15, 16, 17, 18]
    found = stored(sql, alice)
    check(found["Prepare quarterly report"], "Work", None, {"finance", "q1"}, "high", date(2030, 1, 14),
          time(9, 30), None)
    assert found["Prepare quarterly report"]["description"].endswith("Send it to Jonas by Friday")
    check(found["Pull the sales figures"], "Work", "Prepare quarterly report", set(), "low", None, None, None)
    assert found["Check last year's template"]["parent"] == "Prepare quarterly report"
    assert found["Check last year's template"]["completed"]
    assert found["Check last year's template"]["completed_at"] == datetime.fromisoformat("2030-01-02T10:05:00+00:00")
    check(found["Weekly team sync"], "Work", None, {"meetings"}, "medium", date(2030, 1, 7), time(10),
          "FREQ=WEEKLY;BYDAY=MO")
    check(found["Renew passport"], "Personal", None, {"errands", "admin"}, "low", date(2030, 3, 10), None, None)
    check(found["Water the plants"], "Personal", None, set(), "none", date(2030, 1, 6), None, "FREQ=DAILY")
    assert found["Return library books"]["completed"]
    assert found["Return library books"]["due_date"] == date(2029, 12, 20)
    check(found["Call the dentist"], "Personal", None, set(), "none", None, None, None)


def test_any_csv_matches_its_columns_by_name_and_skips_the_lines_that_break_a_rule(alice, sql):
    report = run(alice, sample("generic.csv"), "generic.csv")
    assert (report["format"], report["projects_created"], report["tasks_created"]) == ("csv", 2, 4)
    assert report["mapping"] == {"Task": "title", "Notes": "description", "Due Date": "due_date",
                                 "Priority": "priority", "Labels": "tags", "List": "project", "Done": "completed"}
    assert [(s["line"], s["reason"]) for s in report["tasks_skipped"]] == [
        (5, "The due date “2030-02-30” is not a date like 2030-01-15."), (6, "Title: Title is required.")]
    found = stored(sql, alice)
    check(found["Renew car insurance"], "Errands", None, {"car", "admin"}, "high", date(2030, 3, 5), None, None)
    check(found["Plan the trip to Porto, Portugal"], "Travel", None, {"travel", "summer"}, "medium",
          date(2030, 4, 12), None, None)
    assert found["Sort out old photos"]["completed"] and found["Sort out old photos"]["project"] == "Inbox"
    assert found["Send a birthday card to Ana"]["completed"]
    assert not found["Renew car insurance"]["completed"] and not found["Plan the trip to Porto, Portugal"]["completed"]


def test_an_icalendar_file_imports_its_todos_and_not_its_events(alice, sql):
    report = run(alice, sample("tasks.ics"), "tasks.ics", tz=BERLIN)
    assert (report["format"], report["projects_created"], report["tasks_created"]) == ("ics", 0, 5)
    assert [p["line"] for p in report["preview"]] == [19, 28, 37, 46, 54]
    found = stored(sql, alice)
    assert "Housewarming party" not in found
    check(found["Renovate the bathroom"], "Inbox", None, {"home", "renovation"}, "high", date(2030, 1, 15), None, None)
    assert found["Renovate the bathroom"]["description"] == "Get three quotes, then pick a tiler.\nBudget: 4000 EUR"
    check(found["Choose the tiles"], "Inbox", "Renovate the bathroom", set(), "low", None, None, None)
    assert found["Choose the tiles"]["completed"]
    check(found["Write the stand-up notes"], "Inbox", None, set(), "medium", date(2030, 1, 7), time(9, 30),
          "FREQ=WEEKLY;BYDAY=MO")
    assert "repainting the walls" in found["Read the tenancy agreement"]["description"]
    check(found["Call the plumber"], "Inbox", None, {"home"}, "none", None, None, None)


# --- one transaction, nothing twice, dry runs ------------------------------------------------

@pytest.mark.parametrize("name", ["todoist-home.csv", "ticktick-backup.csv", "generic.csv", "tasks.ics"])
def test_the_same_file_imported_twice_creates_nothing_the_second_time(alice, sql, name):
    first = run(alice, sample(name), name)
    before = sql("SELECT count(*), (SELECT count(*) FROM projects) FROM tasks")
    again = run(alice, sample(name), name)
    assert (again["tasks_created"], again["projects_created"]) == (0, 0)
    assert again["tasks_existing"] == first["tasks_created"]
    assert sql("SELECT count(*), (SELECT count(*) FROM projects) FROM tasks") == before


def test_a_file_that_grew_adds_only_its_new_lines_under_the_tasks_already_there(alice, sql):
    run(alice, b"id,parent_id,title\n1,,Parent\n")
    report = run(alice, b"id,parent_id,title\n1,,Parent\n2,1,Child\n")
    assert (report["tasks_created"], report["tasks_existing"]) == (1, 1)
    assert stored(sql, alice)["Child"]["parent"] == "Parent"


def test_two_identical_lines_are_two_tasks_and_stay_two(alice, sql):
    data = b"title\nCall mum\nCall mum\n"
    assert run(alice, data)["tasks_created"] == 2
    assert run(alice, data)["tasks_created"] == 0
    assert sql("SELECT count(*) FROM tasks") == [(2,)]


def test_a_dry_run_answers_the_same_report_and_writes_nothing(alice, sql):
    dry = run(alice, sample("todoist-home.csv"), "todoist-home.csv", dry_run=True)
    assert sql("SELECT count(*) FROM tasks") == [(0,)] and sql("SELECT count(*) FROM projects") == [(1,)]
    real = run(alice, sample("todoist-home.csv"), "todoist-home.csv")
    assert {**dry, "dry_run": False} == real


def test_an_import_that_fails_midway_leaves_nothing_written(alice, sql, monkeypatch):
    rows = "".join(f"Task {n},Project {n % 3}\n" for n in range(imports.BATCH + 10))
    original = imports._store

    def store_then_fail(*args):
        yield from original(*args)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "_store", store_then_fail)
    with pytest.raises(RuntimeError):
        run(alice, f"title,project\n{rows}".encode())
    assert sql("SELECT count(*) FROM tasks") == [(0,)]
    assert sql("SELECT name FROM projects") == [("Inbox",)]


def test_progress_is_told_after_each_batch(alice):
    rows = "".join(f"Task {n}\n" for n in range(imports.BATCH * 2 + 1))
    events = list(imports.import_file(alice.id, f"title\n{rows}".encode()))
    total = imports.BATCH * 2 + 1
    assert events[:-1] == [{"stored": n, "total": total} for n in (0, imports.BATCH, imports.BATCH * 2, total)]


def test_two_imports_of_one_file_at_once_still_make_each_task_once(app, alice, sql):
    data = "title\n" + "".join(f"Task {n}\n" for n in range(500))

    def import_once():
        with app.app_context():
            run(alice, data.encode())

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sql("SELECT count(*) FROM tasks") == [(500,)]


# --- projects, the tree, the limits --------------------------------------------------------------

def test_a_project_of_the_same_name_in_another_case_is_reused(alice, sql):
    projects.create_project(alice.id, {"name": "Work"})
    report = run(alice, b"title,project\nA,work\nB,WORK\n")
    assert report["projects_created"] == 0
    assert sql("SELECT p.name FROM tasks t JOIN projects p ON p.id = t.project_id") == [("Work",), ("Work",)]


def test_an_import_past_the_project_limit_is_refused_whole(alice, sql):
    for n in range(projects.MAX_PROJECTS - 3):
        projects.create_project(alice.id, {"name": f"P{n}"})
    rows = "".join(f"Task {n},New {n}\n" for n in range(3))
    with pytest.raises(ValidationError, match="at most 300 projects"):
        run(alice, f"title,project\n{rows}".encode())
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


def test_more_than_the_task_limit_is_refused_naming_it(alice, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORDS", 3)
    with pytest.raises(ValidationError, match="at most 3"):
        run(alice, b"title\na\nb\nc\nd\n")


def test_subtasks_deeper_than_four_levels_go_under_the_deepest_allowed(alice, sql):
    rows = "".join(f"{n},{n - 1 if n > 1 else ''},Level {n}\n" for n in range(1, 7))
    report = run(alice, f"id,parent_id,title\n{rows}".encode())
    assert report["tasks_created"] == 6
    found = stored(sql, alice)
    assert [found[f"Level {n}"]["parent"] for n in range(1, 7)] == [None, "Level 1", "Level 2", "Level 3",
                                                                     "Level 3", "Level 3"]
    assert {w["line"] for w in report["warnings"]} == {6, 7}


def test_a_subtask_whose_parent_was_skipped_goes_under_the_next_task_up(alice, sql):
    report = run(alice, b"id,parent_id,title,due date\n1,,Root,\n2,1,Middle,bad\n3,2,Leaf,\n")
    assert [s["line"] for s in report["tasks_skipped"]] == [3]
    assert stored(sql, alice)["Leaf"]["parent"] == "Root"


def test_parents_that_lead_back_to_themselves_are_cut(alice, sql):
    report = run(alice, b"id,parent_id,title\n1,2,A\n2,1,B\n")
    assert report["tasks_created"] == 2
    parents = sorted(task["parent"] or "-" for task in stored(sql, alice).values())
    assert parents in (["-", "A"], ["-", "B"])  # one of the two is cut loose, the other stays under it


def test_a_rule_outside_the_subset_keeps_its_task_without_recurrence_and_warns(alice, sql):
    report = run(alice, b"title,due date,repeat\nA,2030-01-01,FREQ=HOURLY\n"
                        b"B,2030-01-01,RRULE:FREQ=MONTHLY;BYMONTHDAY=1\n")
    assert report["tasks_created"] == 2
    assert [w["line"] for w in report["warnings"]] == [2]
    found = stored(sql, alice)
    assert (found["A"]["recurrence_rule"], found["B"]["recurrence_rule"]) == (None, "FREQ=MONTHLY;BYMONTHDAY=1")


# --- ownership ---------------------------------------------------------------------------------

def test_an_import_never_touches_or_attaches_to_another_users_tasks(alice, bob, sql):
    bobs = tasks.create_task(bob.id, {"title": "Bob's"})
    db.session.remove()
    data = f'{{"projects": [], "tasks": [{{"id": "{bobs.id}", "title": "Mine now?"}}, ' \
           f'{{"id": "00000000-0000-4000-8000-000000000001", "parent_id": "{bobs.id}", "title": "Child"}}]}}'
    report = run(alice, data.encode())
    assert (report["tasks_created"], report["tasks_existing"]) == (2, 0)
    assert sql("SELECT title FROM tasks WHERE user_id = :u", u=bob.id) == [("Bob's",)]
    assert stored(sql, alice)["Child"]["parent"] == "Mine now?"


def test_the_same_file_imported_by_two_users_makes_tasks_for_each(alice, bob, sql):
    run(alice, sample("generic.csv"))
    assert run(bob, sample("generic.csv"))["tasks_created"] == 4


# --- round trips -----------------------------------------------------------------------------

def fill(user) -> None:
    """An account with projects, nested subtasks, recurring tasks with completions, every field."""
    work = projects.create_project(user.id, {"name": "Work", "color": "blue"})
    projects.create_project(user.id, {"name": "Old", "color": "red"})
    projects.update_project(user.id, projects.list_projects(user.id)[-1].id, {"archived": True})
    root = tasks.create_task(user.id, {"title": "Launch", "description": "All of it\nwith =formula", "priority": "high",
                                       "tags": ["big", "q1"], "project_id": str(work.id), "due_date": "2030-01-10",
                                       "due_time": "09:30"})
    child = tasks.create_task(user.id, {"title": "Write docs", "parent_id": str(root.id), "priority": "low"})
    tasks.create_task(user.id, {"title": "Spell check", "parent_id": str(child.id), "completed": True})
    weekly = tasks.create_task(user.id, {"title": "Standup", "due_date": "2030-01-07",
                                         "recurrence": {"rule": "FREQ=WEEKLY;BYDAY=MO,WE"}})
    tasks.toggle_task(user.id, weekly.id)
    tasks.toggle_task(user.id, weekly.id)
    tasks.create_task(user.id, {"title": "Water plants", "due_date": "2030-02-01",
                                "recurrence": {"text": "every! 3 days"}, "tags": ["home"]})
    tasks.create_task(user.id, {"title": "Done long ago", "completed": True, "priority": "medium"})
    db.session.remove()


IGNORED = {"id", "project_id", "parent_id", "created_at", "updated_at", "completed_at", "version", "position",
           "last_used_at", "prefix", "expires_at"}


def comparable(document: dict) -> dict:
    """An export without ids and timestamps: parents and projects by title and name."""
    projects_by_id = {p["id"]: p["name"] for p in document["projects"]}
    titles = {t["id"]: t["title"] for t in document["tasks"]}
    task_list = sorted(({**{k: v for k, v in t.items() if k not in IGNORED},
                         "project": projects_by_id[t["project_id"]], "parent": titles.get(t["parent_id"]),
                         "completions": [c["due_date"] for c in t["completions"]]} for t in document["tasks"]),
                       key=lambda t: t["title"])
    return {"projects": [{k: v for k, v in p.items() if k not in IGNORED} for p in document["projects"]],
            "tasks": task_list}


def exported(user, chunks) -> bytes:
    db.session.remove()
    parts = list(chunks(export.export_records(user.id)))
    return "".join(parts).encode() if parts and isinstance(parts[0], str) else b"".join(parts)


def test_a_json_export_imported_into_a_new_account_exports_the_same(alice, bob):
    fill(alice)
    first = exported(alice, exports.json_chunks)
    report = run(bob, first, "export.json")
    assert (report["format"], report["tasks_skipped"], report["warnings"]) == ("json", [], [])
    second = exported(bob, exports.json_chunks)
    assert comparable(json.loads(second)) == comparable(json.loads(first))
    assert run(bob, first, "export.json")["tasks_created"] == 0
    assert run(bob, second, "export.json")["tasks_created"] == 0  # its own tasks, by their ids


def test_an_icalendar_export_imported_into_a_new_account_keeps_what_icalendar_carries(alice, bob):
    fill(alice)
    first = exported(alice, lambda records: exports.ics_chunks(records, "UTC"))
    report = run(bob, first, "export.ics")
    assert (report["format"], report["tasks_created"], report["tasks_skipped"]) == ("ics", 6, [])
    again = exported(bob, lambda records: exports.ics_chunks(records, "UTC"))
    assert json_of_ics(again) == json_of_ics(first)


def json_of_ics(data: bytes) -> list:
    """Every VTODO's properties but its ids and timestamps (the parent by its title)."""
    from icalendar import Calendar

    todos = list(Calendar.from_ical(data).walk("VTODO"))
    titles = {str(todo["UID"]): str(todo["SUMMARY"]) for todo in todos}
    skipped = {"UID", "DTSTAMP", "CREATED", "LAST-MODIFIED", "COMPLETED", "RELATED-TO"}
    return sorted(({**{name: todo[name].to_ical() if hasattr(todo[name], "to_ical") else str(todo[name])
                       for name in todo if name not in skipped},
                    "parent": titles.get(str(todo.get("RELATED-TO", "")))} for todo in todos),
                  key=lambda todo: str(todo["SUMMARY"]))


def test_every_export_imports_back_into_its_own_account_as_nothing_new(alice):
    fill(alice)
    for chunks, name in ((exports.json_chunks, "e.json"), (exports.csv_chunks, "e.csv"),
                         (lambda records: exports.ics_chunks(records, "UTC"), "e.ics")):
        data = exported(alice, chunks)
        report = run(alice, data, name)
        assert (report["tasks_created"], report["tasks_skipped"]) == (0, []), name


def test_ticktick_times_are_read_in_the_importing_users_time_zone(alice, sql):
    users.set_timezone(alice.id, "America/New_York")
    db.session.remove()
    run(alice, sample("ticktick-backup.csv"), tz="America/New_York")
    assert stored(sql, alice)["Weekly team sync"]["due_time"] == time(4)


def test_a_long_chain_of_parents_in_any_order_is_placed_in_linear_time(alice, sql):
    """Children before parents, and a chain of skipped rows: each walked once, not once per task."""
    n = 20_000
    rows = "".join(f"{k},{k - 1 if k > 1 else ''},Task {k}\n" for k in range(n, 0, -1))
    bad = "".join(f"b{k},{f'b{k - 1}' if k > 1 else ''},Bad {k},not a date\n" for k in range(1, n))
    kids = "".join(f"c{k},b{n - 1},Kid {k},\n" for k in range(200))
    started = perf_counter()
    report = run(alice, f"id,parent_id,title,due date\n{rows.replace(chr(10), ',' + chr(10))}{bad}{kids}".encode(),
                 dry_run=True)
    assert report["tasks_created"] == n + 200 and len(report["tasks_skipped"]) == n - 1
    assert perf_counter() - started < 60  # a bound that catches a quadratic walk, not a speed target


def test_a_pretty_printed_export_reports_the_line_each_task_starts_on(alice):
    document = {"tasks": [{"id": "00000000-0000-4000-8000-000000000001", "title": "A"},
                          {"id": "00000000-0000-4000-8000-000000000002", "title": "x" * 300}]}
    report = run(alice, json.dumps(document, indent=2).encode(), "export.json")
    assert [p["line"] for p in report["preview"]] == [3] and report["tasks_skipped"][0]["line"] == 7


def test_a_json_export_imports_with_its_projects_subtasks_schedules_and_completions(alice, sql):
    report = run(alice, sample("export.json"), "export.json", tz=BERLIN)
    assert (report["format"], report["projects_created"], report["tasks_created"]) == ("json", 2, 5)
    assert (report["tasks_skipped"], report["warnings"]) == ([], [])
    assert sql("SELECT name, color, archived FROM projects WHERE NOT is_inbox ORDER BY position") == [
        ("House", "teal", False), ("Old plans", "red", True)]
    found = stored(sql, alice)
    check(found["Paint the hall"], "House", None, {"diy", "weekend"}, "high", date(2030, 2, 1), time(10), None)
    check(found["Buy paint"], "House", "Paint the hall", set(), "medium", None, None, None)
    check(found["Pick a colour"], "House", "Buy paint", set(), "none", None, None, None)
    assert found["Pick a colour"]["completed_at"] == datetime.fromisoformat("2029-02-03T18:00:00+00:00")
    check(found["Water the plants"], "House", None, {"home"}, "low", date(2030, 1, 6), None, "FREQ=WEEKLY;BYDAY=MO")
    check(found["Call the bank"], "Inbox", None, set(), "none", date(2030, 1, 3), None, "FREQ=MONTHLY;INTERVAL=3")
    assert found["Call the bank"]["recurrence_mode"] == "completion"
    assert sql("SELECT due_date::text FROM task_completions ORDER BY due_date") == [("2029-12-23",), ("2029-12-30",)]


def test_an_export_past_its_time_bound_stops(alice, monkeypatch):
    for n in range(export.BATCH + 1):
        tasks.create_task(alice.id, {"title": f"T{n}"})
    db.session.remove()
    monkeypatch.setattr(export, "TIME_BOUND_SECONDS", -1)
    with pytest.raises(QueryTimeout, match="longer than"):
        list(export.export_records(alice.id))


# --- found in the second review ------------------------------------------------------------------

def test_a_rule_that_grows_past_300_characters_when_written_out_leaves_its_task_without_recurrence(alice, sql):
    rule = "FREQ=YEARLY;BYMONTH=1;BYSETPOS=" + ",".join(str(n) for n in range(1, 200))
    rule = (rule[:rule.rindex(",", 0, 292)] + ";COUNT=1")
    assert len(rule) <= 300
    document = {"tasks": [{"id": "a", "title": "A", "due_date": "2030-01-01", "recurrence": {"rule": rule}}]}
    report = run(alice, json.dumps(document).encode(), "x.json")
    assert report["tasks_created"] == 1 and "longer than 300" in report["warnings"][0]["message"]
    assert sql("SELECT recurrence_rule FROM tasks") == [(None,)]


def test_timestamps_with_any_offset_are_stored_in_utc(alice, sql):
    run(alice, b"title,completed,created_at,completed_at\nA,yes,2030-01-01T00:00:00+20:00,2030-01-02T00:00:00-19:00\n")
    assert sql("SELECT created_at, completed_at FROM tasks") == [
        (datetime.fromisoformat("2029-12-31T04:00:00+00:00"), datetime.fromisoformat("2030-01-02T19:00:00+00:00"))]


def test_a_json_due_time_with_a_zone_is_not_a_due_time(alice):
    document = {"tasks": [{"id": "a", "title": "A", "due_date": "2030-01-01", "due_time": "12:00+05:00"}]}
    report = run(alice, json.dumps(document).encode(), "x.json")
    assert report["tasks_created"] == 0 and len(report["tasks_skipped"]) == 1


def test_a_cycle_of_parents_in_a_project_lands_whole_in_that_project(alice, sql):
    report = run(alice, b"title,id,parent_id,project\na,1,2,Work\nb,2,1,Work\nc,3,1,Work\n")
    assert report["tasks_created"] == 3
    assert sql("SELECT DISTINCT p.name FROM tasks t JOIN projects p ON p.id = t.project_id") == [("Work",)]


def test_an_until_before_the_year_1000_is_written_so_that_it_reads_back(alice, sql):
    document = {"tasks": [{"id": "a", "title": "A", "due_date": "0001-01-01",
                           "recurrence": {"rule": "FREQ=DAILY;COUNT=1000"}}]}
    run(alice, json.dumps(document).encode(), "x.json")
    assert sql("SELECT recurrence_rule FROM tasks") == [("FREQ=DAILY;UNTIL=00030927",)]
    db.session.remove()
    assert len(tasks.list_tasks(alice.id, {}).items) == 1
    document = json.loads(exported(alice, exports.json_chunks))  # (the rule is read again to describe it)
    assert document["tasks"][0]["recurrence"]["rule"] == "FREQ=DAILY;UNTIL=00030927"


def test_a_rule_that_ends_before_its_due_date_leaves_the_task_without_recurrence(alice, sql):
    report = run(alice, b"title,due date,rrule\nA,2030-06-01,FREQ=DAILY;UNTIL=20200101\n")
    assert report["tasks_created"] == 1 and len(report["warnings"]) == 1
    assert sql("SELECT recurrence_rule FROM tasks") == [(None,)]


def test_an_import_past_its_time_bound_while_checking_rows_stops_and_writes_nothing(alice, sql, monkeypatch):
    monkeypatch.setattr(imports, "TIME_BOUND_SECONDS", -1)
    with pytest.raises(QueryTimeout, match="longer than"):
        run(alice, b"title\nA\n", dry_run=True)
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


def test_a_file_in_parts_keeps_its_subtasks_under_parents_an_earlier_part_made(alice, sql):
    run(alice, b"id,parent_id,title\n1,,Root\n2,1,Child\n")
    report = run(alice, b"id,parent_id,title\n3,2,Grandchild\n4,1,Second child\n")
    assert (report["tasks_created"], report["warnings"]) == (2, [])
    found = stored(sql, alice)
    assert (found["Grandchild"]["parent"], found["Second child"]["parent"]) == ("Child", "Root")


def test_an_icalendar_file_without_tasks_or_with_lines_the_library_cannot_follow_is_refused(alice):
    for data in (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Party\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                 b"BEGIN:VCALENDAR\rBEGIN:VTODO\rSUMMARY:A\rEND:VTODO\rEND:VCALENDAR\r"):
        with pytest.raises(ValidationError):
            run(alice, data, "x.ics")


def test_icalendar_categories_of_another_value_type_are_read_as_text(alice, sql):
    data = (b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:A\r\nCATEGORIES;VALUE=INTEGER:5\r\nEND:VTODO\r\n"
            b"END:VCALENDAR\r\n")
    assert run(alice, data, "x.ics")["tasks_created"] == 1
    assert sql("SELECT tags FROM tasks") == [(["5"],)]


def test_json_tasks_with_ids_of_any_form_report_their_own_lines(alice):
    text = '{"tasks": [\n{"id": "first", "title": "A"},\n{"id": "second", "title": "' + "x" * 300 + '"}\n]}'
    report = run(alice, text.encode(), "x.json")
    assert [p["line"] for p in report["preview"]] == [2] and report["tasks_skipped"][0]["line"] == 3


def test_an_icalendar_export_in_a_time_zone_describes_it_and_its_times_read_back(alice, bob, sql):
    tasks.create_task(alice.id, {"title": "Call", "due_date": "2030-07-01", "due_time": "09:30"})
    db.session.remove()
    data = exported(alice, lambda records: exports.ics_chunks(records, BERLIN))
    assert b"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin" in data and b"DUE;TZID=Europe/Berlin:20300701T093000" in data
    run(bob, data, "export.ics", tz=BERLIN)
    assert sql("SELECT due_date::text, due_time::text FROM tasks WHERE user_id = :u", u=bob.id) == [
        ("2030-07-01", "09:30:00")]
