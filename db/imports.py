"""Meetings imported from other calendars, found by UID and RECURRENCE-ID. Never commits.

A calendar export can hold thousands of instances: the rows of one import are read with a
few ``IN (...)`` queries and kept for the rest of the unit of work, so saving them costs no
query per meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.model import MeetingStatus
from db.calendar import fill_meeting_row
from db.models import GroupRow, MeetingRow
from db.repositories import meeting_from_row

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

    from core.model import Meeting

_CHUNK = 500  # values per IN (...) list: well under every backend's parameter limit

Key = tuple[str, str]  # (uid, recurrence_id)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass(frozen=True, slots=True)
class ImportedRecord:
    """A stored meeting as an import sees it."""

    meeting: Meeting
    source: str | None
    removed: bool
    starts_at: datetime


class ImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[Key, MeetingRow] = {}
        self._groups: dict[str, GroupRow] | None = None

    def _remember(self, rows: Iterable[MeetingRow]) -> dict[Key, ImportedRecord]:
        out = {}
        for row in rows:
            key = (row.uid, row.recurrence_id)
            self._rows[key] = row
            out[key] = ImportedRecord(
                meeting_from_row(row), row.source, row.removed_at is not None, row.starts_at
            )
        return out

    def by_uid(self, uids: Collection[str]) -> dict[Key, ImportedRecord]:
        """Every stored meeting (every instance) with one of these UIDs."""
        out: dict[Key, ImportedRecord] = {}
        for chunk in _chunks(sorted(uids)):
            out |= self._remember(
                self.session.scalars(select(MeetingRow).where(MeetingRow.uid.in_(chunk)))
            )
        return out

    def of_source(
        self, source: str, *, start: datetime, end: datetime
    ) -> dict[Key, ImportedRecord]:
        """The meetings this source gave that start in ``[start, end)``, cancelled or not."""
        rows = self.session.scalars(
            select(MeetingRow).where(
                MeetingRow.source == source,
                MeetingRow.starts_at >= start,
                MeetingRow.starts_at < end,
            )
        )
        return self._remember(rows)

    def _group_rows(self) -> dict[str, GroupRow]:
        if self._groups is None:
            rows = self.session.scalars(select(GroupRow)).unique()
            self._groups = {r.code: r for r in rows}
        return self._groups

    def save(
        self,
        meeting: Meeting,
        *,
        uid: str,
        recurrence_id: str,
        starts_at: datetime,
        ends_at: datetime,
        source: str,
        bump_sequence: bool,
        now: datetime,
    ) -> None:
        key = (uid, recurrence_id)
        row = self._rows.get(key)
        groups = self._group_rows() if meeting.groups else {}
        if row is None:
            row = MeetingRow(
                code=meeting.code,
                uid=uid,
                recurrence_id=recurrence_id,
                sequence=0,
                created_at=now,
                groups=[],
            )
            self._rows[key] = row
        elif bump_sequence:
            row.sequence += 1
        fill_meeting_row(row, meeting, starts_at=starts_at, ends_at=ends_at)
        if tuple(g.code for g in row.groups) != meeting.groups:
            row.groups = [groups[code] for code in meeting.groups]
        row.source, row.removed_at, row.updated_at = source, None, now
        self.session.add(row)

    def cancel(self, key: Key, *, now: datetime) -> None:
        """Gone from its source: kept (deadlines may hang off it), cancelled, sequence raised."""
        row = self._rows[key]
        if row.status != MeetingStatus.CANCELLED.value:
            row.status, row.sequence, row.updated_at = (
                MeetingStatus.CANCELLED.value,
                row.sequence + 1,
                now,
            )
