"""Projects and subtasks in the service layer and the database, on a real PostgreSQL:
the Inbox, ordering, archiving, deleting, the tree rules (depth, cycles, moves,
completion), counts, and ownership across two users."""
from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from myapp.errors import Conflict, NotFound, ValidationError
from myapp.extensions import db
from myapp.services import projects, tasks

from conftest import libpq

pytestmark = pytest.mark.pooled


def inbox_of(user):
    return next(p for p in projects.list_projects(user.id) if p.is_inbox)


def details(error_info) -> dict:
    return error_info.value.details


def tree(user, *titles_by_level):
    """A chain root -> child -> ... of tasks; returns them in order."""
    made, parent = [], None
    for title in titles_by_level:
        made.append(tasks.create_task(user.id, {"title": title, "parent_id": str(parent.id) if parent else None}))
        parent = made[-1]
    return made


# --- projects ------------------------------------------------------------------------------


def test_every_new_user_has_exactly_one_inbox_and_tasks_without_a_project_go_there(alice):
    (inbox,) = projects.list_projects(alice.id)
    assert (inbox.name, inbox.is_inbox, inbox.archived, inbox.color) == ("Inbox", True, False, "grey")
    task = tasks.create_task(alice.id, {"title": "loose"})
    assert task.project_id == inbox.id and task.parent_id is None
    assert projects.get_project(alice.id, inbox.id).active_count == 1


def test_projects_are_created_last_in_order_with_names_unique_regardless_of_case(alice):
    work = projects.create_project(alice.id, {"name": "  Work  ", "color": "blue"})
    home = projects.create_project(alice.id, {"name": "Home"})
    assert (work.name, work.color, home.color) == ("Work", "blue", "grey")
    assert [p.name for p in projects.list_projects(alice.id)] == ["Inbox", "Work", "Home"]
    with pytest.raises(ValidationError) as error:
        projects.create_project(alice.id, {"name": "WORK"})
    assert details(error) == {"name": projects.NAME_TAKEN}
    with pytest.raises(ValidationError) as error:
        projects.create_project(alice.id, {"name": " \t", "color": "mauve"})
    assert set(details(error)) == {"name", "color"}
    assert len(projects.list_projects(alice.id)) == 3


def test_a_user_has_at_most_300_projects(alice, sql):
    sql("INSERT INTO projects (user_id, name) SELECT :u, 'p' || n FROM generate_series(1, 299) n", u=alice.id)
    with pytest.raises(ValidationError) as error:
        projects.create_project(alice.id, {"name": "one too many"})
    assert "300" in details(error)["name"]
    assert sql("SELECT count(*) FROM projects WHERE user_id = :u", u=alice.id)[0][0] == 300


def test_rename_recolour_archive_and_the_version_moves_only_for_what_the_user_set(alice):
    work = projects.create_project(alice.id, {"name": "Work"})
    renamed = projects.update_project(alice.id, work.id, {"name": "Office", "color": "teal"})
    assert (renamed.name, renamed.color, renamed.version) == ("Office", "teal", work.version + 1)
    tasks.create_task(alice.id, {"title": "t", "project_id": str(work.id)})
    counted = projects.get_project(alice.id, work.id)
    assert (counted.active_count, counted.version) == (1, renamed.version)  # counts are not an edit
    archived = projects.update_project(alice.id, work.id, {"archived": True})
    assert archived.archived
    with pytest.raises(Conflict):
        projects.update_project(alice.id, work.id, {"name": "stale"}, expected_version=renamed.version)
    assert projects.get_project(alice.id, work.id).name == "Office"


def test_the_inbox_cannot_be_renamed_archived_or_deleted_but_can_be_recoloured(alice):
    inbox = inbox_of(alice)
    with pytest.raises(ValidationError) as error:
        projects.update_project(alice.id, inbox.id, {"name": "Other", "archived": True})
    assert set(details(error)) == {"name", "archived"}
    with pytest.raises(ValidationError):
        projects.delete_project(alice.id, inbox.id)
    assert projects.update_project(alice.id, inbox.id, {"color": "pink"}).color == "pink"
    assert inbox_of(alice).name == "Inbox"


