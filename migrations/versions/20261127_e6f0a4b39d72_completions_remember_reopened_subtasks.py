"""A completion of a recurring task remembers the subtasks it reopened.

Revision ID: e6f0a4b39d72
Revises: d5e9f3a28c61
Create Date: 2026-11-27 22:50:00

- task_completions.reopened: the ids of the done subtasks that completing the occurrence
  reopened (for the next time), so that "Undo" completes them again. Completions recorded
  before have none: undoing one of them reopens nothing, as before.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e6f0a4b39d72'
down_revision = 'd5e9f3a28c61'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('task_completions', sa.Column('reopened', postgresql.ARRAY(postgresql.UUID(as_uuid=True)),
                                                server_default=sa.text("'{}'::uuid[]"), nullable=False))


def downgrade():
    op.drop_column('task_completions', 'reopened')
