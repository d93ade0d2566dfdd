"""Imported tasks remember where they came from.

Revision ID: d5e9f3a28c61
Revises: c4d8e2a17b55
Create Date: 2026-11-27 22:00:00

- tasks.import_key: the format and the source's id of an imported task (or, where the
  source has no ids, a digest of its line's content and place), so that importing the
  same file again creates nothing new. Unique per user; null for tasks made here.
Existing tasks keep every value: the new column is empty.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd5e9f3a28c61'
down_revision = 'c4d8e2a17b55'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tasks', sa.Column('import_key', sa.Text(), nullable=True))
    op.create_check_constraint(op.f('ck_tasks_import_key_length'), 'tasks', 'char_length(import_key) <= 200')
    op.create_index('uq_tasks_user_import_key', 'tasks', ['user_id', 'import_key'], unique=True,
                    postgresql_where=sa.text('import_key IS NOT NULL'))


def downgrade():
    op.drop_index('uq_tasks_user_import_key', table_name='tasks')
    op.drop_constraint(op.f('ck_tasks_import_key_length'), 'tasks', type_='check')
    op.drop_column('tasks', 'import_key')