def test_move_up_and_down_swaps_with_the_neighbour_and_stops_at_the_ends(alice):
    a, b, c = (projects.create_project(alice.id, {"name": name}) for name in "abc")
    projects.move_project(alice.id, c.id, "up")
    assert [p.name for p in projects.list_projects(alice.id)] == ["Inbox", "a", "c", "b"]
    projects.move_project(alice.id, a.id, "up")  # already first: nothing changes
    projects.move_project(alice.id, a.id, "down")
    assert [p.name for p in projects.list_projects(alice.id)] == ["Inbox", "c", "a", "b"]
    with pytest.raises(ValidationError):
        projects.move_project(alice.id, inbox_of(alice).id, "down")


def test_deleting_a_project_deletes_its_tasks_or_moves_them_with_their_subtasks(alice):
    trip = projects.create_project(alice.id, {"name": "Trip"})
    keep = projects.create_project(alice.id, {"name": "Keep"})
    root = tasks.create_task(alice.id, {"title": "pack", "project_id": str(trip.id)})
    child = tasks.create_task(alice.id, {"title": "socks", "parent_id": str(root.id)})
    projects.delete_project(alice.id, trip.id, move_to=str(keep.id))
    assert tasks.get_task(alice.id, child.id).project_id == keep.id
    assert tasks.get_task(alice.id, child.id).parent_id == root.id
    assert projects.get_project(alice.id, keep.id).active_count == 2

    projects.delete_project(alice.id, keep.id)
    with pytest.raises(NotFound):
        tasks.get_task(alice.id, root.id)
    assert tasks.count_tasks(alice.id).total == 0


def test_a_failed_move_before_delete_changes_nothing(alice, bob):
    trip = projects.create_project(alice.id, {"name": "Trip"})
    task = tasks.create_task(alice.id, {"title": "pack", "project_id": str(trip.id)})
    for target in (str(inbox_of(bob).id), str(uuid.uuid4()), "not-an-id", str(trip.id)):
        with pytest.raises(ValidationError) as error:
            projects.delete_project(alice.id, trip.id, move_to=target)
        assert set(details(error)) == {"move_to"}
    assert tasks.get_task(alice.id, task.id).project_id == trip.id


# --- ownership -----------------------------------------------------------------------------


def test_another_users_project_is_not_found_for_every_operation(alice, bob):
    theirs = projects.create_project(alice.id, {"name": "Alice's"})
    for attempt in (lambda: projects.get_project(bob.id, theirs.id),
                    lambda: projects.update_project(bob.id, theirs.id, {"name": "mine"}),
                    lambda: projects.move_project(bob.id, theirs.id, "up"),
                    lambda: projects.delete_project(bob.id, theirs.id)):
        with pytest.raises(NotFound):
            attempt()
    assert [p.name for p in projects.list_projects(bob.id)] == ["Inbox"]
    assert projects.get_project(alice.id, theirs.id).name == "Alice's"


def test_another_users_project_or_parent_reads_as_one_that_does_not_exist(alice, bob):
    their_project = projects.create_project(alice.id, {"name": "Alice's"})
    their_task = tasks.create_task(alice.id, {"title": "Alice's task"})
    mine = tasks.create_task(bob.id, {"title": "Bob's task"})
    for field, theirs in (("project_id", their_project.id), ("parent_id", their_task.id)):
        messages = []
        for value in (theirs, uuid.uuid4()):
            with pytest.raises(ValidationError) as created:
                tasks.create_task(bob.id, {"title": "x", field: str(value)})
            with pytest.raises(ValidationError) as updated:
                tasks.update_task(bob.id, mine.id, {field: str(value)})
            messages += [details(created), details(updated)]
        assert all(message == messages[0] for message in messages) and set(messages[0]) == {field}
    assert tasks.count_tasks(bob.id).total == 1 and tasks.get_task(bob.id, mine.id).version == mine.version
    assert tasks.list_tasks(bob.id, {"project_id": str(their_project.id)}).items == []
    assert tasks.list_tasks(bob.id, {"parent_id": str(their_task.id)}).items == []
    assert tasks.descendants(bob.id, [their_task.id]) == {}


