"""Sign-ins kept on the server; idempotency keys hold the task's id, not its text.

Revision ID: 2fa59d9ebef4
Revises: 65d3a1b86e5c
Create Date: 2026-11-27 12:40:00

- sign_ins: one row per signed-in browser, checked by the same query that loads the
  user, so that signing out (or a password change) ends a session on the server.
  users.session_epoch, which it replaces, is dropped: sessions made before this
  revision end, and their users sign in again.
- idempotency_keys: the stored first answer (which held the task's title and
  description) becomes a reference to the task, set to null when the task is
  deleted. Existing keys are kept, pointing at the task their answer named.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '2fa59d9ebef4'
down_revision = '65d3a1b86e5c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_ins',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('authenticated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('user_agent', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('remember', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint('char_length(user_agent) <= 512', name=op.f('ck_sign_ins_user_agent_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_ins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ins'))
    )
    op.create_index(op.f('ix_sign_ins_user_id'), 'sign_ins', ['user_id'], unique=False)
    op.drop_column('users', 'session_epoch')

    op.add_column('idempotency_keys', sa.Column('task_id', sa.UUID(), nullable=True))
    op.execute("""
        UPDATE idempotency_keys AS k SET task_id = t.id
        FROM tasks AS t
        WHERE t.user_id = k.user_id AND t.id::text = k.response_body->>'id'
    """)
    op.create_foreign_key(op.f('fk_idempotency_keys_task_id_tasks'), 'idempotency_keys', 'tasks',
                          ['task_id'], ['id'], ondelete='SET NULL')
    op.create_index(op.f('ix_idempotency_keys_task_id'), 'idempotency_keys', ['task_id'], unique=False)
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], unique=False)
    op.drop_column('idempotency_keys', 'response_body')
    op.drop_column('idempotency_keys', 'status_code')


def downgrade():
    op.add_column('idempotency_keys', sa.Column('status_code', sa.SmallInteger(), nullable=True))
    op.add_column('idempotency_keys', sa.Column('response_body', sa.dialects.postgresql.JSONB(), nullable=True))
    # The previous revision replays a stored answer: rebuild it from the task, in its JSON shape.
    op.execute("""
        UPDATE idempotency_keys AS k SET status_code = 201, response_body = jsonb_build_object(
            'id', t.id, 'title', t.title, 'description', t.description, 'completed', t.completed,
            'completed_at', t.completed_at, 'due_date', t.due_date, 'priority', t.priority,
            'tags', to_jsonb(t.tags), 'version', t.version, 'created_at', t.created_at,
            'updated_at', t.updated_at)
        FROM tasks AS t WHERE t.id = k.task_id
    """)
    op.execute("DELETE FROM idempotency_keys WHERE response_body IS NULL")
    op.alter_column('idempotency_keys', 'status_code', nullable=False)
    op.alter_column('idempotency_keys', 'response_body', nullable=False)
    op.drop_index('ix_idempotency_keys_created_at', table_name='idempotency_keys')
    op.drop_index(op.f('ix_idempotency_keys_task_id'), table_name='idempotency_keys')
    op.drop_constraint(op.f('fk_idempotency_keys_task_id_tasks'), 'idempotency_keys', type_='foreignkey')
    op.drop_column('idempotency_keys', 'task_id')

    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.drop_index(op.f('ix_sign_ins_user_id'), table_name='sign_ins')
    op.drop_table('sign_ins')
