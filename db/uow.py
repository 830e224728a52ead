"""The unit of work: one session, one visible transaction, the repositories over it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from db.digests import DigestRepository
from db.feeds import FeedRepository
from db.flow_runs import FlowRunRepository
from db.imports import ImportRepository
from db.reminders import ReminderRepository
from db.repositories import (
    AssignmentRepository,
    AuditRepository,
    CalendarRepository,
    RosterRepository,
)
from db.submissions import SubmissionRepository

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.orm import Session, sessionmaker


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit."""

    session: Session
    roster: RosterRepository
    calendar: CalendarRepository
    assignments: AssignmentRepository
    audit: AuditRepository
    reminders: ReminderRepository
    digests: DigestRepository
    submissions: SubmissionRepository
    imports: ImportRepository
    feeds: FeedRepository
    flow_runs: FlowRunRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.roster = RosterRepository(self.session)
        self.calendar = CalendarRepository(self.session)
        self.assignments = AssignmentRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.submissions = SubmissionRepository(self.session)
        self.imports = ImportRepository(self.session)
        self.feeds = FeedRepository(self.session)
        self.flow_runs = FlowRunRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
