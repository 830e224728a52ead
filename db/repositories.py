"""Repositories: they speak the domain (``core.model``) and never commit.

The calendar's (meetings, deadlines) is in ``db.calendar``; its names are kept here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from core.changes import Stored
from core.model import (
    Group,
    Language,
    Membership,
    Person,
    Role,
    Roster,
)
from db.calendar import CalendarRepository, DeadlineRecord, MeetingRecord, meeting_from_row
from db.models import (
    AssignmentRow,
    AuditRow,
    CoordinatorRow,
    DeadlineRow,
    GroupRow,
    MembershipRow,
    Organization,
    PersonRow,
    SubmissionRow,
)
from db.people import person_columns, person_from

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy import Subquery
    from sqlalchemy.orm import Session

__all__ = [
    "AssignmentRepository",
    "AssignmentStatus",
    "AuditRepository",
    "CalendarRepository",
    "DeadlineRecord",
    "MeetingRecord",
    "RosterRepository",
    "latest_versions",
    "meeting_from_row",
    "person_from_row",
]


@dataclass(frozen=True, slots=True)
class AssignmentStatus:
    """One line of a deadline's submission matrix."""

    handle: str
    name: str
    active: bool
    not_applicable_reason: str | None
    versions: int
    last_submitted_at: datetime | None
    last_late: bool | None
    last_status: str | None


# ------------------------------------------------------------------ roster


def latest_versions() -> Subquery:
    """Each assignment's latest version number (``assignment_id``, ``version``)."""
    return (
        select(SubmissionRow.assignment_id, func.max(SubmissionRow.version).label("version"))
        .group_by(SubmissionRow.assignment_id)
        .subquery()
    )


def person_from_row(row: PersonRow) -> Person:
    return Person(
        handle=row.handle,
        name=row.name,
        email=row.email,
        timezone=row.timezone,
        language=Language(row.language),
        country=row.country,
        organization=row.organization.name if row.organization else None,
        slack_user_id=row.slack_user_id,
    )


def _group(row: GroupRow) -> Group:
    members = sorted(
        (Membership(m.person.handle, Role(m.role)) for m in row.memberships), key=lambda m: m.person
    )
    return Group(code=row.code, name=row.name, members=tuple(members))


class RosterRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _person_rows(self) -> dict[str, PersonRow]:
        return {r.handle: r for r in self.session.scalars(select(PersonRow))}

    def people(self) -> dict[str, Stored[Person]]:
        return {
            h: Stored(person_from_row(r), r.source, r.removed_at is not None)
            for h, r in self._person_rows().items()
        }

    def groups(self) -> dict[str, Stored[Group]]:
        rows = self.session.scalars(select(GroupRow)).unique()
        return {r.code: Stored(_group(r), r.source, r.removed_at is not None) for r in rows}

    def coordinators(self) -> tuple[str, ...]:
        rows = self.session.scalars(select(CoordinatorRow))
        return tuple(sorted(r.person.handle for r in rows))

    def roster(self) -> Roster:
        people = {h: s.value for h, s in self.people().items() if not s.removed}
        groups = {c: s.value for c, s in self.groups().items() if not s.removed}
        return Roster(people=people, groups=groups, coordinators=self.coordinators())

    def person(self, handle: str) -> Person | None:
        """One person of the roster by handle (None: unknown or removed)."""
        row = self.session.execute(
            person_columns().where(PersonRow.handle == handle, PersonRow.removed_at.is_(None))
        ).first()
        return person_from(row) if row is not None else None

    def person_by_slack_id(self, user_id: str) -> Person | None:
        row = self.session.execute(
            person_columns().where(
                PersonRow.slack_user_id == user_id, PersonRow.removed_at.is_(None)
            )
        ).first()
        return person_from(row) if row is not None else None

    def person_by_email(self, email: str) -> Person | None:
        """The person with this e-mail, whatever its case (an e-mail names one person)."""
        rows = self.session.scalars(
            select(PersonRow)
            .where(
                func.lower(PersonRow.email) == email.strip().lower(),
                PersonRow.removed_at.is_(None),
            )
            .order_by(PersonRow.id)
        ).all()
        return person_from_row(rows[0]) if len(rows) == 1 else None

    def set_slack_user_id(self, handle: str, user_id: str) -> None:
        self.session.execute(
            update(PersonRow).where(PersonRow.handle == handle).values(slack_user_id=user_id)
        )

    def _organization(self, name: str | None) -> Organization | None:
        if name is None:
            return None
        row = self.session.scalar(select(Organization).where(Organization.name == name))
        if row is None:
            row = Organization(name=name)
            self.session.add(row)
        return row

    def save_person(self, person: Person, *, source: str | None, now: datetime) -> None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.handle == person.handle))
        if row is None:
            row = PersonRow(handle=person.handle, created_at=now)
        row.name, row.email, row.timezone = person.name, person.email, person.timezone
        row.language, row.country = person.language.value, person.country
        row.organization = self._organization(person.organization)
        if person.slack_user_id is not None:  # never forget an id found through Slack
            row.slack_user_id = person.slack_user_id
        row.source, row.removed_at, row.updated_at = source, None, now
        self.session.add(row)

    def remove_person(self, handle: str, *, now: datetime) -> None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.handle == handle))
        if row is not None:
            row.removed_at = row.updated_at = now

    def save_group(self, group: Group, *, source: str | None, now: datetime) -> None:
        row = self.session.scalar(select(GroupRow).where(GroupRow.code == group.code))
        if row is None:
            row = GroupRow(code=group.code, created_at=now, memberships=[])
        row.name, row.source, row.removed_at, row.updated_at = group.name, source, None, now
        people = self._person_rows()
        wanted = {m.person: m.role for m in group.members}
        for membership in list(row.memberships):
            handle = membership.person.handle
            if handle not in wanted:
                row.memberships.remove(membership)
            else:
                membership.role = wanted.pop(handle).value
        for handle, role in sorted(wanted.items()):
            row.memberships.append(MembershipRow(person=people[handle], role=role.value))
        self.session.add(row)

    def remove_group(self, code: str, *, now: datetime) -> None:
        row = self.session.scalar(select(GroupRow).where(GroupRow.code == code))
        if row is not None:
            row.removed_at = row.updated_at = now

    def set_coordinators(self, handles: Iterable[str]) -> None:
        people = self._person_rows()
        wanted = set(handles)
        for row in list(self.session.scalars(select(CoordinatorRow))):
            if row.person.handle in wanted:
                wanted.discard(row.person.handle)
            else:
                self.session.delete(row)
        for handle in sorted(wanted):
            self.session.add(CoordinatorRow(person=people[handle]))


