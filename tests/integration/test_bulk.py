"""Bulk inserts bypass SQLAlchemy's per-value types: what they store must read back the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import select

from core.model import ReminderState
from db.bulk import UTCReader, insert_ignoring, raw
from db.models import PersonRow, ReminderRow
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Table

    from db.uow import SqlAlchemyUnitOfWork

COLUMNS = (
    "key",
    "person_id",
    "kind",
    "planned_at",
    "due_at",
    "state",
    "attempts",
    "created_at",
    "updated_at",
)
TABLE = cast("Table", ReminderRow.__table__)
HANOI = timezone(timedelta(hours=7))


def _row(key: str, person: int, at: datetime) -> tuple[object, ...]:
    return (key, person, "before", at, at + timedelta(days=1), "planned", 0, at, at)


def test_rows_read_back_as_the_orm_writes_them(
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    with make_uow() as uow:
        person = uow.session.scalar(select(PersonRow.id).limit(1))
        assert person is not None
        local = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=HANOI)  # microseconds kept
        rows = [_row(f"k{i}", person, local + timedelta(hours=i)) for i in range(12_000)]
        insert_ignoring(uow.session.connection(), TABLE, COLUMNS, rows, key="key")
        # the same keys again, with other values: skipped, not updated, no error
        again = [_row(f"k{i}", person, local - timedelta(days=9)) for i in range(0, 12_000, 7)]
        insert_ignoring(uow.session.connection(), TABLE, COLUMNS, again, key="key")
        uow.commit()
    with make_uow() as uow:
        stored = uow.session.scalars(select(ReminderRow).order_by(ReminderRow.id)).all()
        assert len(stored) == 12_000
        first, last = stored[0], stored[-1]
        assert first.key == "k0"
        assert first.planned_at == local.astimezone(UTC)
        assert first.planned_at.tzinfo is UTC
        assert last.due_at == local + timedelta(hours=11_999, days=1)
        assert first.state == ReminderState.PLANNED
        # the ORM's own filters see the values as instants
        count = uow.session.scalar(
            select(ReminderRow.id).where(ReminderRow.planned_at == local.astimezone(UTC))
        )
        assert count == first.id
        # read back raw, each distinct value converted once: the same instants as the ORM's
        utc = UTCReader()
        raw_rows = uow.session.execute(
            select(ReminderRow.key, raw(ReminderRow.planned_at), raw(ReminderRow.due_at))
        ).all()
        by_key = {r.key: r for r in stored}
        assert len(raw_rows) == 12_000
        for key, planned_at, due_at in raw_rows:
            assert (utc[planned_at], utc[due_at]) == (by_key[key].planned_at, by_key[key].due_at)
        assert utc[raw_rows[0][1]].tzinfo is UTC
        with pytest.raises(TypeError, match="not a stored UTC instant"):
            _ = utc[None]


def test_naive_times_are_refused(make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    with make_uow() as uow:
        rows = [_row("naive", 1, datetime(2026, 3, 2, 9))]
        with pytest.raises(ValueError, match="naive datetime"):
            insert_ignoring(uow.session.connection(), TABLE, COLUMNS, rows, key="key")
