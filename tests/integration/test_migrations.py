"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from db.migrate import current_revision, head_revision
from db.models import AuditRow, Base, GroupRow


def test_upgrade_head_matches_the_models(engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_times_come_back_aware_utc(engine) -> None:
    hanoi = timezone(timedelta(hours=7))
    written = datetime(2026, 9, 1, 17, 0, tzinfo=hanoi)
    with Session(engine) as session:
        session.add(
            AuditRow(
                at=written, actor="t", action="a", entity="e", entity_key="k", changes={"x": [1, 2]}
            )
        )
        session.commit()
    with Session(engine) as session:
        row = session.scalars(select(AuditRow)).one()
    assert row.at == written
    assert row.at.tzinfo is UTC
    assert row.at.hour == 10
    assert row.changes == {"x": [1, 2]}


def test_naive_times_are_refused(engine) -> None:
    with Session(engine) as session:
        session.add(
            AuditRow(
                at=datetime(2026, 1, 1),
                actor="t",
                action="a",
                entity="e",
                entity_key="k",
                changes={},
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_uniqueness_is_a_constraint(engine) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        session.add(GroupRow(code="AWGESC", name="a", created_at=now, updated_at=now))
        session.commit()
        session.add(GroupRow(code="AWGESC", name="b", created_at=now, updated_at=now))
        with pytest.raises(IntegrityError):
            session.commit()
