"""Projects (each user's Inbox among them) and subtasks.

Revision ID: b7e2c41f9a30
Revises: 6063131dcbc8
Create Date: 2026-11-27 16:20:00

- projects: per user, names unique regardless of case, one Inbox each (made by a
  trigger with every new user, and here for the users that exist), active and completed
  counts kept by the tasks' count trigger, which keeps them instead of task_counts
  (dropped: the totals are the sums over the user's projects that are not archived).
- tasks.project_id (not null) with a foreign key (project_id, user_id) to
  projects (id, user_id): the database refuses a task in another user's project.
  Every existing task moves to its owner's Inbox.
- tasks.parent_id with a foreign key (parent_id, project_id, user_id) to tasks: a
  subtask is in its parent's project and of its parent's user; ON UPDATE CASCADE moves
  a subtree with its root, ON DELETE CASCADE deletes it with its root.
- Triggers: a parent change is checked for cycles and the depth limit under a per-user
  lock (so two concurrent moves cannot together make a cycle); completing a task
  completes its open descendants, and a task that is open reopens its completed
  ancestors (a completed task never has open subtasks).
"""
import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7e2c41f9a30'
down_revision = '6063131dcbc8'
branch_labels = None
depends_on = None

WHITESPACE = (r"U&'\0020\0009\000A\000B\000C\000D\0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009"
              r"\200A\2028\2029\202F\205F\3000\FEFF'")
COLORS = "'grey', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink'"

# Version and updated_at move when what the user set changes, not when the counts the
# task triggers keep do. New projects go last in the user's order; at most 300 per user,
# counted under a per-user lock so that concurrent creates cannot pass the limit.
PROJECTS_BEFORE_WRITE = """
CREATE FUNCTION projects_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects of ' || NEW.user_id::text, 0));
        IF (SELECT count(*) FROM projects WHERE user_id = NEW.user_id) >= 300 THEN
            RAISE EXCEPTION 'at most 300 projects per user'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_per_user';
        END IF;
        IF NEW.position IS NULL THEN
            NEW.position := coalesce((SELECT max(position) FROM projects WHERE user_id = NEW.user_id), 0) + 1;
        END IF;
    ELSIF (NEW.name, NEW.color, NEW.position, NEW.archived) IS DISTINCT FROM
          (OLD.name, OLD.color, OLD.position, OLD.archived) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$
"""

# As before (version, updated_at, completed_at), and a task inserted without a project
# goes to its owner's Inbox, raw SQL included.
TASKS_BEFORE_WRITE = """
CREATE OR REPLACE FUNCTION tasks_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := clock_timestamp();
        NEW.version := OLD.version + 1;
        IF NEW.completed AND NOT OLD.completed THEN
            NEW.completed_at := clock_timestamp();
        END IF;
    ELSE
        IF NEW.completed AND NEW.completed_at IS NULL THEN
            NEW.completed_at := clock_timestamp();
        END IF;
        IF NEW.project_id IS NULL THEN
            NEW.project_id := (SELECT id FROM projects WHERE user_id = NEW.user_id AND is_inbox);
        END IF;
    END IF;
    IF NOT NEW.completed THEN
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END $$
"""

USERS_CREATE_INBOX = """
CREATE FUNCTION users_create_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO projects (user_id, name, is_inbox, position) VALUES (NEW.id, 'Inbox', true, 0);
    RETURN NULL;
END $$
"""

