"""The calendar in the store: meetings and deadlines, speaking the domain. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.changes import Stored
from core.deadlines import parse_due_rule
from core.model import (
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from db.models import (
    DeadlineRow,
    DeadlineTargetRow,
    GroupRow,
    MeetingGroupRow,
    MeetingRow,
    PersonRow,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    meeting: Meeting
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    deadline: Deadline
    due_at: datetime
    sequence: int


def fill_meeting_row(
    row: MeetingRow, meeting: Meeting, *, starts_at: datetime, ends_at: datetime
) -> None:
    """Write ``meeting``'s own fields (not its groups, source or stamps) into ``row``."""
    row.title, row.titles, row.kind = meeting.title, dict(meeting.titles), meeting.kind.value
    row.all_day, row.start_local, row.end_local = meeting.all_day, meeting.start, meeting.end
    row.timezone, row.starts_at, row.ends_at = meeting.timezone, starts_at, ends_at
    row.venue, row.host_country = meeting.venue, meeting.host_country
    row.status, row.notes = meeting.status.value, meeting.notes


def meeting_from_row(row: MeetingRow) -> Meeting:
    return Meeting(
        code=row.code,
        title=row.title,
        kind=MeetingKind(row.kind),
        start=row.start_local,
        end=row.end_local,
        timezone=row.timezone,
        all_day=row.all_day,
        titles=dict(row.titles),
        venue=row.venue,
        host_country=row.host_country,
        groups=tuple(g.code for g in row.groups),
        status=MeetingStatus(row.status),
        notes=row.notes,
    )


def _deadline(row: DeadlineRow) -> Deadline:
    targets = sorted(
        (t.group.code if t.group else t.person.handle if t.person else "") for t in row.targets
    )
    return Deadline(
        code=row.code,
        title=row.title,
        kind=DeadlineKind(row.kind),
        due=parse_due_rule(row.due_rule),
        meeting=row.meeting.code if row.meeting else None,
        timezone=row.timezone,
        assign=tuple(targets),
        titles=dict(row.titles),
        notes=row.notes,
    )


class CalendarRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def meetings(self) -> dict[str, Stored[MeetingRecord]]:
        rows = self.session.scalars(select(MeetingRow).order_by(MeetingRow.starts_at))
        return {
            r.code: Stored(
                MeetingRecord(meeting_from_row(r), r.uid, r.sequence, r.starts_at, r.ends_at),
                r.source,
                r.removed_at is not None,
            )
            for r in rows
        }

    def deadlines(self) -> dict[str, Stored[DeadlineRecord]]:
        rows = self.session.scalars(select(DeadlineRow).order_by(DeadlineRow.due_at)).unique()
        return {
            r.code: Stored(
                DeadlineRecord(_deadline(r), r.due_at, r.sequence),
                r.source,
                r.removed_at is not None,
            )
            for r in rows
        }

    def deadline(self, code: str) -> Stored[DeadlineRecord] | None:
        """One deadline by its code, matched without regard to case (codes are unique).

        Read as columns, its targets in a second query: a ``DeadlineRow`` would load its
        meeting's and its targets' groups, and every member of them."""
        row = self.session.execute(
            select(
                DeadlineRow.id,
                DeadlineRow.code,
                DeadlineRow.title,
                DeadlineRow.kind,
                DeadlineRow.due_rule,
                MeetingRow.code,
                DeadlineRow.timezone,
                DeadlineRow.titles,
                DeadlineRow.notes,
                DeadlineRow.due_at,
                DeadlineRow.sequence,
                DeadlineRow.source,
                DeadlineRow.removed_at,
            )
            .outerjoin(MeetingRow, DeadlineRow.meeting_id == MeetingRow.id)
            .where(func.lower(DeadlineRow.code) == code.lower())
            .order_by(DeadlineRow.id)
        ).first()
        if row is None:
            return None
        deadline_id, code, title, kind, due_rule, meeting, timezone, titles, notes = row[:9]
        due_at, sequence, source, removed_at = row[9:]
        targets = self.session.execute(
            select(GroupRow.code, PersonRow.handle)
            .select_from(DeadlineTargetRow)
            .outerjoin(GroupRow, DeadlineTargetRow.group_id == GroupRow.id)
            .outerjoin(PersonRow, DeadlineTargetRow.person_id == PersonRow.id)
            .where(DeadlineTargetRow.deadline_id == deadline_id)
        ).all()
        deadline = Deadline(
            code=code,
            title=title,
            kind=DeadlineKind(kind),
            due=parse_due_rule(due_rule),
            meeting=meeting,
            timezone=timezone,
            assign=tuple(sorted(group or person or "" for group, person in targets)),
            titles=dict(titles),
            notes=notes,
        )
        return Stored(DeadlineRecord(deadline, due_at, sequence), source, removed_at is not None)

    def meeting(self, code: str) -> Stored[MeetingRecord] | None:
        """One meeting by its code; as columns, its groups' codes in a second query."""
        row = self.session.execute(
            select(
                MeetingRow.id,
                MeetingRow.code,
                MeetingRow.title,
                MeetingRow.kind,
                MeetingRow.start_local,
                MeetingRow.end_local,
                MeetingRow.timezone,
                MeetingRow.all_day,
                MeetingRow.titles,
                MeetingRow.venue,
                MeetingRow.host_country,
                MeetingRow.status,
                MeetingRow.notes,
                MeetingRow.uid,
                MeetingRow.sequence,
                MeetingRow.starts_at,
                MeetingRow.ends_at,
                MeetingRow.source,
                MeetingRow.removed_at,
            ).where(MeetingRow.code == code)
        ).first()
        if row is None:
            return None
        meeting_id, code, title, kind, start, end, timezone, all_day, titles = row[:9]
        venue, host_country, status, notes, uid, sequence, starts_at, ends_at = row[9:17]
        source, removed_at = row[17:]
        groups = self.session.scalars(
            select(GroupRow.code)
            .join(MeetingGroupRow, MeetingGroupRow.group_id == GroupRow.id)
            .where(MeetingGroupRow.meeting_id == meeting_id)
            .order_by(GroupRow.code)
        ).all()
        meeting = Meeting(
            code=code,
            title=title,
            kind=MeetingKind(kind),
            start=start,
            end=end,
            timezone=timezone,
            all_day=all_day,
            titles=dict(titles),
            venue=venue,
            host_country=host_country,
            groups=tuple(groups),
            status=MeetingStatus(status),
            notes=notes,
        )
        record = MeetingRecord(meeting, uid, sequence, starts_at, ends_at)
        return Stored(record, source, removed_at is not None)

    def save_meeting(
        self,
        meeting: Meeting,
        *,
        uid: str,
        starts_at: datetime,
        ends_at: datetime,
        source: str | None,
        bump_sequence: bool,
        now: datetime,
    ) -> None:
        row = self.session.scalar(select(MeetingRow).where(MeetingRow.code == meeting.code))
        if row is None:
            row = MeetingRow(
                code=meeting.code, uid=uid, recurrence_id="", sequence=0, created_at=now
            )
        elif bump_sequence:
            row.sequence += 1
        fill_meeting_row(row, meeting, starts_at=starts_at, ends_at=ends_at)
        row.groups = list(
            self.session.scalars(
                select(GroupRow).where(GroupRow.code.in_(meeting.groups)).order_by(GroupRow.code)
            )
        )
        row.source, row.removed_at, row.updated_at = source, None, now
        self.session.add(row)

    def remove_meeting(self, code: str, *, now: datetime) -> None:
        row = self.session.scalar(select(MeetingRow).where(MeetingRow.code == code))
        if row is not None:
            row.removed_at = row.updated_at = now

    def save_deadline(
        self,
        deadline: Deadline,
        *,
        due_at: datetime,
        source: str | None,
        bump_sequence: bool,
        now: datetime,
    ) -> None:
        row = self.session.scalar(select(DeadlineRow).where(DeadlineRow.code == deadline.code))
        if row is None:
            row = DeadlineRow(code=deadline.code, sequence=0, created_at=now, targets=[])
        elif bump_sequence:
            row.sequence += 1
        row.title, row.titles, row.kind = deadline.title, dict(deadline.titles), deadline.kind.value
        row.due_rule, row.timezone, row.due_at = str(deadline.due), deadline.timezone, due_at
        row.notes = deadline.notes
        row.meeting = (
            self.session.scalar(select(MeetingRow).where(MeetingRow.code == deadline.meeting))
            if deadline.meeting
            else None
        )
        groups = {g.code: g for g in self.session.scalars(select(GroupRow)).unique()}
        people = {p.handle: p for p in self.session.scalars(select(PersonRow))}
        current = {
            (t.group.code if t.group else t.person.handle if t.person else ""): t
            for t in row.targets
        }
        for key, target in current.items():
            if key not in deadline.assign:
                row.targets.remove(target)
        for key in deadline.assign:
            if key not in current:
                group = groups.get(key)
                person = None if group is not None else people[key]
                row.targets.append(DeadlineTargetRow(group=group, person=person))
        row.source, row.removed_at, row.updated_at = source, None, now
        self.session.add(row)

    def set_due(self, code: str, due_at: datetime, *, now: datetime) -> None:
        row = self.session.scalar(select(DeadlineRow).where(DeadlineRow.code == code))
        if row is not None and row.due_at != due_at:
            row.due_at, row.sequence, row.updated_at = due_at, row.sequence + 1, now

    def remove_deadline(self, code: str, *, now: datetime) -> None:
        row = self.session.scalar(select(DeadlineRow).where(DeadlineRow.code == code))
        if row is not None:
            row.removed_at = row.updated_at = now
