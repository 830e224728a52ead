"""What the calendar feeds read and keep: tokens, their owners, events, sequences, stamps.

Reads select columns, not ORM objects: a group's feed can hold ten thousand events. Never commits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.feed_state import Owed
from core.model import MeetingStatus, SubmissionStatus
from db.models import (
    AssignmentRow,
    CoordinatorRow,
    DataVersionRow,
    DeadlineRow,
    DeadlineTargetRow,
    FeedEventRow,
    FeedStampRow,
    FeedTokenRow,
    GroupRow,
    MeetingGroupRow,
    MeetingRow,
    MembershipRow,
    PersonRow,
    SubmissionRow,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import ColumnElement, ScalarSelect, Select
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class FeedOwner:
    """The person a token belongs to."""

    person_id: int
    handle: str
    name: str
    language: str
    timezone: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedGroup:
    group_id: int
    code: str
    name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MeetingEntry:
    code: str
    uid: str
    recurrence_id: str
    title: str
    titles: Mapping[str, str]
    start: datetime  # naive local
    end: datetime
    timezone: str
    all_day: bool
    status: MeetingStatus
    sequence: int
    venue: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeadlineEntry:
    code: str
    title: str
    titles: Mapping[str, str]
    due_at: datetime
    timezone: str | None
    sequence: int
    updated_at: datetime
    meeting_code: str | None
    meeting_cancelled: bool
    owed: tuple[Owed, ...]  # the assignments behind the event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    fingerprint: str
    sequence: int


@dataclass(frozen=True, slots=True)
class StoredStamp:
    digest: str
    stamp: datetime


_MEETING_COLUMNS = (
    MeetingRow.code,
    MeetingRow.uid,
    MeetingRow.recurrence_id,
    MeetingRow.title,
    MeetingRow.titles,
    MeetingRow.start_local,
    MeetingRow.end_local,
    MeetingRow.timezone,
    MeetingRow.all_day,
    MeetingRow.status,
    MeetingRow.sequence,
    MeetingRow.venue,
    MeetingRow.updated_at,
)


#: What a feed needs of its owner, in ``_owner``'s order.
_OWNER_COLUMNS = (
    PersonRow.id,
    PersonRow.handle,
    PersonRow.name,
    PersonRow.language,
    PersonRow.timezone,
    PersonRow.updated_at,
)


# The two look-ups every feed request makes, built once (their SQL compiled once, cached by
# SQLAlchemy) and run on the session's connection: a warm answer spends its time on the
# database's answer, not on building the question.


@functools.cache
def _version() -> ScalarSelect[int]:
    return select(DataVersionRow.n).where(DataVersionRow.id == 1).scalar_subquery()


@functools.cache
def _token_owner_query() -> Select[Any]:
    return (
        select(_version().label("version"), *_OWNER_COLUMNS)
        .join(FeedTokenRow, FeedTokenRow.person_id == PersonRow.id)
        .where(
            FeedTokenRow.token_hash == bindparam("token_hash"),
            FeedTokenRow.revoked_at.is_(None),
            PersonRow.removed_at.is_(None),
        )
    )


@functools.cache
def _group_access_query() -> Select[Any]:
    member = (
        select(MembershipRow.id)
        .where(MembershipRow.group_id == GroupRow.id, MembershipRow.person_id == PersonRow.id)
        .exists()
    )
    coordinator = select(CoordinatorRow.person_id).where(CoordinatorRow.person_id == PersonRow.id)
    return (
        select(
            _version().label("version"),
            *_OWNER_COLUMNS,
            GroupRow.id.label("group_id"),
            GroupRow.code.label("group_code"),
            GroupRow.name.label("group_name"),
            GroupRow.updated_at.label("group_updated_at"),
            or_(member, coordinator.exists()).label("allowed"),
        )
        .join(FeedTokenRow, FeedTokenRow.person_id == PersonRow.id)
        .join(GroupRow, GroupRow.code == bindparam("code"))
        .where(
            FeedTokenRow.token_hash == bindparam("token_hash"),
            FeedTokenRow.revoked_at.is_(None),
            PersonRow.removed_at.is_(None),
            GroupRow.removed_at.is_(None),
        )
    )


def _owner(row: Any) -> FeedOwner:  # noqa: ANN401 - a result row
    return FeedOwner(row.id, row.handle, row.name, row.language, row.timezone, row.updated_at)


def _meeting(row: Any) -> MeetingEntry:  # noqa: ANN401 - a result row
    return MeetingEntry(
        code=row.code,
        uid=row.uid,
        recurrence_id=row.recurrence_id,
        title=row.title,
        titles=dict(row.titles or {}),
        start=row.start_local,
        end=row.end_local,
        timezone=row.timezone,
        all_day=row.all_day,
        status=MeetingStatus(row.status),
        sequence=row.sequence,
        venue=row.venue,
        updated_at=row.updated_at,
    )


class FeedRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ version, tokens

    def data_version(self) -> int:
        """The count of committed changes to what feeds show (0 before the first)."""
        return int(self.session.scalar(select(DataVersionRow.n).where(DataVersionRow.id == 1)) or 0)

    def token_owner(self, token_hash: str) -> tuple[int, FeedOwner] | None:
        """The data version and the person whose active token has this hash, in one query."""
        row = (
            self.session.connection()
            .execute(_token_owner_query(), {"token_hash": token_hash})
            .first()
        )
        if row is None:
            return None
        return int(row.version or 0), _owner(row)

    def group_access(
        self, token_hash: str, code: str
    ) -> tuple[int, FeedOwner, FeedGroup, bool] | None:
        """The data version, the token's owner, the group, and whether the owner may read the
        group's feed (a member or a coordinator), in one query; None: no such token or group."""
        row = (
            self.session.connection()
            .execute(_group_access_query(), {"token_hash": token_hash, "code": code})
            .first()
        )
        if row is None:
            return None
        group = FeedGroup(row.group_id, row.group_code, row.group_name, row.group_updated_at)
        return int(row.version or 0), _owner(row), group, bool(row.allowed)

    def person(self, handle: str) -> FeedOwner | None:
        row = self.session.execute(
            select(*_OWNER_COLUMNS).where(
                PersonRow.handle == handle, PersonRow.removed_at.is_(None)
            )
        ).first()
        return _owner(row) if row is not None else None

    def handles(self) -> list[str]:
        return list(
            self.session.scalars(
                select(PersonRow.handle)
                .where(PersonRow.removed_at.is_(None))
                .order_by(PersonRow.handle)
            )
        )

    def group(self, code: str) -> FeedGroup | None:
        row = self.session.execute(
            select(GroupRow.id, GroupRow.code, GroupRow.name, GroupRow.updated_at).where(
                GroupRow.code == code, GroupRow.removed_at.is_(None)
            )
        ).first()
        return FeedGroup(*row) if row is not None else None

    def group_codes(self) -> list[str]:
        return list(
            self.session.scalars(
                select(GroupRow.code).where(GroupRow.removed_at.is_(None)).order_by(GroupRow.code)
            )
        )

    def member_group_codes(self, person_id: int) -> list[str]:
        return list(
            self.session.scalars(
                select(GroupRow.code)
                .join(MembershipRow, MembershipRow.group_id == GroupRow.id)
                .where(MembershipRow.person_id == person_id, GroupRow.removed_at.is_(None))
                .order_by(GroupRow.code)
            )
        )

    def active_token_since(self, person_id: int) -> datetime | None:
        return self.session.scalar(
            select(FeedTokenRow.created_at).where(
                FeedTokenRow.person_id == person_id, FeedTokenRow.revoked_at.is_(None)
            )
        )

    def revoke_tokens(self, person_id: int, *, now: datetime) -> int:
        result = self.session.execute(
            update(FeedTokenRow)
            .where(FeedTokenRow.person_id == person_id, FeedTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def add_token(self, person_id: int, token_hash: str, *, now: datetime) -> None:
        self.session.add(FeedTokenRow(person_id=person_id, token_hash=token_hash, created_at=now))
        self.session.flush()

    # ------------------------------------------------------------------ content

    def _meetings(self, where: ColumnElement[bool]) -> list[MeetingEntry]:
        query = (
            select(*_MEETING_COLUMNS)
            .where(MeetingRow.removed_at.is_(None), where)
            .order_by(MeetingRow.starts_at, MeetingRow.uid, MeetingRow.recurrence_id)
        )
        return [_meeting(row) for row in self.session.execute(query)]

    def person_meetings(self, person_id: int) -> list[MeetingEntry]:
        """The meetings of the person's groups, and those their own inputs are for."""
        groups = (
            select(MembershipRow.group_id)
            .join(GroupRow, GroupRow.id == MembershipRow.group_id)
            .where(MembershipRow.person_id == person_id, GroupRow.removed_at.is_(None))
        )
        of_groups = select(MeetingGroupRow.meeting_id).where(MeetingGroupRow.group_id.in_(groups))
        of_inputs = (
            select(DeadlineRow.meeting_id)
            .join(AssignmentRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .where(
                AssignmentRow.person_id == person_id,
                AssignmentRow.active.is_(True),
                DeadlineRow.removed_at.is_(None),
                DeadlineRow.meeting_id.is_not(None),
            )
        )
        return self._meetings(or_(MeetingRow.id.in_(of_groups), MeetingRow.id.in_(of_inputs)))

    def group_meetings(self, group_id: int) -> list[MeetingEntry]:
        of_group = select(MeetingGroupRow.meeting_id).where(MeetingGroupRow.group_id == group_id)
        return self._meetings(MeetingRow.id.in_(of_group))

    def _deadlines(self, query: Select[Any]) -> list[DeadlineEntry]:
        """Deadlines with their assignments' standing; ``query`` selects ``deadline_id`` and
        ``assignment_id`` pairs (an assignment id may be None: nobody owes it yet). Three
        plain queries (the versions of those assignments, the assignments, the deadlines once
        each): a grouped "latest version" subquery over every submission can be planned badly.
        """
        pairs = query.subquery()
        latest: dict[int, Any] = {}  # assignment id -> its latest version's row
        for row in self.session.execute(
            select(
                SubmissionRow.assignment_id,
                SubmissionRow.version,
                SubmissionRow.status,
                SubmissionRow.submitted_at,
            )
            .where(SubmissionRow.assignment_id.in_(select(pairs.c.assignment_id)))
            .order_by(SubmissionRow.assignment_id, SubmissionRow.version)
        ):
            latest[row.assignment_id] = row
        owed: dict[int, list[Owed]] = {}
        for deadline_id, assignment_id, not_applicable_at in self.session.execute(
            select(pairs.c.deadline_id, AssignmentRow.id, AssignmentRow.not_applicable_at)
            .select_from(pairs)
            .join(AssignmentRow, AssignmentRow.id == pairs.c.assignment_id)
        ):
            last = latest.get(assignment_id)
            owed.setdefault(deadline_id, []).append(
                Owed(
                    version=last.version if last is not None else 0,
                    status=SubmissionStatus(last.status) if last is not None else None,
                    submitted_at=last.submitted_at if last is not None else None,
                    not_applicable_at=not_applicable_at,
                )
            )
        rows = self.session.execute(
            select(
                DeadlineRow.id,
                DeadlineRow.code,
                DeadlineRow.title,
                DeadlineRow.titles,
                DeadlineRow.due_at,
                DeadlineRow.timezone,
                DeadlineRow.sequence,
                DeadlineRow.updated_at,
                MeetingRow.code.label("meeting_code"),
                MeetingRow.status.label("meeting_status"),
                MeetingRow.removed_at.label("meeting_removed_at"),
            )
            .outerjoin(MeetingRow, MeetingRow.id == DeadlineRow.meeting_id)
            .where(DeadlineRow.id.in_(select(pairs.c.deadline_id)))
            .order_by(DeadlineRow.due_at, DeadlineRow.code)
        )
        return [
            DeadlineEntry(
                code=row.code,
                title=row.title,
                titles=dict(row.titles or {}),
                due_at=row.due_at,
                timezone=row.timezone,
                sequence=row.sequence,
                updated_at=row.updated_at,
                meeting_code=row.meeting_code if row.meeting_removed_at is None else None,
                meeting_cancelled=row.meeting_status == MeetingStatus.CANCELLED.value,
                owed=tuple(owed.get(row.id, ())),
            )
            for row in rows
        ]

    def person_deadlines(self, person_id: int) -> list[DeadlineEntry]:
        """The person's own inputs (active assignments of deadlines still in the calendar)."""
        return self._deadlines(
            select(AssignmentRow.id.label("assignment_id"), AssignmentRow.deadline_id)
            .join(DeadlineRow, DeadlineRow.id == AssignmentRow.deadline_id)
            .where(
                AssignmentRow.person_id == person_id,
                AssignmentRow.active.is_(True),
                DeadlineRow.removed_at.is_(None),
            )
        )

    def group_deadlines(self, group_id: int) -> list[DeadlineEntry]:
        """The deadlines assigned to the group, with the active assignments of its members."""
        members = select(MembershipRow.person_id).where(MembershipRow.group_id == group_id)
        return self._deadlines(
            select(DeadlineTargetRow.deadline_id, AssignmentRow.id.label("assignment_id"))
            .join(DeadlineRow, DeadlineRow.id == DeadlineTargetRow.deadline_id)
            .outerjoin(
                AssignmentRow,
                and_(
                    AssignmentRow.deadline_id == DeadlineTargetRow.deadline_id,
                    AssignmentRow.person_id.in_(members),
                    AssignmentRow.active.is_(True),
                ),
            )
            .where(DeadlineTargetRow.group_id == group_id, DeadlineRow.removed_at.is_(None))
        )

    # ---------------------------------------------------------- sequences, stamps

    def events(self, scope: str, *, lock: bool = False) -> dict[str, StoredEvent]:
        """The feed's recorded events; ``lock``: hold them until commit (PostgreSQL row locks,
        taken in UID order; SQLite's write transaction holds the whole database already)."""
        query = select(FeedEventRow.uid, FeedEventRow.fingerprint, FeedEventRow.sequence).where(
            FeedEventRow.scope == scope
        )
        if lock:
            query = query.order_by(FeedEventRow.uid).with_for_update()
        return {uid: StoredEvent(fp, seq) for uid, fp, seq in self.session.execute(query)}

    def _insert(self) -> Any:  # noqa: ANN401 - the dialect's INSERT
        postgres = self.session.get_bind().dialect.name == "postgresql"
        return postgresql.insert if postgres else sqlite.insert

    def add_events(self, scope: str, events: Sequence[tuple[str, str, int, datetime]]) -> None:
        """First sightings: (uid, fingerprint, sequence, changed_at); one already there stays."""
        if not events:
            return
        statement = (
            self._insert()(FeedEventRow)
            .values(
                [
                    {"scope": scope, "uid": u, "fingerprint": f, "sequence": s, "changed_at": c}
                    for u, f, s, c in events
                ]
            )
            .on_conflict_do_nothing(index_elements=["scope", "uid"])
        )
        self.session.execute(statement)

    def change_event(
        self, scope: str, uid: str, *, was: str, now_is: str, sequence: int, changed_at: datetime
    ) -> bool:
        """Move an event on from fingerprint ``was``; False when someone else moved it first."""
        result = self.session.execute(
            update(FeedEventRow)
            .where(
                FeedEventRow.scope == scope,
                FeedEventRow.uid == uid,
                FeedEventRow.fingerprint == was,
            )
            .values(fingerprint=now_is, sequence=sequence, changed_at=changed_at)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def stamp(self, key: str, *, lock: bool = False) -> StoredStamp | None:
        query = select(FeedStampRow.digest, FeedStampRow.stamp).where(FeedStampRow.scope == key)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return StoredStamp(*row) if row is not None else None

    def save_stamp(self, key: str, *, was: str | None, digest: str, stamp: datetime) -> bool:
        """Record a feed's new content digest and stamp; False when someone else did first."""
        if was is None:
            result = self.session.execute(
                self._insert()(FeedStampRow)
                .values(scope=key, digest=digest, stamp=stamp)
                .on_conflict_do_nothing(index_elements=["scope"])
            )
        else:
            result = self.session.execute(
                update(FeedStampRow)
                .where(FeedStampRow.scope == key, FeedStampRow.digest == was)
                .values(digest=digest, stamp=stamp)
            )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]
