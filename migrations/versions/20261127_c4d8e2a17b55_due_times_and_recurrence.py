"""Due times, recurring tasks and their completions.

Revision ID: c4d8e2a17b55
Revises: b7e2c41f9a30
Create Date: 2026-11-27 19:45:00

- tasks.due_time (only with a due date), read in the owner's time zone.
- tasks.recurrence_rule / recurrence_anchor / recurrence_mode: an RRULE of the subset
  (COUNT kept as UNTIL), the series' first date and `due` or `completion`; all three
  or none, and only with a due date.
- task_completions: one row per completed occurrence of a recurring task (when, which
  due date, and the anchor before it, so that "Undo" can restore both).
- The due sort's index leads with one timestamp per task: its due date and time, a day
  without a time just before that day's first minute (so each day's tasks without a
  time come before its timed ones), no date last.
- users.calendar_nonce / calendar_feed_hash: the calendar feed's secret URL is made from
  the nonce and the app's SECRET_KEY; only its hash is kept, to find the user by it.
Existing tasks keep every value: the new columns are empty.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c4d8e2a17b55'
down_revision = 'b7e2c41f9a30'
branch_labels = None
depends_on = None

DUE_KEY = ("coalesce(due_date + due_time, due_date - '00:00:00.000001'::interval, "
           "'infinity'::timestamp without time zone)")


def upgrade():
    op.add_column('tasks', sa.Column('due_time', sa.Time(), nullable=True))
    op.add_column('tasks', sa.Column('recurrence_rule', sa.Text(), nullable=True))
    op.add_column('tasks', sa.Column('recurrence_anchor', sa.Date(), nullable=True))
    op.add_column('tasks', sa.Column('recurrence_mode', sa.Text(), nullable=True))
    op.create_check_constraint(op.f('ck_tasks_due_time_needs_date'), 'tasks',
                               'due_time IS NULL OR due_date IS NOT NULL')
    op.create_check_constraint(op.f('ck_tasks_recurrence_whole'), 'tasks',
                               '(recurrence_rule IS NULL) = (recurrence_anchor IS NULL) '
                               'AND (recurrence_rule IS NULL) = (recurrence_mode IS NULL)')
    op.create_check_constraint(op.f('ck_tasks_recurrence_needs_date'), 'tasks',
                               'recurrence_rule IS NULL OR due_date IS NOT NULL')
    op.create_check_constraint(op.f('ck_tasks_recurrence_mode_valid'), 'tasks',
                               "recurrence_mode IN ('due', 'completion')")
    op.create_check_constraint(op.f('ck_tasks_recurrence_rule_length'), 'tasks',
                               'char_length(recurrence_rule) <= 300')
    op.drop_index('ix_tasks_user_due', table_name='tasks')
    op.create_index('ix_tasks_user_due', 'tasks', ['user_id', sa.literal_column(DUE_KEY), 'created_at', 'id'])

    op.create_table('task_completions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('anchor', sa.Date(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_completions_task_id_tasks'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_completions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_completions')),
    )
    op.create_index('ix_task_completions_task', 'task_completions', ['task_id', 'completed_at'])

    op.add_column('users', sa.Column('calendar_nonce', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('calendar_feed_hash', sa.Text(), nullable=True))
    op.create_index('uq_users_calendar_feed_hash', 'users', ['calendar_feed_hash'], unique=True)


def downgrade():
    op.drop_index('uq_users_calendar_feed_hash', table_name='users')
    op.drop_column('users', 'calendar_feed_hash')
    op.drop_column('users', 'calendar_nonce')
    op.drop_index('ix_task_completions_task', table_name='task_completions')
    op.drop_table('task_completions')
    op.drop_index('ix_tasks_user_due', table_name='tasks')
    op.create_index('ix_tasks_user_due', 'tasks', ['user_id', sa.literal_column("coalesce(due_date, 'infinity'::date)"),
                                                   'created_at', 'id'])
    for name in ('recurrence_rule_length', 'recurrence_mode_valid', 'recurrence_needs_date', 'recurrence_whole',
                 'due_time_needs_date'):
        op.drop_constraint(op.f(f'ck_tasks_{name}'), 'tasks', type_='check')
    for column in ('recurrence_mode', 'recurrence_anchor', 'recurrence_rule', 'due_time'):
        op.drop_column('tasks', column)
