"""Read-only use cases: what the CLI and later the bot show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.source import suggest

if TYPE_CHECKING:
    from datetime import datetime

    from db.repositories import AssignmentStatus, DeadlineRecord, MeetingRecord
    from services.ports import UnitOfWork


class UnknownDeadlineError(LookupError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(f"no deadline {code}{suggest(code, known)}")


@dataclass(frozen=True, slots=True)
class DeadlineStatus:
    deadline: DeadlineRecord
    meeting: MeetingRecord | None
    assignments: tuple[AssignmentStatus, ...]


@dataclass(frozen=True, slots=True)
class Agenda:
    meetings: tuple[MeetingRecord, ...]
    deadlines: tuple[tuple[DeadlineRecord, int], ...]  # with the number of people assigned


def deadline_status(code: str, *, uow: UnitOfWork) -> DeadlineStatus:
    with uow:
        deadlines = uow.calendar.deadlines()
        stored = deadlines.get(code) or next(
            (s for k, s in deadlines.items() if k.casefold() == code.casefold()), None
        )
        if stored is None or stored.removed:
            raise UnknownDeadlineError(code, [k for k, s in deadlines.items() if not s.removed])
        record = stored.value
        meeting = None
        if record.deadline.meeting:
            meeting = uow.calendar.meetings()[record.deadline.meeting].value
        rows = uow.assignments.status(record.deadline.code)
    return DeadlineStatus(record, meeting, tuple(rows))


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