# Per statement (transition tables), as before: one update per project touched, rows
# locked in key order. FOR NO KEY UPDATE, not FOR UPDATE: every insert's foreign key check
# holds FOR KEY SHARE on its project until commit, and FOR UPDATE would wait on the others'
# (two inserts into one project would each wait for the other). Tags are counted per user
# as before.
TASKS_MAINTAIN_COUNTS = """
CREATE OR REPLACE FUNCTION tasks_maintain_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM projects WHERE id IN (SELECT project_id FROM new_rows) ORDER BY id FOR NO KEY UPDATE;
        UPDATE projects AS p SET active_count = p.active_count + d.active,
                                 completed_count = p.completed_count + d.completed
        FROM (SELECT project_id, count(*) FILTER (WHERE NOT completed) AS active,
                     count(*) FILTER (WHERE completed) AS completed
              FROM new_rows GROUP BY project_id) AS d
        WHERE p.id = d.project_id;
        INSERT INTO tag_counts AS c (user_id, tag, count)
        SELECT user_id, tag, count(*) FROM new_rows, unnest(tags) AS tag
        GROUP BY user_id, tag ORDER BY user_id, tag
        ON CONFLICT (user_id, tag) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM projects WHERE id IN (SELECT project_id FROM old_rows) ORDER BY id FOR NO KEY UPDATE;
        UPDATE projects AS p SET active_count = p.active_count - d.active,
                                 completed_count = p.completed_count - d.completed
        FROM (SELECT project_id, count(*) FILTER (WHERE NOT completed) AS active,
                     count(*) FILTER (WHERE completed) AS completed
              FROM old_rows GROUP BY project_id) AS d
        WHERE p.id = d.project_id;
        -- UPDATE ... FROM locks in plan order: take the row locks in key order first.
        PERFORM 1 FROM tag_counts AS c
        WHERE (c.user_id, c.tag) IN (SELECT user_id, tag FROM old_rows, unnest(tags) AS tag)
        ORDER BY c.user_id, c.tag FOR UPDATE;
        UPDATE tag_counts AS c SET count = c.count - d.n
        FROM (SELECT user_id, tag, count(*) AS n FROM old_rows, unnest(tags) AS tag GROUP BY user_id, tag) AS d
        WHERE c.user_id = d.user_id AND c.tag = d.tag;
        DELETE FROM tag_counts AS c USING (SELECT DISTINCT user_id FROM old_rows) AS d
        WHERE c.user_id = d.user_id AND c.count <= 0;
    ELSE
        PERFORM 1 FROM projects
        WHERE id IN (SELECT project_id FROM new_rows UNION SELECT project_id FROM old_rows)
        ORDER BY id FOR NO KEY UPDATE;
        UPDATE projects AS p SET active_count = p.active_count + d.active,
                                 completed_count = p.completed_count + d.completed
        FROM (SELECT project_id, sum(CASE WHEN completed THEN 0 ELSE sign END) AS active,
                     sum(CASE WHEN completed THEN sign ELSE 0 END) AS completed
              FROM (SELECT project_id, completed, 1 AS sign FROM new_rows
                    UNION ALL SELECT project_id, completed, -1 FROM old_rows) AS x
              GROUP BY project_id) AS d
        WHERE p.id = d.project_id AND (d.active <> 0 OR d.completed <> 0);
        INSERT INTO tag_counts AS c (user_id, tag, count)
        SELECT user_id, tag, sum(sign)
        FROM (SELECT user_id, tag, 1 AS sign FROM new_rows, unnest(tags) AS tag
              UNION ALL SELECT user_id, tag, -1 FROM old_rows, unnest(tags) AS tag) AS x
        GROUP BY user_id, tag HAVING sum(sign) <> 0 ORDER BY user_id, tag
        ON CONFLICT (user_id, tag) DO UPDATE SET count = c.count + EXCLUDED.count;
        DELETE FROM tag_counts AS c USING (SELECT DISTINCT user_id FROM new_rows) AS d
        WHERE c.user_id = d.user_id AND c.count <= 0;
    END IF;
    RETURN NULL;
END $$
"""

