"""Titles: "not blank" in Unicode whitespace, the same as the service's rule.

Revision ID: 6063131dcbc8
Revises: 2fa59d9ebef4
Create Date: 2026-11-27 15:20:00

The CHECK used btrim(title), which trims spaces only, so a title of tabs or U+0085
(NEL) passed it. It now trims the whitespace the service trims (Unicode White_Space
and U+FEFF, spelled out below as it is in myapp/services/validation.py today). Rows
that would break it are repaired first: a title that is only whitespace becomes
"Untitled task".
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '6063131dcbc8'
down_revision = '2fa59d9ebef4'
branch_labels = None
depends_on = None

WHITESPACE = (r"U&'\0020\0009\000A\000B\000C\000D\0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009"
              r"\200A\2028\2029\202F\205F\3000\FEFF'")


def upgrade():
    op.execute(f"UPDATE tasks SET title = 'Untitled task' WHERE char_length(btrim(title, {WHITESPACE})) = 0")
    op.drop_constraint(op.f('ck_tasks_title_length'), 'tasks', type_='check')
    op.create_check_constraint(op.f('ck_tasks_title_length'), 'tasks',
                               f"char_length(btrim(title, {WHITESPACE})) BETWEEN 1 AND 255")


def downgrade():
    op.drop_constraint(op.f('ck_tasks_title_length'), 'tasks', type_='check')
    op.create_check_constraint(op.f('ck_tasks_title_length'), 'tasks', "char_length(btrim(title)) BETWEEN 1 AND 255")
