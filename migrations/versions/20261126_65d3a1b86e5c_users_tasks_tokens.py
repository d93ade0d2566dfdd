"""Users, tasks, API tokens, idempotency keys; counters and timestamps kept by triggers.

Revision ID: 65d3a1b86e5c
Revises:
Create Date: 2026-11-26 06:51:27.936247

Only core PostgreSQL (no extensions): it must run on the embedded server and on Neon.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '65d3a1b86e5c'
down_revision = None
branch_labels = None
depends_on = None


# updated_at uses clock_timestamp(): now() is fixed for the whole transaction, so two
# updates in one transaction would otherwise leave updated_at where it was.
SET_UPDATED_AT = """
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END $$
"""

# Every write to a task, raw SQL included: version moves on each UPDATE, and
# completed_at follows completed.
TASKS_BEFORE_WRITE = """
CREATE FUNCTION tasks_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := clock_timestamp();
        NEW.version := OLD.version + 1;
        IF NEW.completed AND NOT OLD.completed THEN
            NEW.completed_at := clock_timestamp();
        END IF;
    ELSIF NEW.completed AND NEW.completed_at IS NULL THEN
        NEW.completed_at := clock_timestamp();
    END IF;
    IF NOT NEW.completed THEN
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END $$
"""

# Counts shown on every page come from task_counts and tag_counts, kept here once per
# statement (transition tables), so "clear completed" on 50,000 tasks is one update
# per user and tag, not 50,000. Rows are locked in key order to avoid deadlocks.
TASKS_MAINTAIN_COUNTS = """
CREATE FUNCTION tasks_maintain_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_counts AS c (user_id, active, completed)
        SELECT user_id, count(*) FILTER (WHERE NOT completed), count(*) FILTER (WHERE completed)
        FROM new_rows GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE
            SET active = c.active + EXCLUDED.active, completed = c.completed + EXCLUDED.completed;
        INSERT INTO tag_counts AS c (user_id, tag, count)
        SELECT user_id, tag, count(*) FROM new_rows, unnest(tags) AS tag
        GROUP BY user_id, tag ORDER BY user_id, tag
        ON CONFLICT (user_id, tag) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE task_counts AS c SET active = c.active - d.active, completed = c.completed - d.completed
        FROM (SELECT user_id, count(*) FILTER (WHERE NOT completed) AS active,
                     count(*) FILTER (WHERE completed) AS completed
              FROM old_rows GROUP BY user_id) AS d
        WHERE c.user_id = d.user_id;
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
        INSERT INTO task_counts AS c (user_id, active, completed)
        SELECT user_id, sum(CASE WHEN completed THEN 0 ELSE sign END), sum(CASE WHEN completed THEN sign ELSE 0 END)
        FROM (SELECT user_id, completed, 1 AS sign FROM new_rows
              UNION ALL SELECT user_id, completed, -1 FROM old_rows) AS x
        GROUP BY user_id
        HAVING sum(CASE WHEN completed THEN 0 ELSE sign END) <> 0 OR sum(CASE WHEN completed THEN sign ELSE 0 END) <> 0
        ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE
            SET active = c.active + EXCLUDED.active, completed = c.completed + EXCLUDED.completed;
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

TRIGGERS = (
    SET_UPDATED_AT,
    TASKS_BEFORE_WRITE,
    TASKS_MAINTAIN_COUNTS,
    "CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
    "CREATE TRIGGER tasks_before_update BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW "
    "EXECUTE FUNCTION tasks_before_write()",
    "CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION tasks_maintain_counts()",
    "CREATE TRIGGER tasks_counts_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_maintain_counts()",
    "CREATE TRIGGER tasks_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION tasks_maintain_counts()",
)


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('timezone', sa.Text(), server_default=sa.text("'UTC'"), nullable=False),
    sa.Column('session_epoch', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('email = lower(btrim(email))', name=op.f('ck_users_email_normalised')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('uq_users_email_lower', [sa.literal_column('lower(email)')], unique=True)

    op.create_table('api_tokens',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), server_default=sa.text("'write'"), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("scope IN ('read', 'write')", name=op.f('ck_api_tokens_scope_valid')),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 100', name=op.f('ck_api_tokens_name_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('tag_counts',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('tag', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tag_counts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'tag', name=op.f('pk_tag_counts'))
    )
    op.create_table('task_counts',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('active', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('completed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_counts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_task_counts'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('completed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('priority', sa.Text(), server_default=sa.text("'none'"), nullable=False),
    sa.Column('priority_rank', sa.SmallInteger(), sa.Computed("CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END", persisted=True), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple'::regconfig, title || ' ' || coalesce(description, ''))", persisted=True), nullable=False),
    sa.CheckConstraint("priority IN ('none', 'low', 'medium', 'high')", name=op.f('ck_tasks_priority_valid')),
    sa.CheckConstraint('cardinality(tags) <= 10', name=op.f('ck_tasks_tags_count')),
    sa.CheckConstraint('char_length(btrim(title)) BETWEEN 1 AND 255', name=op.f('ck_tasks_title_length')),
    sa.CheckConstraint('char_length(description) <= 10000', name=op.f('ck_tasks_description_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tasks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_search', ['search_vector'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_tasks_tags', ['tags'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_tasks_user_completed_created', ['user_id', 'completed', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_user_created', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_user_due', ['user_id', sa.literal_column("coalesce(due_date, 'infinity'::date)"), 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_user_priority', ['user_id', 'priority_rank', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_user_title', ['user_id', sa.literal_column('lower(title)'), 'id'], unique=False)

    for statement in TRIGGERS:
        op.execute(statement)



def downgrade():
    op.execute("DROP TRIGGER IF EXISTS tasks_counts_delete ON tasks")
    op.execute("DROP TRIGGER IF EXISTS tasks_counts_update ON tasks")
    op.execute("DROP TRIGGER IF EXISTS tasks_counts_insert ON tasks")
    op.execute("DROP TRIGGER IF EXISTS tasks_before_update ON tasks")
    op.execute("DROP TRIGGER IF EXISTS users_set_updated_at ON users")
    op.execute("DROP FUNCTION IF EXISTS tasks_maintain_counts()")
    op.execute("DROP FUNCTION IF EXISTS tasks_before_write()")
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_user_title')
        batch_op.drop_index('ix_tasks_user_priority')
        batch_op.drop_index('ix_tasks_user_due')
        batch_op.drop_index('ix_tasks_user_created')
        batch_op.drop_index('ix_tasks_user_completed_created')
        batch_op.drop_index('ix_tasks_tags', postgresql_using='gin')
        batch_op.drop_index('ix_tasks_search', postgresql_using='gin')

    op.drop_table('tasks')
    op.drop_table('task_counts')
    op.drop_table('tag_counts')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_email_lower')

    op.drop_table('users')