# A new parent: not the task itself or one of its descendants, and at most 4 levels in
# all (the new parent's depth plus the height of the task's own subtree). Checked under
# a per-user lock held to the end of the transaction, and with a fresh snapshot after
# taking it, so that a concurrent move that committed first is seen.
TASKS_CHECK_TREE = """
CREATE FUNCTION tasks_check_tree() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    depth integer;
    cycle boolean;
    height integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('task tree of ' || NEW.user_id::text, 0));
    WITH RECURSIVE up(id, parent_id, n) AS (
        SELECT id, parent_id, 1 FROM tasks WHERE id = NEW.parent_id AND user_id = NEW.user_id
        UNION ALL
        SELECT t.id, t.parent_id, up.n + 1 FROM tasks AS t JOIN up ON t.id = up.parent_id
        WHERE up.id <> NEW.id AND up.n < 8
    )
    SELECT count(*), coalesce(bool_or(id = NEW.id), false) INTO depth, cycle FROM up;
    IF cycle OR NEW.parent_id = NEW.id THEN
        RAISE EXCEPTION 'a task cannot be placed under itself or its own subtask'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'task_tree_cycle';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        WITH RECURSIVE down(id, n) AS (
            SELECT id, 1 FROM tasks WHERE parent_id = OLD.id
            UNION ALL
            SELECT t.id, down.n + 1 FROM tasks AS t JOIN down ON t.parent_id = down.id WHERE down.n < 8
        )
        SELECT coalesce(max(n), 0) INTO height FROM down;
    END IF;
    IF depth + 1 + height > 4 THEN
        RAISE EXCEPTION 'at most 4 levels of tasks'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'task_tree_depth';
    END IF;
    RETURN NEW;
END $$
"""

