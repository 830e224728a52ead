"""Submissions in the store: numbered versions, never overwritten. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.model import SubmissionStatus
from db.models import AssignmentRow, DeadlineRow, PersonRow, SubmissionRow

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session


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


class SubmissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _assignment(self, deadline: str, handle: str) -> AssignmentRow | None:
        return self.session.scalar(
            select(AssignmentRow)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(DeadlineRow.code == deadline, PersonRow.handle == handle)
        )

    def is_assigned(self, deadline: str, handle: str) -> bool:
        row = self._assignment(deadline, handle)
        return row is not None and row.active

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
        assignment = self._assignment(deadline, handle)
        if assignment is None:
            raise LookupError(f"{handle} owes no {deadline}")
        by = self.session.scalar(select(PersonRow.id).where(PersonRow.handle == submitted_by))
        if by is None:
            raise LookupError(f"no person {submitted_by}")
        version = 1 + (
            self.session.scalar(
                select(func.max(SubmissionRow.version)).where(
                    SubmissionRow.assignment_id == assignment.id
                )
            )
            or 0
        )
        self.session.add(
            SubmissionRow(
                assignment_id=assignment.id,
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
        self.session.flush()
        return version

    def declare_not_applicable(
        self, deadline: str, handle: str, *, reason: str, at: datetime
    ) -> None:
        assignment = self._assignment(deadline, handle)
        if assignment is None:
            raise LookupError(f"{handle} owes no {deadline}")
        assignment.not_applicable_reason, assignment.not_applicable_at = reason, at

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
