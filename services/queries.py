"""Read-only use cases: what the CLI and later the bot show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.status import StatusReport, UnknownDeadlineError, submission_status

if TYPE_CHECKING:
    from datetime import datetime

    from db.repositories import DeadlineRecord, MeetingRecord
    from services.ports import UnitOfWork

__all__ = ["Agenda", "UnknownDeadlineError", "agenda", "deadline_status"]


@dataclass(frozen=True, slots=True)
class Agenda:
    meetings: tuple[MeetingRecord, ...]
    deadlines: tuple[tuple[DeadlineRecord, int], ...]  # with the number of people assigned


def deadline_status(code: str, *, uow: UnitOfWork) -> StatusReport:
    """The whole submission matrix of one deadline, as the operator sees it."""
    return submission_status(code, uow=uow)


def agenda(*, uow: UnitOfWork, now: datetime) -> Agenda:
    """Meetings not yet over and deadlines not yet due, soonest first."""
    with uow:
        meetings = tuple(
            s.value
            for s in uow.calendar.meetings().values()
            if not s.removed and s.value.ends_at >= now
        )
        assigned: dict[str, int] = {}
        for deadline, _handle in uow.assignments.active():
            assigned[deadline] = assigned.get(deadline, 0) + 1
        deadlines = tuple(
            (s.value, assigned.get(code, 0))
            for code, s in uow.calendar.deadlines().items()
            if not s.removed and s.value.due_at >= now
        )
    return Agenda(meetings, deadlines)
