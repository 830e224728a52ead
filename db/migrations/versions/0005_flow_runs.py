"""flow_runs: every run of a flow, for /healthz and focal status

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('flow_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('runner', sa.String(length=200), nullable=True),
    sa.Column('prefect_run_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("outcome IN ('running', 'succeeded', 'partial', 'failed')", name=op.f('ck_flow_runs_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_runs'))
    )
    op.create_index('ix_flow_runs_flow_started_at', 'flow_runs', ['flow', 'started_at', 'id'], unique=False)
    op.create_index('ix_flow_runs_flow_outcome_finished_at', 'flow_runs', ['flow', 'outcome', 'finished_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_flow_runs_flow_outcome_finished_at', table_name='flow_runs')
    op.drop_index('ix_flow_runs_flow_started_at', table_name='flow_runs')
    op.drop_table('flow_runs')
