"""Submissions in the store: numbered versions, never overwritten. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from core.model import MeetingStatus, SubmissionStatus
from core.notices import Titled
from core.status import Entry, Version
from db.models import (
    AssignmentRow,
    DeadlineRow,
    MeetingRow,
    Organization,
    PersonRow,
    SubmissionRow,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session


#: The first key of the PostgreSQL advisory locks that number one input's versions (the second
#: is the assignment's id).
_VERSION_LOCK = 0x466F63


@dataclass(frozen=True, slots=True)
class StoredSubmission:
    deadline: str
    person: str
    version: int
    submitted_by: str
    on_behalf: bool
    submitted_at: datetime
    late: bool
    status: SubmissionStatus


@dataclass(frozen=True, slots=True)
class OwnAssignment:
    """One input a person owes, with where it stands: what ``/focal deadlines`` lists."""

    deadline: Titled
    due_at: datetime
    meeting: Titled | None
    meeting_cancelled: bool
    meeting_ends_at: datetime | None
    meeting_removed: bool
    not_applicable_reason: str | None
    version: int  # the latest version submitted; 0: none yet
    status: SubmissionStatus | None
    submitted_at: datetime | None
    late: bool | None


class SubmissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # (deadline, handle) -> (assignment id, active), as read in this unit of work
        self._assignments: dict[tuple[str, str], tuple[int, bool] | None] = {}

    def _assignment(self, deadline: str, handle: str) -> tuple[int, bool] | None:
        """The assignment's id and whether it is active: two columns, no ORM objects (an
        ``AssignmentRow`` would load its deadline, meeting, groups and their members)."""
        key = (deadline, handle)
        if key not in self._assignments:
            row = self.session.execute(
                select(AssignmentRow.id, AssignmentRow.active)
                .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
                .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
                .where(DeadlineRow.code == deadline, PersonRow.handle == handle)
            ).first()
            self._assignments[key] = (row[0], bool(row[1])) if row is not None else None
        return self._assignments[key]

    def is_assigned(self, deadline: str, handle: str) -> bool:
        found = self._assignment(deadline, handle)
        return found is not None and found[1]

    def add_version(
        self,
        deadline: str,
        handle: str,
        *,
        text: str,
        links: Sequence[str],
        submitted_by: str,
        on_behalf: bool,
        at: datetime,
        late: bool,
    ) -> int:
        """Store the next version of ``handle``'s input for ``deadline``; returns its number.

        Two writers may pick the same number: the unique (assignment, version) constraint
        refuses the second, and the caller tries again.
        """
        found = self._assignment(deadline, handle)
        if found is None:
            raise LookupError(f"{handle} owes no {deadline}")
        assignment_id = found[0]
        if self.session.get_bind().dialect.name == "postgresql":
            # Writers of one input take turns until commit (SQLite's writers always do): fifty
            # at once would otherwise race for each number, and one could lose every retry.
            self.session.execute(select(func.pg_advisory_xact_lock(_VERSION_LOCK, assignment_id)))
        by = self.session.scalar(select(PersonRow.id).where(PersonRow.handle == submitted_by))
        if by is None:
            raise LookupError(f"no person {submitted_by}")
        version = 1 + (
            self.session.scalar(
                select(func.max(SubmissionRow.version)).where(
                    SubmissionRow.assignment_id == assignment_id
                )
            )
            or 0
        )
        self.session.execute(
            insert(SubmissionRow).values(
                assignment_id=assignment_id,
                version=version,
                text=text,
                links=list(links),
                submitted_by_id=by,
                on_behalf=on_behalf,
                submitted_at=at,
                late=late,
                status=SubmissionStatus.RECEIVED.value,
            )
        )
        return version

    def declare_not_applicable(
        self, deadline: str, handle: str, *, reason: str, at: datetime
    ) -> None:
        found = self._assignment(deadline, handle)
        if found is None:
            raise LookupError(f"{handle} owes no {deadline}")
        self.session.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == found[0])
            .values(not_applicable_reason=reason, not_applicable_at=at)
        )

    def assignments_of(self, handle: str) -> list[OwnAssignment]:
        """The active assignments of ``handle`` on deadlines still on the calendar."""
        # Each of this person's assignments' latest version, found through the (assignment,
        # version) index: not a GROUP BY over every submission stored.
        older = aliased(SubmissionRow)
        latest = (
            select(func.max(older.version))
            .where(older.assignment_id == AssignmentRow.id)
            .correlate(AssignmentRow)
            .scalar_subquery()
        )
        query = (
            select(
                DeadlineRow.code,
                DeadlineRow.title,
                DeadlineRow.titles,
                DeadlineRow.due_at,
                MeetingRow.code,
                MeetingRow.title,
                MeetingRow.titles,
                MeetingRow.status,
                MeetingRow.ends_at,
                MeetingRow.removed_at,
                AssignmentRow.not_applicable_reason,
                SubmissionRow.version,
                SubmissionRow.status,
                SubmissionRow.submitted_at,
                SubmissionRow.late,
            )
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .outerjoin(MeetingRow, DeadlineRow.meeting_id == MeetingRow.id)
            .outerjoin(
                SubmissionRow,
                (SubmissionRow.assignment_id == AssignmentRow.id)
                & (SubmissionRow.version == latest),
            )
            .where(
                PersonRow.handle == handle,
                AssignmentRow.active.is_(True),
                DeadlineRow.removed_at.is_(None),
            )
            .order_by(DeadlineRow.due_at, DeadlineRow.code)
        )
        out = []
        for row in self.session.execute(query).tuples():
            code, title, titles, due_at = row[:4]
            m_code, m_title, m_titles, m_status, m_ends, m_gone = row[4:10]
            reason, version, status, submitted_at, late = row[10:]
            out.append(
                OwnAssignment(
                    deadline=Titled(code, title, dict(titles or {})),
                    due_at=due_at,
                    meeting=(
                        Titled(m_code, m_title, dict(m_titles or {}))
                        if m_code is not None
                        else None
                    ),
                    meeting_cancelled=m_status == MeetingStatus.CANCELLED.value,
                    meeting_ends_at=m_ends,
                    meeting_removed=m_gone is not None,
                    not_applicable_reason=reason,
                    version=version or 0,
                    status=SubmissionStatus(status) if status else None,
                    submitted_at=submitted_at,
                    late=late,
                )
            )
        return out

    def entries(self, code: str, *, with_text: bool = False) -> list[Entry]:
        """Every assignment of ``code`` (withdrawn ones too) with all its versions, oldest first.

        Two queries whatever the number of people; texts are read only when asked for.
        """
        session = self.session
        people = (
            select(
                AssignmentRow.id,
                AssignmentRow.active,
                AssignmentRow.not_applicable_reason,
                PersonRow.handle,
                PersonRow.name,
                Organization.name,
            )
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .outerjoin(Organization, PersonRow.organization_id == Organization.id)
            .where(DeadlineRow.code == code)
        )
        submitter, reviewer = aliased(PersonRow), aliased(PersonRow)
        texts = (SubmissionRow.text, SubmissionRow.links) if with_text else ()
        versions = (
            select(
                SubmissionRow.assignment_id,
                SubmissionRow.version,
                SubmissionRow.submitted_at,
                SubmissionRow.late,
                SubmissionRow.on_behalf,
                SubmissionRow.status,
                SubmissionRow.reviewer_note,
                SubmissionRow.reviewed_at,
                submitter.handle,
                submitter.name,
                reviewer.handle,
                reviewer.name,
                *texts,
            )
            .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(submitter, SubmissionRow.submitted_by_id == submitter.id)
            .outerjoin(reviewer, SubmissionRow.reviewed_by_id == reviewer.id)
            .where(DeadlineRow.code == code)
            .order_by(SubmissionRow.assignment_id, SubmissionRow.version)
        )
        by_assignment: dict[int, list[Version]] = {}
        for row in session.execute(versions):
            by_assignment.setdefault(row[0], []).append(
                Version(
                    number=row[1],
                    submitted_at=row[2],
                    late=row[3],
                    on_behalf=row[4],
                    status=SubmissionStatus(row[5]),
                    reviewer_note=row[6],
                    reviewed_at=row[7],
                    submitted_by=row[8],
                    submitted_by_name=row[9],
                    reviewed_by=row[10],
                    reviewed_by_name=row[11],
                    text=row[12] if with_text else "",
                    links=tuple(str(link) for link in row[13] or ()) if with_text else (),
                )
            )
        return [
            Entry(
                person=handle,
                name=name,
                organization=organization,
                active=active,
                not_applicable_reason=reason,
                versions=tuple(by_assignment.get(assignment_id, ())),
            )
            for assignment_id, active, reason, handle, name, organization in session.execute(people)
        ]

    def set_review(
        self,
        deadline: str,
        handle: str,
        version: int,
        *,
        status: SubmissionStatus,
        note: str | None,
        reviewer: str | None,
        at: datetime,
    ) -> None:
        """Record a coordinator's decision on one version (``reviewer`` None: the office's)."""
        row = self.session.scalars(
            select(SubmissionRow)
            .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(
                DeadlineRow.code == deadline,
                PersonRow.handle == handle,
                SubmissionRow.version == version,
            )
        ).one()
        reviewer_id = None
        if reviewer is not None:
            reviewer_id = self.session.scalar(
                select(PersonRow.id).where(PersonRow.handle == reviewer)
            )
        row.status, row.reviewer_note = status.value, note
        row.reviewed_at, row.reviewed_by_id = at, reviewer_id

    def versions(self, deadline: str, handle: str) -> list[StoredSubmission]:
        submitter = PersonRow.__table__.alias("submitter")
        query = (
            select(SubmissionRow, submitter.c.handle)
            .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .join(submitter, SubmissionRow.submitted_by_id == submitter.c.id)
            .where(DeadlineRow.code == deadline, PersonRow.handle == handle)
            .order_by(SubmissionRow.version)
        )
        return [
            StoredSubmission(
                deadline=deadline,
                person=handle,
                version=row.version,
                submitted_by=by,
                on_behalf=row.on_behalf,
                submitted_at=row.submitted_at,
                late=row.late,
                status=SubmissionStatus(row.status),
            )
            for row, by in self.session.execute(query).tuples()
        ]
