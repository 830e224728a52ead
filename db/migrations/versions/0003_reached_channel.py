"""people: where the last message landed (reached_channel, reached_as)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:05:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached_channel', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reached_as', sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('reached_as')
        batch_op.drop_column('reached_channel')