# ------------------------------------------------------------ assignments


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self) -> dict[tuple[str, str], AssignmentRow]:
        rows = self.session.scalars(select(AssignmentRow)).unique()
        return {(r.deadline.code, r.person.handle): r for r in rows}

    def active(self) -> set[tuple[str, str]]:
        return {key for key, row in self._rows().items() if row.active}

    def _row(self, deadline: str, handle: str) -> AssignmentRow | None:
        return self.session.scalar(
            select(AssignmentRow)
            .join(AssignmentRow.deadline)
            .join(AssignmentRow.person)
            .where(DeadlineRow.code == deadline, PersonRow.handle == handle)
        )

    def assign(self, deadline: str, handle: str, *, now: datetime) -> None:
        row = self._row(deadline, handle)
        if row is None:
            deadline_row = self.session.scalar(
                select(DeadlineRow).where(DeadlineRow.code == deadline)
            )
            person_row = self.session.scalar(select(PersonRow).where(PersonRow.handle == handle))
            self.session.add(
                AssignmentRow(deadline=deadline_row, person=person_row, active=True, created_at=now)
            )
        else:
            row.active, row.withdrawn_at = True, None

    def withdraw(self, deadline: str, handle: str, *, now: datetime) -> None:
        row = self._row(deadline, handle)
        if row is not None and row.active:
            row.active, row.withdrawn_at = False, now

    def status(self, deadline: str) -> list[AssignmentStatus]:
        """The submission matrix of one deadline: every assignment, active ones first."""
        latest = latest_versions()
        query = (
            select(AssignmentRow, SubmissionRow)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .outerjoin(latest, latest.c.assignment_id == AssignmentRow.id)
            .outerjoin(
                SubmissionRow,
                (SubmissionRow.assignment_id == AssignmentRow.id)
                & (SubmissionRow.version == latest.c.version),
            )
            .where(DeadlineRow.code == deadline)
        )
        out = []
        for assignment, submission in self.session.execute(query).unique():
            out.append(
                AssignmentStatus(
                    handle=assignment.person.handle,
                    name=assignment.person.name,
                    active=assignment.active,
                    not_applicable_reason=assignment.not_applicable_reason,
                    versions=submission.version if submission else 0,
                    last_submitted_at=submission.submitted_at if submission else None,
                    last_late=submission.late if submission else None,
                    last_status=submission.status if submission else None,
                )
            )
        return sorted(out, key=lambda s: (not s.active, s.handle))


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        key: str,
        changes: dict[str, Any],
        at: datetime,
    ) -> None:
        self.session.add(
            AuditRow(
                at=at, actor=actor, action=action, entity=entity, entity_key=key, changes=changes
            )
        )
