"""The task service on a real PostgreSQL: round trips, ownership, validation, versions, filters."""
from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from myapp.errors import Conflict, NotFound, ValidationError
from myapp.extensions import db
from myapp.services import tasks

from conftest import libpq

pytestmark = pytest.mark.pooled


@pytest.fixture
def row(sql):
    """The task as the database holds it (a dict), or None."""

    def read(task_id):
        rows = sql("SELECT * FROM tasks WHERE id = :id", id=task_id)
        return rows[0]._asdict() if rows else None

    return read


@pytest.fixture
def task_count(sql):
    return lambda: sql("SELECT count(*) FROM tasks")[0][0]


def ids(items) -> list:
    return [item.id for item in items]


# --- round trips ------------------------------------------------------------------------------


def test_create_stores_the_task_and_returns_it_with_what_the_database_filled_in(alice, row):
    task = tasks.create_task(alice.id, {"title": "  Write the report  ", "description": "for Monday",
                                        "due_date": "2026-12-31", "priority": "high",
                                        "tags": [" Work", "urgent", "work"]})
    assert isinstance(task.id, uuid.UUID) and task.id.version == 4
    assert task.title == "Write the report"
    assert task.tags == ["work", "urgent"]
    assert task.due_date == date(2026, 12, 31)
    assert (task.version, task.completed, task.completed_at) == (1, False, None)
    assert task.created_at.tzinfo is not None and task.updated_at == task.created_at
    stored = row(task.id)
    assert stored["user_id"] == alice.id
    assert (stored["title"], stored["description"], stored["priority"], stored["tags"]) == \
        ("Write the report", "for Monday", "high", ["work", "urgent"])


def test_create_with_only_a_title_takes_the_defaults(alice):
    task = tasks.create_task(alice.id, {"title": "t"})
    assert (task.description, task.due_date, task.priority, task.tags, task.completed) == \
        (None, None, "none", [], False)


def test_create_as_completed_records_when(alice):
    task = tasks.create_task(alice.id, {"title": "done already", "completed": True})
    assert task.completed is True and task.completed_at is not None


def test_a_title_of_exactly_255_characters_is_accepted(alice):
    assert tasks.create_task(alice.id, {"title": "x" * 255}).title == "x" * 255


def test_get_returns_the_task(alice):
    created = tasks.create_task(alice.id, {"title": "find me", "tags": ["a"]})
    found = tasks.get_task(alice.id, created.id)
    assert (found.id, found.title, found.tags, found.version) == (created.id, "find me", ["a"], 1)


def test_get_accepts_the_id_as_text(alice):
    created = tasks.create_task(alice.id, {"title": "t"})
    assert tasks.get_task(alice.id, str(created.id)).id == created.id


def test_list_returns_the_users_tasks_newest_first(alice):
    first = tasks.create_task(alice.id, {"title": "first"})
    second = tasks.create_task(alice.id, {"title": "second"})
    page = tasks.list_tasks(alice.id, {})
    assert ids(page.items) == [second.id, first.id]
    assert page.next_cursor is None and page.prev_cursor is None


def test_update_changes_only_the_fields_sent_and_moves_version_and_updated_at(alice, row):
    task = tasks.create_task(alice.id, {"title": "old", "description": "keep", "priority": "low", "tags": ["a"]})
    created_updated_at = task.updated_at
    updated = tasks.update_task(alice.id, task.id, {"title": " new ", "tags": ["B"]})
    assert (updated.title, updated.tags, updated.description, updated.priority) == ("new", ["b"], "keep", "low")
    assert updated.version == 2
    assert updated.updated_at > created_updated_at
    stored = row(task.id)
    assert (stored["title"], stored["tags"], stored["description"], stored["version"]) == ("new", ["b"], "keep", 2)


def test_update_with_null_clears_description_and_due_date(alice, row):
    task = tasks.create_task(alice.id, {"title": "t", "description": "d", "due_date": "2026-01-01"})
    tasks.update_task(alice.id, task.id, {"description": None, "due_date": None})
    stored = row(task.id)
    assert (stored["description"], stored["due_date"]) == (None, None)