def test_the_database_refuses_a_task_in_another_users_project_or_under_another_users_task(alice, bob, sql):
    their_project = projects.create_project(alice.id, {"name": "Alice's"})
    their_task = tasks.create_task(alice.id, {"title": "Alice's task"})
    with pytest.raises(sa_exc.IntegrityError):
        sql("INSERT INTO tasks (user_id, project_id, title) VALUES (:u, :p, 'x')", u=bob.id, p=their_project.id)
    with pytest.raises(sa_exc.IntegrityError):
        sql("INSERT INTO tasks (user_id, parent_id, title) VALUES (:u, :p, 'x')", u=bob.id, p=their_task.id)
    with pytest.raises(sa_exc.IntegrityError):
        sql("UPDATE tasks SET user_id = :u WHERE id = :t", u=bob.id, t=their_task.id)


# --- subtasks ------------------------------------------------------------------------------


def test_a_subtask_goes_to_its_parents_project_and_another_project_is_refused(alice):
    work = projects.create_project(alice.id, {"name": "Work"})
    parent = tasks.create_task(alice.id, {"title": "report", "project_id": str(work.id)})
    child = tasks.create_task(alice.id, {"title": "charts", "parent_id": str(parent.id)})
    assert (child.project_id, child.parent_id) == (work.id, parent.id)
    with pytest.raises(ValidationError) as error:
        tasks.create_task(alice.id, {"title": "x", "parent_id": str(parent.id),
                                     "project_id": str(inbox_of(alice).id)})
    assert set(details(error)) == {"project_id"}
    fresh = tasks.get_task(alice.id, parent.id)
    assert (fresh.subtask_count, fresh.subtask_completed_count) == (1, 0)


def test_four_levels_are_allowed_and_a_fifth_is_refused_on_create_and_on_move(alice):
    levels = tree(alice, "1", "2", "3", "4")
    with pytest.raises(ValidationError) as error:
        tasks.create_task(alice.id, {"title": "5", "parent_id": str(levels[-1].id)})
    assert set(details(error)) == {"parent_id"}
    other = tree(alice, "a", "b")  # a subtree of height 2 under level 3 would reach 5
    with pytest.raises(ValidationError) as error:
        tasks.update_task(alice.id, other[0].id, {"parent_id": str(levels[2].id)})
    assert set(details(error)) == {"parent_id"}
    assert tasks.update_task(alice.id, other[1].id, {"parent_id": str(levels[2].id)}).parent_id == levels[2].id


def test_a_task_cannot_go_under_itself_or_its_own_descendant(alice):
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    for new_parent in (root, child, grandchild):
        with pytest.raises(ValidationError) as error:
            tasks.update_task(alice.id, root.id, {"parent_id": str(new_parent.id)})
        assert set(details(error)) == {"parent_id"}
    assert tasks.get_task(alice.id, root.id).parent_id is None


