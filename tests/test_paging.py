"""Keyset paging: every task exactly once, in the declared order, both ways, while tasks come and go."""
from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from myapp.errors import ValidationError
from myapp.services import cursor as cursors
from myapp.services import tasks

pytestmark = pytest.mark.pooled

SORTS = ["newest", "oldest", "due", "priority", "title"]
PRIORITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Letters only, in mixed case and with repeats: PostgreSQL's collation and Python agree
# on the order of lowercase letters, so the expected order is computed independently.
TITLES = ["alpha", "Bravo", "charlie", "ALPHA", "delta", "Echo", "bravo", "foxtrot", "Golf", "hotel", "alpha"]


def expected_key(sort: str):
    """The declared order of each sort, as a Python sort key (with its direction)."""
    return {
        "newest": (lambda t: (t.created_at, t.id), True),
        "oldest": (lambda t: (t.created_at, t.id), False),
        "due": (lambda t: (t.due_date or date.max, t.created_at, t.id), False),
        "priority": (lambda t: (PRIORITY_RANK[t.priority], t.created_at, t.id), True),
        "title": (lambda t: (t.title.lower(), t.id), False),
    }[sort]


@pytest.fixture
def many(alice, sql):
    """33 tasks, many of them sharing created_at (so only the id can break the tie)."""
    for n in range(33):
        created = BASE + timedelta(minutes=n // 4)  # groups of four with identical created_at
        due = None if n % 5 == 0 else date(2026, 4, 1) + timedelta(days=n % 3)
        sql("INSERT INTO tasks (user_id, title, created_at, due_date, priority, completed) "
            "VALUES (:u, :title, :created, :due, :priority, :completed)",
            u=alice.id, title=TITLES[n % len(TITLES)], created=created, due=due,
            priority=list(PRIORITY_RANK)[n % 4], completed=n % 7 == 0)
    assert sql("SELECT count(DISTINCT created_at) FROM tasks")[0][0] < 33
    return alice


def all_tasks(sql, user_id):
    return sql("SELECT id, title, created_at, due_date, priority FROM tasks WHERE user_id = :u", u=user_id)


def in_declared_order(rows, sort: str) -> list:
    key, descending = expected_key(sort)
    return [row.id for row in sorted(rows, key=key, reverse=descending)]


def walk_forward(user_id, sort: str, limit: int, **params) -> list:
    """Every page from the first, following next_cursor; a list of pages (lists of task objects)."""
    pages, cursor = [], None
    for _ in range(1000):
        page = tasks.list_tasks(user_id, {"sort": sort, "limit": limit, **params,
                                          **({"cursor": cursor} if cursor else {})})
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("paging never ended")


def page_ids(pages) -> list[list]:
    return [[task.id for task in page.items] for page in pages]


@pytest.mark.parametrize("sort", SORTS)
def test_walking_forward_returns_every_task_once_in_the_declared_order(many, sql, sort):
    pages = walk_forward(many.id, sort, limit=5)
    seen = [task_id for page in page_ids(pages) for task_id in page]
    assert len(seen) == len(set(seen)) == 33
    assert seen == in_declared_order(all_tasks(sql, many.id), sort)
    assert all(len(page.items) == 5 for page in pages[:-1]) and 1 <= len(pages[-1].items) <= 5
    assert pages[0].prev_cursor is None
    assert all(page.prev_cursor for page in pages[1:])


@pytest.mark.parametrize("sort", SORTS)
def test_walking_back_with_prev_cursor_returns_the_same_pages(many, sort):
    forward = walk_forward(many.id, sort, limit=4)
    backward, cursor = [forward[-1]], forward[-1].prev_cursor
    while cursor:
        page = tasks.list_tasks(many.id, {"sort": sort, "limit": 4, "cursor": cursor})
        backward.append(page)
        cursor = page.prev_cursor
    assert page_ids(list(reversed(backward))) == page_ids(forward)
    # ...and from a page reached backwards, next_cursor leads forward to the same page again.
    again = tasks.list_tasks(many.id, {"sort": sort, "limit": 4, "cursor": backward[-1].next_cursor})
    assert [task.id for task in again.items] == page_ids(forward)[1]


@pytest.mark.parametrize("sort", SORTS)
def test_paging_is_exact_with_a_filter(many, sql, sort):
    pages = walk_forward(many.id, sort, limit=3, status="active", priority="high")
    seen = [task_id for page in page_ids(pages) for task_id in page]
    rows = sql("SELECT id, title, created_at, due_date, priority FROM tasks "
               "WHERE user_id = :u AND NOT completed AND priority = 'high'", u=many.id)
    assert seen == in_declared_order(rows, sort)


@pytest.mark.parametrize("sort", SORTS)
def test_tasks_created_between_page_requests_cause_no_duplicates_or_omissions(many, sort):
    before = {task.id for page in walk_forward(many.id, sort, limit=50) for task in page.items}
    seen, cursor, made = [], None, 0
    while True:
        page = tasks.list_tasks(many.id, {"sort": sort, "limit": 4, **({"cursor": cursor} if cursor else {})})
        seen += [task.id for task in page.items]
        for title in ("Aardvark", "mike", "zulu"):  # before, among and after the existing titles
            tasks.create_task(many.id, {"title": title, "priority": list(PRIORITY_RANK)[made % 4],
                                        "due_date": None if made % 2 else "2026-04-02"})
            made += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a task was returned twice"
    assert before <= set(seen), "a task that existed before paging began was skipped"


@pytest.mark.parametrize("sort", SORTS)
def test_deleting_the_task_a_cursor_points_at_does_not_break_paging(many, sort):
    first = tasks.list_tasks(many.id, {"sort": sort, "limit": 6})
    expected_rest = [task.id for page in walk_forward(many.id, sort, limit=50) for task in page.items][6:]
    tasks.delete_task(many.id, first.items[-1].id)
    rest = [task.id for page in walk_forward(many.id, sort, limit=6, cursor=first.next_cursor)
            for task in page.items]
    assert rest == expected_rest


def test_the_due_sort_puts_tasks_without_a_due_date_last(many):
    items = [task for page in walk_forward(many.id, "due", limit=10) for task in page.items]
    dated = [task.due_date for task in items if task.due_date is not None]
    assert dated == sorted(dated)
    first_undated = next(i for i, task in enumerate(items) if task.due_date is None)
    assert all(task.due_date is None for task in items[first_undated:])


def test_the_priority_sort_puts_high_first_then_newest(many):
    items = [task for page in walk_forward(many.id, "priority", limit=10) for task in page.items]
    ranks = [PRIORITY_RANK[task.priority] for task in items]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 3
    highs = [task.created_at for task in items if task.priority == "high"]
    assert highs == sorted(highs, reverse=True)


def test_the_title_sort_ignores_letter_case(alice):
    for title in ("banana", "Apple", "cherry", "apricot", "Banana split"):
        tasks.create_task(alice.id, {"title": title})
    items = tasks.list_tasks(alice.id, {"sort": "title"}).items
    assert [task.title for task in items] == ["Apple", "apricot", "banana", "Banana split", "cherry"]


def test_rows_with_the_same_created_at_are_ordered_by_id(alice, sql):
    for n in range(6):
        sql("INSERT INTO tasks (user_id, title, created_at) VALUES (:u, :t, :c)", u=alice.id, t=f"tie{n}", c=BASE)
    newest = [task.id for page in walk_forward(alice.id, "newest", limit=2) for task in page.items]
    oldest = [task.id for page in walk_forward(alice.id, "oldest", limit=2) for task in page.items]
    assert oldest == sorted(newest)
    assert newest == sorted(newest, reverse=True)


def test_an_empty_list_has_no_cursors(alice):
    page = tasks.list_tasks(alice.id, {})
    assert (page.items, page.next_cursor, page.prev_cursor) == ([], None, None)


def test_titles_at_the_length_limit_in_any_script_page_through(alice):
    # A cursor carries the sort keys: the longest titles must still make a usable cursor.
    for title in ("\u00e9" * 255, "\u6f22" * 255, "\U0001f600" * 255, '"\\' * 127, "z" * 255):
        for _ in range(2):
            tasks.create_task(alice.id, {"title": title})
    seen = [task.id for page in walk_forward(alice.id, "title", limit=1) for task in page.items]
    assert len(seen) == len(set(seen)) == 10


# --- cursors that do not come from us ------------------------------------------------------


def encode(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def real_cursor(many) -> str:
    return tasks.list_tasks(many.id, {"limit": 3}).next_cursor


BAD_CURSORS = {
    "not-base64": lambda real: "!!!not base64!!!",
    "random-bytes": lambda real: encode(os.urandom(48)),
    "truncated": lambda real: real[: len(real) // 2],
    "truncated-by-one": lambda real: real[:-1],
    "corrupted": lambda real: "AAAA" + real[4:],
    "json-not-a-list": lambda real: encode({"sort": "newest"}),
    "wrong-length": lambda real: encode(["newest", "a"]),
    "unknown-direction": lambda real: encode(["newest", "sideways", ["2026-01-01 00:00:00+00", str(uuid.uuid4())]]),
    "too-few-keys": lambda real: encode(["newest", "a", ["2026-01-01 00:00:00+00"]]),
    "too-many-keys": lambda real: encode(["newest", "a", ["2026-01-01 00:00:00+00", str(uuid.uuid4()), "x"]]),
    "keys-not-text": lambda real: encode(["newest", "a", [20260101, 5]]),
    "empty-key": lambda real: encode(["newest", "a", ["", str(uuid.uuid4())]]),
    "forged-timestamp": lambda real: encode(["newest", "a", ["not a time", str(uuid.uuid4())]]),
    "forged-id": lambda real: encode(["newest", "a", ["2026-01-01 00:00:00+00", "not-a-uuid"]]),
    "forged-sql": lambda real: encode(["newest", "a", ["2026-01-01'); DROP TABLE tasks; --", str(uuid.uuid4())]]),
    "nul-in-key": lambda real: encode(["newest", "a", ["2026-01-01\u0000", str(uuid.uuid4())]]),
    "lone-surrogate-in-key": lambda real: encode(b'["newest","a",["\\ud800","' + str(uuid.uuid4()).encode() + b'"]]'),
    "invalid-utf8": lambda real: encode(b'["newest","a",["\xff\xfe","x"]]'),
    "huge-key": lambda real: encode(["newest", "a", ["9" * 400, str(uuid.uuid4())]]),
    "too-long": lambda real: "A" * 5000,
    "other-sort": lambda real: encode(["title", "a", ["alpha", str(uuid.uuid4())]]),
}


@pytest.mark.parametrize("make", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_bad_cursor_is_a_validation_error_not_a_crash(many, real_cursor, make):
    with pytest.raises(ValidationError) as caught:
        tasks.list_tasks(many.id, {"limit": 3, "cursor": make(real_cursor)})
    assert "cursor" in caught.value.details
    # The failed query left nothing broken behind: the next call works.
    assert len(tasks.list_tasks(many.id, {"limit": 3, "cursor": real_cursor}).items) == 3


@pytest.mark.parametrize("sort", ["oldest", "due", "priority", "title"])
def test_a_cursor_from_another_sort_order_is_a_validation_error(many, sort):
    cursor = tasks.list_tasks(many.id, {"sort": sort, "limit": 3}).next_cursor
    with pytest.raises(ValidationError) as caught:
        tasks.list_tasks(many.id, {"sort": "newest", "limit": 3, "cursor": cursor})
    assert "cursor" in caught.value.details


@pytest.mark.parametrize("sort", ["due", "priority"])
def test_a_cursor_whose_keys_no_longer_fit_its_sort_is_a_validation_error(app, many, sort):
    # As a cursor made before an upgrade that changed a sort's keys would be.
    keys = ("not a date", "2026-01-01 00:00:00+00", str(uuid.uuid4())) if sort == "due" \
        else ("99999999", "2026-01-01 00:00:00+00", str(uuid.uuid4()))
    cursor = cursors.Cursor(sort, cursors.AFTER, keys).encode(app.config["SECRET_KEY"])
    with pytest.raises(ValidationError):
        tasks.list_tasks(many.id, {"sort": sort, "cursor": cursor})


def test_a_cursor_made_with_another_secret_key_is_refused(many):
    cursor = cursors.Cursor("newest", cursors.AFTER, ("2026-01-01 00:00:00+00", str(uuid.uuid4()))).encode("other")
    with pytest.raises(ValidationError) as caught:
        tasks.list_tasks(many.id, {"cursor": cursor})
    assert "cursor" in caught.value.details


def test_a_cursor_reveals_no_task_text(alice):
    for title in ("Confidential merger with Acme", "Confidential: call the lawyer", "Zebra"):
        tasks.create_task(alice.id, {"title": title, "description": "secret notes"})
    page = tasks.list_tasks(alice.id, {"sort": "title", "limit": 1})
    later = tasks.list_tasks(alice.id, {"sort": "title", "limit": 1, "cursor": page.next_cursor})
    for cursor in (page.next_cursor, later.prev_cursor, later.next_cursor):
        padded = cursor + "=" * (-len(cursor) % 4)
        for text in (cursor, base64.urlsafe_b64decode(padded).decode("latin-1")):
            assert "confidential" not in text.lower() and "acme" not in text.lower()


def test_a_cursor_only_ever_shows_the_callers_own_tasks(many, bob):
    for n in range(5):
        tasks.create_task(bob.id, {"title": f"bob's {n}"})
    bobs = {task.id for page in walk_forward(bob.id, "newest", limit=10) for task in page.items}
    cursor = tasks.list_tasks(many.id, {"limit": 3}).next_cursor  # made on someone else's list
    seen = {task.id for page in walk_forward(bob.id, "newest", limit=2, cursor=cursor) for task in page.items}
    backwards = tasks.list_tasks(bob.id, {"cursor": tasks.list_tasks(many.id, {"limit": 3, "cursor": cursor})
                                          .prev_cursor}).items
    assert seen <= bobs and {task.id for task in backwards} <= bobs
    assert seen or backwards  # bob's tasks are on one side or the other of that position


@pytest.mark.parametrize("limit", [0, -1, 201, 10**9, "ten", "", 2.5])
def test_a_limit_outside_1_to_200_is_rejected(alice, limit):
    with pytest.raises(ValidationError) as caught:
        tasks.list_tasks(alice.id, {"limit": limit})
    assert "limit" in caught.value.details


@pytest.mark.parametrize("limit", [1, 200, "7"])
def test_limits_from_1_to_200_are_accepted(many, limit):
    assert len(tasks.list_tasks(many.id, {"limit": limit}).items) == min(int(limit), 33)