def test_update_with_the_current_version_succeeds(alice):
    task = tasks.create_task(alice.id, {"title": "t"})
    updated = tasks.update_task(alice.id, task.id, {"priority": "medium"}, expected_version=1)
    assert (updated.priority, updated.version) == ("medium", 2)


def test_update_can_complete_a_task(alice):
    task = tasks.create_task(alice.id, {"title": "t"})
    updated = tasks.update_task(alice.id, task.id, {"completed": True})
    assert updated.completed is True and updated.completed_at is not None


def test_update_with_nothing_to_change_is_a_validation_error(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(ValidationError) as caught:
        tasks.update_task(alice.id, task.id, {})
    assert caught.value.details
    assert row(task.id)["version"] == 1


@pytest.mark.parametrize("version", [0, -1, "1", True, 1.0])
def test_an_expected_version_that_is_not_a_positive_whole_number_is_a_validation_error(alice, row, version):
    task = tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(ValidationError) as caught:
        tasks.update_task(alice.id, task.id, {"title": "x"}, expected_version=version)
    assert "version" in caught.value.details
    assert row(task.id)["title"] == "t"


def test_toggle_completes_and_reopens_a_task(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    done = tasks.toggle_task(alice.id, task.id)
    assert (done.completed, done.version) == (True, 2) and done.completed_at is not None
    assert row(task.id)["completed"] is True
    reopened = tasks.toggle_task(alice.id, task.id, expected_version=2)
    assert (reopened.completed, reopened.completed_at, reopened.version) == (False, None, 3)
    assert row(task.id)["completed"] is False


def test_set_completed_sets_the_state_asked_for_and_asking_again_writes_nothing(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    done = tasks.set_completed(alice.id, task.id, True)
    again = tasks.set_completed(alice.id, task.id, True)
    assert (done.completed, done.version) == (True, 2)
    assert (again.completed, again.version, again.completed_at) == (True, 2, done.completed_at)
    assert tasks.set_completed(alice.id, task.id, False).completed is False
    assert row(task.id)["completed"] is False


@pytest.mark.parametrize("value", ["true", 1, None])
def test_set_completed_takes_only_true_or_false(alice, row, value):
    task = tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(ValidationError):
        tasks.set_completed(alice.id, task.id, value)
    assert row(task.id)["completed"] is False


def test_nobody_can_set_another_users_task_completed(alice, bob, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    for state in (True, False):
        with pytest.raises(NotFound):
            tasks.set_completed(bob.id, task.id, state)
    assert row(task.id)["completed"] is False


def test_delete_removes_the_task(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    assert tasks.delete_task(alice.id, task.id) is None
    assert row(task.id) is None
    with pytest.raises(NotFound):
        tasks.get_task(alice.id, task.id)
    with pytest.raises(NotFound):
        tasks.delete_task(alice.id, task.id)


def test_delete_with_the_current_version_removes_the_task(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    tasks.update_task(alice.id, task.id, {"title": "u"})
    tasks.delete_task(alice.id, task.id, expected_version=2)
    assert row(task.id) is None


def test_clear_completed_deletes_only_completed_tasks_and_says_how_many(alice, row):
    keep = tasks.create_task(alice.id, {"title": "open"})
    done = [tasks.create_task(alice.id, {"title": f"done {n}", "completed": True}) for n in range(3)]
    assert tasks.clear_completed(alice.id) == 3
    assert row(keep.id) is not None
    assert all(row(task.id) is None for task in done)
    assert tasks.clear_completed(alice.id) == 0


def test_count_tasks_counts_active_and_completed(alice):
    assert tasks.count_tasks(alice.id) == tasks.Counts(0, 0)
    one = tasks.create_task(alice.id, {"title": "1"})
    tasks.create_task(alice.id, {"title": "2"})
    tasks.create_task(alice.id, {"title": "3", "completed": True})
    assert tasks.count_tasks(alice.id) == tasks.Counts(active=2, completed=1)
    tasks.toggle_task(alice.id, one.id)
    assert tasks.count_tasks(alice.id) == tasks.Counts(active=1, completed=2)
    tasks.clear_completed(alice.id)
    counts = tasks.count_tasks(alice.id)
    assert (counts.active, counts.completed, counts.total) == (1, 0, 1)


def test_list_tags_gives_each_tag_with_its_count(alice):
    tasks.create_task(alice.id, {"title": "1", "tags": ["work", "home"]})
    second = tasks.create_task(alice.id, {"title": "2", "tags": ["work"]})
    assert tasks.list_tags(alice.id) == [("home", 1), ("work", 2)]
    tasks.update_task(alice.id, second.id, {"tags": ["errands"]})
    assert tasks.list_tags(alice.id) == [("errands", 1), ("home", 1), ("work", 1)]
    tasks.delete_task(alice.id, second.id)
    assert tasks.list_tags(alice.id) == [("home", 1), ("work", 1)]


# --- ownership --------------------------------------------------------------------------------

CALLS_ON_A_TASK = {
    "get": lambda user, task_id: tasks.get_task(user, task_id),
    "update": lambda user, task_id: tasks.update_task(user, task_id, {"title": "taken over"}),
    "update-with-version": lambda user, task_id: tasks.update_task(user, task_id, {"title": "x"}, expected_version=1),
    "update-with-stale-version": lambda user, task_id: tasks.update_task(user, task_id, {"title": "x"},
                                                                           expected_version=7),
    "toggle": lambda user, task_id: tasks.toggle_task(user, task_id),
    "toggle-with-version": lambda user, task_id: tasks.toggle_task(user, task_id, expected_version=1),
    "delete": lambda user, task_id: tasks.delete_task(user, task_id),
    "delete-with-version": lambda user, task_id: tasks.delete_task(user, task_id, expected_version=1),
}


@pytest.mark.parametrize("call", CALLS_ON_A_TASK.values(), ids=CALLS_ON_A_TASK.keys())
def test_another_user_gets_not_found_and_changes_nothing(alice, bob, row, call):
    task = tasks.create_task(alice.id, {"title": "alice's", "tags": ["mine"], "completed": True})
    before = row(task.id)
    with pytest.raises(NotFound) as caught:
        call(bob.id, task.id)
    assert caught.value.message == "Task not found."
    assert row(task.id) == before  # same title, version, updated_at, everything


def test_another_users_task_and_a_missing_task_are_indistinguishable(alice, bob):
    task = tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(NotFound) as theirs:
        tasks.get_task(bob.id, task.id)
    with pytest.raises(NotFound) as missing:
        tasks.get_task(bob.id, uuid.uuid4())
    assert (theirs.value.message, theirs.value.details) == (missing.value.message, missing.value.details)


def test_clear_completed_by_another_user_leaves_the_tasks_alone(alice, bob, row):
    task = tasks.create_task(alice.id, {"title": "t", "completed": True})
    before = row(task.id)
    assert tasks.clear_completed(bob.id) == 0
    assert row(task.id) == before


def test_another_user_does_not_see_the_tasks_counts_or_tags(alice, bob):
    tasks.create_task(alice.id, {"title": "report", "tags": ["work"], "due_date": "2000-01-01"})
    tasks.create_task(alice.id, {"title": "report done", "completed": True})
    for params in ({}, {"status": "overdue"}, {"status": "completed"}, {"q": "report"}, {"tag": "work"}):
        assert tasks.list_tasks(bob.id, params).items == []
    assert tasks.count_tasks(bob.id) == tasks.Counts(0, 0)
    assert tasks.list_tags(bob.id) == []


MALFORMED_IDS = ["not-a-uuid", "", "123", "'; DELETE FROM tasks; --", "00000000-0000-0000-0000-00000000000g",
                 None, 42]


@pytest.mark.parametrize("task_id", MALFORMED_IDS, ids=repr)
@pytest.mark.parametrize("call", CALLS_ON_A_TASK.values(), ids=CALLS_ON_A_TASK.keys())
def test_a_malformed_task_id_is_not_found(alice, task_count, call, task_id):
    tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(NotFound):
        call(alice.id, task_id)
    assert task_count() == 1


# --- validation -------------------------------------------------------------------------------

INVALID_TASKS = [
    pytest.param({"title": ""}, "title", id="empty-title"),
    pytest.param({"title": " \t\n\u00a0\u3000 "}, "title", id="whitespace-title"),
    pytest.param({"title": "\u0085"}, "title", id="next-line-title"),
    pytest.param({"title": "\u0085\u2028\ufeff"}, "title", id="unicode-whitespace-title"),
    pytest.param({"title": "x" * 256}, "title", id="256-character-title"),
    pytest.param({}, "title", id="no-title"),
    pytest.param({"title": "t", "priority": "urgent"}, "priority", id="unknown-priority"),
    pytest.param({"title": "t", "priority": "High"}, "priority", id="priority-in-capitals"),
    pytest.param({"title": "t", "tags": ["bad tag"]}, "tags", id="tag-with-a-space"),
    pytest.param({"title": "t", "tags": ["caf\u00e9"]}, "tags", id="tag-not-ascii"),
    pytest.param({"title": "t", "tags": [""]}, "tags", id="empty-tag"),
    pytest.param({"title": "t", "tags": ["x" * 33]}, "tags", id="33-character-tag"),
    pytest.param({"title": "t", "tags": [f"t{n}" for n in range(11)]}, "tags", id="11-tags"),
    pytest.param({"title": "t", "description": "d" * 10_001}, "description", id="description-over-the-cap"),
    pytest.param({"title": "t", "due_date": "31/12/2026"}, "due_date", id="malformed-date"),
    pytest.param({"title": "t", "due_date": "2026-02-30"}, "due_date", id="impossible-date"),
    pytest.param({"title": "t", "due_date": "2026-12-31T10:00:00"}, "due_date", id="timestamp-for-a-date"),
    pytest.param({"title": "nul\x00inside"}, "title", id="nul-in-title"),
    pytest.param({"title": "t", "description": "nul\x00inside"}, "description", id="nul-in-description"),
    pytest.param({"title": "t", "tags": ["a\x00"]}, "tags", id="nul-in-tag"),
    pytest.param({"title": "lone \ud800 surrogate"}, "title", id="lone-surrogate-in-title"),
    pytest.param({"title": "t", "description": "\udfff"}, "description", id="lone-surrogate-in-description"),
    pytest.param({"title": 5}, "title", id="number-for-a-string"),
    pytest.param({"title": "t", "completed": "1"}, "completed", id="string-for-a-bool"),
    pytest.param({"title": "t", "completed": 1}, "completed", id="number-for-a-bool"),
    pytest.param({"title": "t", "tags": "work"}, "tags", id="string-for-a-list"),
    pytest.param({"title": "t", "due_date": 20261231}, "due_date", id="number-for-a-date"),
    pytest.param({"title": "t", "description": 5}, "description", id="number-for-a-description"),
    pytest.param({"title": "t", "owner": "someone"}, "owner", id="unknown-field"),
    pytest.param({"title": "t", "user_id": str(uuid.uuid4())}, "user_id", id="user-id-is-not-input"),
    pytest.param({"title": "t", "version": 9}, "version", id="version-is-not-input"),
]


@pytest.mark.parametrize(("data", "field"), INVALID_TASKS)
def test_create_rejects_invalid_input_per_field_and_writes_nothing(alice, task_count, data, field):
    with pytest.raises(ValidationError) as caught:
        tasks.create_task(alice.id, data)
    assert field in caught.value.details
    assert isinstance(caught.value.details[field], str) and caught.value.details[field]
    assert task_count() == 0


@pytest.mark.parametrize(("data", "field"), [p for p in INVALID_TASKS if p.id != "no-title"])
def test_update_rejects_the_same_invalid_input_and_writes_nothing(alice, row, data, field):
    task = tasks.create_task(alice.id, {"title": "original"})
    before = row(task.id)
    with pytest.raises(ValidationError) as caught:
        tasks.update_task(alice.id, task.id, {key: value for key, value in data.items() if key != "title"}
                          if field != "title" else data)
    assert field in caught.value.details
    assert row(task.id) == before


@pytest.mark.parametrize("field", ["title", "priority", "tags", "completed"])
def test_update_does_not_accept_null_for_a_required_field(alice, row, field):
    task = tasks.create_task(alice.id, {"title": "t"})
    with pytest.raises(ValidationError) as caught:
        tasks.update_task(alice.id, task.id, {field: None})
    assert field in caught.value.details
    assert row(task.id)["version"] == 1


def test_every_invalid_field_is_reported_at_once(alice):
    with pytest.raises(ValidationError) as caught:
        tasks.create_task(alice.id, {"title": "", "priority": "urgent", "due_date": "soon"})
    assert set(caught.value.details) == {"title", "priority", "due_date"}


# --- versions ---------------------------------------------------------------------------------


def test_a_stale_version_on_update_is_a_conflict_and_writes_nothing(alice, row):
    task = tasks.create_task(alice.id, {"title": "v1"})
    tasks.update_task(alice.id, task.id, {"title": "v2"})
    before = row(task.id)
    with pytest.raises(Conflict) as caught:
        tasks.update_task(alice.id, task.id, {"title": "lost update"}, expected_version=1)
    assert (caught.value.current.title, caught.value.current.version) == ("v2", 2)
    assert row(task.id) == before


def test_a_stale_version_on_toggle_is_a_conflict_and_writes_nothing(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    tasks.update_task(alice.id, task.id, {"title": "u"})
    before = row(task.id)
    with pytest.raises(Conflict):
        tasks.toggle_task(alice.id, task.id, expected_version=1)
    assert row(task.id) == before


def test_a_stale_version_on_delete_is_a_conflict_and_deletes_nothing(alice, row):
    task = tasks.create_task(alice.id, {"title": "t"})
    tasks.toggle_task(alice.id, task.id)
    before = row(task.id)
    with pytest.raises(Conflict):
        tasks.delete_task(alice.id, task.id, expected_version=1)
    assert row(task.id) == before


def test_a_change_made_by_raw_sql_makes_the_version_stale(alice, sql):
    task = tasks.create_task(alice.id, {"title": "t"})
    sql("UPDATE tasks SET title = 'changed elsewhere' WHERE id = :id", id=task.id)
    with pytest.raises(Conflict):
        tasks.update_task(alice.id, task.id, {"title": "mine"}, expected_version=1)
    assert tasks.update_task(alice.id, task.id, {"title": "mine"}, expected_version=2).version == 3


# --- filters ----------------------------------------------------------------------------------


def titles(user_id, **params) -> set[str]:
    return {task.title for task in tasks.list_tasks(user_id, {"limit": 200, **params}).items}


def test_status_filters_active_completed_and_all(alice):
    tasks.create_task(alice.id, {"title": "open"})
    tasks.create_task(alice.id, {"title": "done", "completed": True})
    assert titles(alice.id, status="active") == {"open"}
    assert titles(alice.id, status="completed") == {"done"}
    assert titles(alice.id, status="all") == titles(alice.id) == {"open", "done"}


def test_overdue_means_open_and_due_before_today(alice):
    today = datetime.now(ZoneInfo("UTC")).date()
    tasks.create_task(alice.id, {"title": "late", "due_date": (today - timedelta(days=3)).isoformat()})
    tasks.create_task(alice.id, {"title": "late but done", "completed": True,
                                 "due_date": (today - timedelta(days=3)).isoformat()})
    tasks.create_task(alice.id, {"title": "far ahead", "due_date": (today + timedelta(days=30)).isoformat()})
    tasks.create_task(alice.id, {"title": "no date"})
    assert titles(alice.id, status="overdue") == {"late"}


def test_overdue_is_judged_in_the_users_time_zone(alice):
    # Kiritimati (UTC+14) is always a day or more ahead of Pago Pago (UTC-11): a task due
    # today in Pago Pago is not overdue there, and already overdue in Kiritimati.
    pago_today = datetime.now(ZoneInfo("Pacific/Pago_Pago")).date()
    tasks.create_task(alice.id, {"title": "due today in Pago Pago", "due_date": pago_today.isoformat()})
    assert overdue_titles(alice.id, "Pacific/Pago_Pago") == set()
    assert overdue_titles(alice.id, "Pacific/Kiritimati") == {"due today in Pago Pago"}


def test_today_is_open_tasks_due_by_today_and_upcoming_the_seven_days_from_today(alice):
    zone = "Pacific/Kiritimati"
    today = datetime.now(ZoneInfo(zone)).date()
    for title, days, done in (("late", -2, False), ("today", 0, False), ("done today", 0, True),
                              ("in six days", 6, False), ("in seven days", 7, False)):
        tasks.create_task(alice.id, {"title": title, "due_date": (today + timedelta(days=days)).isoformat(),
                                     "completed": done})
    tasks.create_task(alice.id, {"title": "no date"})

    def view(status):
        return [task.title for task in tasks.list_tasks(alice.id, {"status": status, "sort": "due"}, tz=zone).items]

    assert view("today") == ["late", "today"]
    assert view("upcoming") == ["today", "in six days"]


def overdue_titles(user_id, tz: str) -> set[str]:
    return {task.title for task in tasks.list_tasks(user_id, {"status": "overdue"}, tz=tz).items}


@pytest.fixture
def searchable(alice):
    for title, description in [
        ("Quarterly report", None),
        ("Reply to Bob", None),
        ("unrepeatable", None),
        ("100% done", None),
        ("snake_case thing", None),
        ("Groceries", "milk, eggs and the REPORTING forms"),
    ]:
        tasks.create_task(alice.id, {"title": title, "description": description})
    return alice


@pytest.mark.parametrize(("q", "expected"), [
    ("rep", {"Quarterly report", "Reply to Bob", "Groceries"}),
    ("REPORT", {"Quarterly report", "Groceries"}),
    ("quarterly rep", {"Quarterly report"}),
    ("milk", {"Groceries"}),
    ("port", set()),
    ("peat", set()),
    ("100", {"100% done"}),
    ("snake", {"snake_case thing"}),
    ("case", {"snake_case thing"}),
])
def test_search_matches_words_that_start_with_each_query_word(searchable, q, expected):
    assert titles(searchable.id, q=q) == expected


@pytest.mark.parametrize("q", ["%", "_", "%%", "%_%", "'", "&|!", "\\", ":*"])
def test_a_query_without_letters_or_digits_matches_nothing(searchable, q):
    assert titles(searchable.id, q=q) == set()


@pytest.mark.parametrize("q", ["q%y", "rep_rt", "unr_peat", "Quart%ly", "g_oceries"])
def test_percent_and_underscore_are_not_wildcards(searchable, q):
    # Each of these matches a title as a LIKE pattern; as words, no word starts with every part.
    assert titles(searchable.id, q=q) == set()


def test_percent_is_punctuation_around_a_word(searchable):
    assert titles(searchable.id, q="100%") == {"100% done"}


def test_filter_by_tag(alice):
    tasks.create_task(alice.id, {"title": "w1", "tags": ["work"]})
    tasks.create_task(alice.id, {"title": "w2", "tags": ["home", "work"]})
    tasks.create_task(alice.id, {"title": "h", "tags": ["home"]})
    tasks.create_task(alice.id, {"title": "none"})
    assert titles(alice.id, tag="work") == {"w1", "w2"}
    assert titles(alice.id, tag="WORK") == {"w1", "w2"}
    assert titles(alice.id, tag="nothing") == set()


def test_filter_by_priority(alice):
    for priority in ("none", "low", "medium", "high", "high"):
        tasks.create_task(alice.id, {"title": f"{priority}-{uuid.uuid4().hex[:4]}", "priority": priority})
    found = tasks.list_tasks(alice.id, {"priority": "high"}).items
    assert len(found) == 2 and {task.priority for task in found} == {"high"}


def test_due_before_and_due_after_are_inclusive(alice):
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        tasks.create_task(alice.id, {"title": day, "due_date": day})
    tasks.create_task(alice.id, {"title": "no date"})
    assert titles(alice.id, due_after="2026-01-02") == {"2026-01-02", "2026-01-03"}
    assert titles(alice.id, due_before="2026-01-02") == {"2026-01-01", "2026-01-02"}
    assert titles(alice.id, due_after="2026-01-02", due_before="2026-01-02") == {"2026-01-02"}
    assert titles(alice.id, due_after="2026-01-03", due_before="2026-01-01") == set()


def test_filters_combine(alice):
    tasks.create_task(alice.id, {"title": "work report", "tags": ["work"], "priority": "high",
                                 "due_date": "2026-05-01"})
    tasks.create_task(alice.id, {"title": "work report low", "tags": ["work"], "priority": "low",
                                 "due_date": "2026-05-01"})
    tasks.create_task(alice.id, {"title": "home report", "tags": ["home"], "priority": "high",
                                 "due_date": "2026-05-01"})
    assert titles(alice.id, q="report", tag="work", priority="high", due_before="2026-05-01",
                  status="active") == {"work report"}


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "late"}, "status"),
    ({"sort": "random"}, "sort"),
    ({"priority": "urgent"}, "priority"),
    ({"tag": "bad tag"}, "tag"),
    ({"due_before": "tomorrow"}, "due_before"),
    ({"due_after": "2026-02-30"}, "due_after"),
    ({"q": "x" * 201}, "q"),
    ({"q": "nul\x00"}, "q"),
    ({"colour": "red"}, "colour"),
])
def test_list_rejects_unknown_or_malformed_parameters(alice, params, field):
    with pytest.raises(ValidationError) as caught:
        tasks.list_tasks(alice.id, params)
    assert field in caught.value.details


def test_two_concurrent_completions_of_a_recurring_task_both_land_one_date_each(app, alice, database_url):
    task = tasks.create_task(alice.id, {"title": "repeats", "due_date": "2030-01-07",
                                        "recurrence": {"text": "every monday"}})
    db.session.remove()
    outcomes = []

    def complete():
        with app.app_context():
            try:
                outcomes.append(tasks.toggle_task(alice.id, task.id).due_date.isoformat())
            finally:
                db.session.remove()

    # Hold the task's row, so that both requests have read it before either can write.
    with psycopg.connect(libpq(database_url)) as holder:
        holder.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (task.id,))
        threads = [threading.Thread(target=complete) for _ in range(2)]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(200):
            waiting = holder.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
            if waiting >= 2:
                break
            threading.Event().wait(0.05)
        assert waiting >= 2
        holder.commit()
        for thread in threads:
            thread.join(10)
    assert sorted(outcomes) == ["2030-01-14", "2030-01-21"]  # the second read again and moved on once more
    assert [row.due_date.isoformat() for row in tasks.list_completions(alice.id, task.id)] == \
        ["2030-01-14", "2030-01-07"]


def test_a_series_that_would_pass_the_year_9999_ends_there(alice):
    """dateutil cannot count past the year 9999: there the calendar ends the series (the
    task is done), never an error."""
    task = tasks.create_task(alice.id, {"title": "Far", "due_date": "9999-12-25",
                                        "recurrence": {"rule": "FREQ=WEEKLY"}})
    assert tasks.list_occurrences(alice.id, task.id, 5) == [date(9999, 12, 25)]
    done = tasks.toggle_task(alice.id, task.id)
    assert (done.completed, done.due_date) == (True, date(9999, 12, 25))


def test_undoing_a_completion_completes_again_the_subtasks_it_reopened(alice, sql):
    task = tasks.create_task(alice.id, {"title": "Weekly review", "due_date": "2030-01-07",
                                        "recurrence": {"text": "every monday"}})
    done = tasks.create_task(alice.id, {"title": "Inbox zero", "parent_id": str(task.id), "completed": True})
    tasks.create_task(alice.id, {"title": "Plan the week", "parent_id": str(task.id)})
    moved = tasks.toggle_task(alice.id, task.id)
    assert sql("SELECT completed FROM tasks WHERE id = :id", id=done.id) == [(False,)]  # open for next time
    back = tasks.undo_completion(alice.id, task.id, moved.version)
    assert (back.due_date, back.subtask_count, back.subtask_completed_count) == (date(2030, 1, 7), 2, 1)
    assert sql("SELECT title FROM tasks WHERE completed ORDER BY title") == [("Inbox zero",)]
    assert sql("SELECT count(*) FROM task_completions") == [(0,)]