def test_two_concurrent_moves_that_would_make_a_cycle_together_cannot_both_land(app, alice, database_url):
    x = tasks.create_task(alice.id, {"title": "x"})
    y = tasks.create_task(alice.id, {"title": "y"})
    db.session.remove()
    outcomes = {}

    def move(name, task, parent):
        with app.app_context():
            try:
                tasks.update_task(alice.id, task.id, {"parent_id": str(parent.id)})
                outcomes[name] = "moved"
            except ValidationError as error:
                outcomes[name] = error.details
            finally:
                db.session.remove()

    # Hold the tree lock both moves take, so that both are surely in flight at once.
    with psycopg.connect(libpq(database_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('task tree of ' || %s, 0))", (str(alice.id),))
        threads = [threading.Thread(target=move, args=("x under y", x, y)),
                   threading.Thread(target=move, args=("y under x", y, x))]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(200):
            waiting = holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") \
                .fetchone()[0]
            if waiting == 2:
                break
            threading.Event().wait(0.05)
        assert waiting == 2
        holder.execute("SELECT pg_advisory_unlock_all()")
        for thread in threads:
            thread.join(10)
    assert sorted(str(outcome) for outcome in outcomes.values()) == \
        sorted(["moved", str({"parent_id": tasks._TREE_ERRORS["task_tree_cycle"]})])
    parents = {t.id: t.parent_id for t in (tasks.get_task(alice.id, x.id), tasks.get_task(alice.id, y.id))}
    assert list(parents.values()).count(None) == 1


def test_a_subtree_moves_with_its_root_and_the_counts_follow(alice):
    work = projects.create_project(alice.id, {"name": "Work"})
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    tasks.toggle_task(alice.id, grandchild.id)
    moved = tasks.update_task(alice.id, root.id, {"project_id": str(work.id)})
    assert moved.project_id == work.id
    for task in (child, grandchild):
        now = tasks.get_task(alice.id, task.id)
        assert now.project_id == work.id
    assert tasks.get_task(alice.id, grandchild.id).parent_id == child.id
    counted = projects.get_project(alice.id, work.id)
    assert (counted.active_count, counted.completed_count) == (2, 1)
    assert (inbox_of(alice).active_count, inbox_of(alice).completed_count) == (0, 0)


def test_a_subtask_moved_to_another_project_on_its_own_leaves_its_parent_with_its_own_subtree(alice):
    work = projects.create_project(alice.id, {"name": "Work"})
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    moved = tasks.update_task(alice.id, child.id, {"project_id": str(work.id)})
    assert (moved.project_id, moved.parent_id) == (work.id, None)
    assert tasks.get_task(alice.id, grandchild.id).project_id == work.id
    assert tasks.get_task(alice.id, root.id).subtask_count == 0
    # Naming the project it is already in keeps it where it is.
    assert tasks.update_task(alice.id, grandchild.id, {"project_id": str(work.id)}).parent_id == child.id


def test_a_task_sent_under_a_parent_in_another_project_follows_it_there(alice):
    work = projects.create_project(alice.id, {"name": "Work"})
    parent = tasks.create_task(alice.id, {"title": "parent", "project_id": str(work.id)})
    loose, below = tree(alice, "loose", "below")
    moved = tasks.update_task(alice.id, loose.id, {"parent_id": str(parent.id)})
    assert (moved.project_id, moved.parent_id) == (work.id, parent.id)
    assert tasks.get_task(alice.id, below.id).project_id == work.id
    assert tasks.update_task(alice.id, loose.id, {"parent_id": None}).parent_id is None


def test_completing_completes_open_descendants_and_reopening_a_subtask_reopens_its_ancestors(alice):
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    sibling = tasks.create_task(alice.id, {"title": "sibling", "parent_id": str(root.id)})
    done = tasks.toggle_task(alice.id, root.id)
    assert done.completed and (done.subtask_count, done.subtask_completed_count) == (2, 2)  # fresh counts
    assert all(tasks.get_task(alice.id, t.id).completed for t in (child, grandchild, sibling))

    reopened = tasks.toggle_task(alice.id, root.id)  # reopening leaves the subtasks as they are
    assert not reopened.completed and tasks.get_task(alice.id, grandchild.id).completed

    tasks.toggle_task(alice.id, root.id)
    tasks.set_completed(alice.id, grandchild.id, False)
    assert [tasks.get_task(alice.id, t.id).completed for t in (root, child, grandchild, sibling)] == \
        [False, False, False, True]
    counts = tasks.count_tasks(alice.id)
    assert (counts.active, counts.completed) == (3, 1)


def test_an_open_subtask_added_under_a_completed_task_reopens_it(alice):
    root = tasks.create_task(alice.id, {"title": "root", "completed": True})
    tasks.create_task(alice.id, {"title": "one more step", "parent_id": str(root.id)})
    assert not tasks.get_task(alice.id, root.id).completed


def test_deleting_a_task_deletes_its_subtree_and_says_how_many_first(alice):
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    tasks.create_task(alice.id, {"title": "sibling", "parent_id": str(root.id)})
    assert tasks.count_descendants(alice.id, root.id) == 3
    assert tasks.count_descendants(alice.id, child.id) == 1
    tasks.delete_task(alice.id, root.id)
    assert tasks.count_tasks(alice.id).total == 0


def test_descendants_come_back_by_parent_in_one_read(alice):
    root, child, grandchild = tree(alice, "root", "child", "grandchild")
    second = tasks.create_task(alice.id, {"title": "second", "parent_id": str(root.id)})
    below = tasks.descendants(alice.id, [root.id])
    assert [t.id for t in below[root.id]] == [child.id, second.id]
    assert [t.id for t in below[child.id]] == [grandchild.id]
    assert grandchild.id not in below


# --- lists, archive and counts ---------------------------------------------------------------


def test_archived_projects_leave_the_views_and_totals_but_not_their_own_list(alice):
    trip = projects.create_project(alice.id, {"name": "Trip"})
    hidden = tasks.create_task(alice.id, {"title": "passport", "project_id": str(trip.id)})
    shown = tasks.create_task(alice.id, {"title": "milk"})
    projects.update_project(alice.id, trip.id, {"archived": True})

    def listed(**params):
        return [t.id for t in tasks.list_tasks(alice.id, params).items]

    assert listed() == [shown.id]
    assert listed(archived="true") == [hidden.id]
    assert listed(archived="any") == [shown.id, hidden.id]
    assert listed(project_id=str(trip.id)) == [hidden.id]
    assert listed(q="passport") == [] and listed(q="passport", archived="any") == [hidden.id]
    assert tasks.count_tasks(alice.id).total == 1
    bar = tasks.sidebar(alice.id)
    assert [p.name for p in bar.projects] == ["Inbox"] and bar.counts.active == 1


def test_root_and_child_filters(alice):
    root, child, _ = tree(alice, "root", "child", "grandchild")
    assert [t.id for t in tasks.list_tasks(alice.id, {"parent_id": "none"}).items] == [root.id]
    assert [t.id for t in tasks.list_tasks(alice.id, {"parent_id": str(root.id)}).items] == [child.id]
    with pytest.raises(ValidationError) as error:
        tasks.list_tasks(alice.id, {"parent_id": "nope", "archived": "maybe"})
    assert set(details(error)) == {"parent_id", "archived"}


def test_the_sidebar_lists_projects_in_order_with_their_active_counts(alice):
    work = projects.create_project(alice.id, {"name": "Work", "color": "red"})
    projects.create_project(alice.id, {"name": "Home"})
    tasks.create_task(alice.id, {"title": "a", "project_id": str(work.id)})
    tasks.create_task(alice.id, {"title": "b", "project_id": str(work.id), "completed": True})
    bar = tasks.sidebar(alice.id)
    assert [(p.name, p.color, p.active_count, p.is_inbox) for p in bar.projects] == \
        [("Inbox", "grey", 0, True), ("Work", "red", 1, False), ("Home", "grey", 0, False)]
    assert (bar.counts.active, bar.counts.completed) == (1, 1)


def test_many_concurrent_inserts_into_one_project_neither_deadlock_nor_queue_up(alice, database_url):
    # Each insert's foreign key check holds FOR KEY SHARE on the project until commit, and
    # the count trigger then locks the same row: with FOR UPDATE there, two concurrent
    # inserts waited on each other (the benchmark stalled on it); FOR NO KEY UPDATE does not.
    failures = []

    def insert_many():
        with psycopg.connect(libpq(database_url), autocommit=True) as conn:
            conn.execute("SET statement_timeout = '3s'")
            for n in range(15):
                try:
                    conn.execute("INSERT INTO tasks (user_id, title) VALUES (%s, %s)", (alice.id, f"t{n}"))
                except psycopg.Error as error:
                    failures.append(type(error).__name__)

    threads = [threading.Thread(target=insert_many) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert inbox_of(alice).active_count == 180 == tasks.count_tasks(alice.id).active