# A completed task has no open subtasks: completing a task completes its open children
# (whose own trigger goes on down), and an open task reopens its completed parent (whose
# trigger goes on up). Depth is at most 4, so the recursion is short.
TASKS_FOLLOW_COMPLETION = """
CREATE FUNCTION tasks_follow_completion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.completed THEN
        IF TG_OP = 'UPDATE' AND NOT OLD.completed THEN
            UPDATE tasks SET completed = true
            WHERE parent_id = NEW.id AND user_id = NEW.user_id AND NOT completed;
        END IF;
    ELSIF NEW.parent_id IS NOT NULL THEN
        UPDATE tasks SET completed = false WHERE id = NEW.parent_id AND user_id = NEW.user_id AND completed;
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS = (
    TASKS_BEFORE_WRITE,
    PROJECTS_BEFORE_WRITE,
    USERS_CREATE_INBOX,
    TASKS_CHECK_TREE,
    TASKS_FOLLOW_COMPLETION,
    "CREATE TRIGGER projects_before_write BEFORE INSERT OR UPDATE ON projects FOR EACH ROW "
    "EXECUTE FUNCTION projects_before_write()",
    "CREATE TRIGGER users_create_inbox AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_create_inbox()",
    "CREATE TRIGGER tasks_check_tree_insert BEFORE INSERT ON tasks FOR EACH ROW "
    "WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION tasks_check_tree()",
    "CREATE TRIGGER tasks_check_tree_update BEFORE UPDATE OF parent_id ON tasks FOR EACH ROW "
    "WHEN (NEW.parent_id IS NOT NULL AND NEW.parent_id IS DISTINCT FROM OLD.parent_id) "
    "EXECUTE FUNCTION tasks_check_tree()",
    "CREATE TRIGGER tasks_follow_completion AFTER INSERT OR UPDATE OF completed, parent_id ON tasks FOR EACH ROW "
    "EXECUTE FUNCTION tasks_follow_completion()",
)


def _initial_revision():
    path = Path(__file__).with_name("20261126_65d3a1b86e5c_users_tasks_tokens.py")
    spec = importlib.util.spec_from_file_location("initial_revision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    op.create_table('projects',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('color', sa.Text(), server_default=sa.text("'grey'"), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_inbox', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('active_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('completed_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint(f"char_length(btrim(name, {WHITESPACE})) BETWEEN 1 AND 100",
                       name=op.f('ck_projects_name_length')),
    sa.CheckConstraint(f"color IN ({COLORS})", name=op.f('ck_projects_color_valid')),
    sa.CheckConstraint('NOT (is_inbox AND archived)', name=op.f('ck_projects_inbox_not_archived')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_projects_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('id', 'user_id', name=op.f('uq_projects_id')),
    )
    op.create_index('uq_projects_user_name', 'projects', ['user_id', sa.literal_column('lower(name)')], unique=True)
    op.create_index('uq_projects_user_inbox', 'projects', ['user_id'], unique=True,
                    postgresql_where=sa.text('is_inbox'))
    op.create_index('ix_projects_user_position', 'projects', ['user_id', 'position', 'created_at'], unique=False)

    # Every user gets an Inbox; every task goes into its owner's.
    op.execute("INSERT INTO projects (user_id, name, is_inbox, position) SELECT id, 'Inbox', true, 0 FROM users")
    op.add_column('tasks', sa.Column('project_id', sa.UUID(), nullable=True))
    op.add_column('tasks', sa.Column('parent_id', sa.UUID(), nullable=True))
    op.execute("ALTER TABLE tasks DISABLE TRIGGER USER")  # a move into the Inbox is not an edit
    op.execute("UPDATE tasks AS t SET project_id = p.id FROM projects AS p WHERE p.user_id = t.user_id AND p.is_inbox")
    op.execute("ALTER TABLE tasks ENABLE TRIGGER USER")
    op.execute("""
        UPDATE projects AS p SET active_count = c.active, completed_count = c.completed
        FROM task_counts AS c WHERE c.user_id = p.user_id AND p.is_inbox
    """)
    op.alter_column('tasks', 'project_id', nullable=False)
    op.create_unique_constraint(op.f('uq_tasks_id'), 'tasks', ['id', 'project_id', 'user_id'])
    op.create_foreign_key(op.f('fk_tasks_project_id_projects'), 'tasks', 'projects',
                          ['project_id', 'user_id'], ['id', 'user_id'], ondelete='CASCADE')
    op.create_foreign_key(op.f('fk_tasks_parent_id_tasks'), 'tasks', 'tasks',
                          ['parent_id', 'project_id', 'user_id'], ['id', 'project_id', 'user_id'],
                          onupdate='CASCADE', ondelete='CASCADE')
    op.create_index('ix_tasks_parent', 'tasks', ['parent_id', 'completed'], unique=False,
                    postgresql_where=sa.text('parent_id IS NOT NULL'))
    op.create_index('ix_tasks_project_created', 'tasks', ['project_id', 'created_at', 'id'], unique=False)

    op.execute(TASKS_MAINTAIN_COUNTS)
    op.drop_table('task_counts')
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade():
    for trigger, table in (("tasks_follow_completion", "tasks"), ("tasks_check_tree_update", "tasks"),
                           ("tasks_check_tree_insert", "tasks"), ("users_create_inbox", "users"),
                           ("projects_before_write", "projects")):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in ("tasks_follow_completion", "tasks_check_tree", "users_create_inbox", "projects_before_write"):
        op.execute(f"DROP FUNCTION {function}()")

    op.create_table('task_counts',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('active', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('completed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_counts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_task_counts'))
    )
    op.execute("""
        INSERT INTO task_counts (user_id, active, completed)
        SELECT user_id, sum(active_count), sum(completed_count) FROM projects GROUP BY user_id
    """)
    # The previous revision's functions of these names, as it defined them.
    initial = _initial_revision()
    for function in (initial.TASKS_MAINTAIN_COUNTS, initial.TASKS_BEFORE_WRITE):
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))

    op.drop_index('ix_tasks_project_created', table_name='tasks')
    op.drop_index('ix_tasks_parent', table_name='tasks')
    op.drop_constraint(op.f('fk_tasks_parent_id_tasks'), 'tasks', type_='foreignkey')
    op.drop_constraint(op.f('fk_tasks_project_id_projects'), 'tasks', type_='foreignkey')
    op.drop_constraint(op.f('uq_tasks_id'), 'tasks', type_='unique')
    op.drop_column('tasks', 'parent_id')
    op.drop_column('tasks', 'project_id')
    op.drop_index('ix_projects_user_position', table_name='projects')
    op.drop_index('uq_projects_user_inbox', table_name='projects')
    op.drop_index('uq_projects_user_name', table_name='projects')
    op.drop_table('projects')
