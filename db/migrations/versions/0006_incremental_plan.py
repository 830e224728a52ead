"""reminders: each deadline's planning fingerprint; the index on person_id alone dropped

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 23:59:00

``ix_reminders_person_id`` is redundant: ``ix_reminders_person_id_state`` starts with the same
column, and every index costs each of the hundred thousand rows a plan inserts.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'reminder_plan_deadlines',
        sa.Column('deadline_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ['deadline_id'],
            ['deadlines.id'],
            name=op.f('fk_reminder_plan_deadlines_deadline_id_deadlines'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('deadline_id', name=op.f('pk_reminder_plan_deadlines')),
    )
    # not through batch_alter_table: on SQLite that rebuilds the table (and drops its triggers)
    op.drop_index('ix_reminders_person_id', table_name='reminders')


def downgrade() -> None:
    op.create_index('ix_reminders_person_id', 'reminders', ['person_id'], unique=False)
    op.drop_table('reminder_plan_deadlines')
