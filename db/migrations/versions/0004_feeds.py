"""calendar feeds: event sequences, feed stamps, one active token a person, the data version

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:30:00

``data_version`` counts committed changes to what the feeds show. Triggers keep it, on every
table a feed reads, so that every writer (loads, submissions, reviews, imports, hand-made SQL)
moves it without knowing about feeds. On SQLite a table rebuilt by a later migration
(``batch_alter_table`` with a column change) loses its triggers: such a migration must call
``create_data_version_triggers`` again (``tests/integration/test_feed_store.py`` checks).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables a feed reads, and (for people) the columns it shows.
WATCHED = {
    'meetings': None,
    'meeting_groups': None,
    'deadlines': None,
    'deadline_targets': None,
    'assignments': None,
    'submissions': None,
    'groups': None,
    'memberships': None,
    'coordinators': None,
    'people': ('name', 'timezone', 'language', 'removed_at'),
}
_BUMP = (
    'INSERT INTO data_version (id, n) VALUES (1, 1)'
    ' ON CONFLICT (id) DO UPDATE SET n = data_version.n + 1'
)


def create_data_version_triggers(tables: Sequence[str] = tuple(WATCHED)) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'CREATE OR REPLACE FUNCTION focal_bump_data_version() RETURNS trigger'
            f' LANGUAGE plpgsql AS $$ BEGIN {_BUMP}; RETURN NULL; END $$'
        )
        for table in tables:
            columns = WATCHED[table]
            update = f'UPDATE OF {", ".join(columns)}' if columns else 'UPDATE'
            op.execute(f'DROP TRIGGER IF EXISTS data_version_{table} ON {table}')
            op.execute(
                f'CREATE TRIGGER data_version_{table} AFTER INSERT OR {update} OR DELETE'
                f' ON {table} FOR EACH STATEMENT EXECUTE FUNCTION focal_bump_data_version()'
            )
        return
    for table in tables:
        columns = WATCHED[table]
        update = f'UPDATE OF {", ".join(columns)}' if columns else 'UPDATE'
        for name, event in (('insert', 'INSERT'), ('update', update), ('delete', 'DELETE')):
            op.execute(f'DROP TRIGGER IF EXISTS data_version_{table}_{name}')
            op.execute(
                f'CREATE TRIGGER data_version_{table}_{name} AFTER {event} ON {table}'
                f' FOR EACH ROW BEGIN {_BUMP}; END'
            )


def drop_data_version_triggers() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in WATCHED:
        if postgres:
            op.execute(f'DROP TRIGGER IF EXISTS data_version_{table} ON {table}')
        else:
            for name in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER IF EXISTS data_version_{table}_{name}')
    if postgres:
        op.execute('DROP FUNCTION IF EXISTS focal_bump_data_version()')


def upgrade() -> None:
    op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    op.create_table('feed_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('uid', sa.String(length=500), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('changed_at', db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('sequence >= 0', name=op.f('ck_feed_events_sequence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_events')),
    sa.UniqueConstraint('scope', 'uid', name=op.f('uq_feed_events_scope_uid'))
    )
    op.create_table('feed_stamps',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('stamp', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_feed_stamps'))
    )
    # a person had at most one token until now; keep the newest if a hand-made one slipped in
    op.execute(
        'UPDATE feed_tokens SET revoked_at = created_at WHERE revoked_at IS NULL AND id NOT IN'
        ' (SELECT max(id) FROM feed_tokens WHERE revoked_at IS NULL GROUP BY person_id)'
    )
    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.create_index(
            'uq_feed_tokens_active_person',
            ['person_id'],
            unique=True,
            sqlite_where=sa.text('revoked_at IS NULL'),
            postgresql_where=sa.text('revoked_at IS NULL'),
        )
    op.execute('INSERT INTO data_version (id, n) VALUES (1, 0)')
    create_data_version_triggers()


def downgrade() -> None:
    drop_data_version_triggers()
    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.drop_index('uq_feed_tokens_active_person')
    op.drop_table('feed_stamps')
    op.drop_table('feed_events')
    op.drop_table('data_version')
