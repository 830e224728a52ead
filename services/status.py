"""Where every input of one deadline stands: ``focal status CODE`` and ``/focal status CODE``.

``submission_status`` reads; nothing is written, whoever asks. The operator on the command
line (``actor=None``) sees everything; a roster handle sees what ``core.status.status_view``
allows (coordinators everything, chairs their groups' people) or is refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.permissions import Refusal
from core.source import suggest
from core.status import (
    Entry,
    count_entries,
    status_order,
    status_view,
)

if TYPE_CHECKING:
    from datetime import datetime

    from core.model import Roster
    from core.status import StatusCounts
    from db.repositories import DeadlineRecord, MeetingRecord
    from services.ports import UnitOfWork


class UnknownDeadlineError(LookupError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(f"no deadline {code}{suggest(code, known)}")
        self.code = code


class AccessProblem(enum.StrEnum):
    UNKNOWN_PERSON = Refusal.UNKNOWN_PERSON.value
    NOT_A_CHAIR = Refusal.NOT_A_CHAIR.value  # status: not a chair of its groups, nor a coordinator
    NOT_A_COORDINATOR = "not-a-coordinator"  # export and review are the coordinators'


class AccessRefusedError(PermissionError):
    """``actor`` may not see or change this deadline's inputs; nothing was written."""

    def __init__(self, problem: AccessProblem, *, actor: str, deadline: str) -> None:
        reasons = {
            AccessProblem.UNKNOWN_PERSON: f"{actor} is not in the roster",
            AccessProblem.NOT_A_CHAIR: (
                f"{actor} may not see the status of {deadline}: only the chairs of its groups "
                "and the coordinators may"
            ),
            AccessProblem.NOT_A_COORDINATOR: (
                f"{actor} may not do this for {deadline}: only the coordinators may"
            ),
        }
        super().__init__(reasons[problem])
        self.problem, self.actor, self.deadline = problem, actor, deadline


def require_coordinator(actor: str | None, deadline: str, roster: Roster) -> None:
    """None is the operator on the command line, who may do anything."""
    if actor is None:
        return
    if actor not in roster.people:
        raise AccessRefusedError(AccessProblem.UNKNOWN_PERSON, actor=actor, deadline=deadline)
    if actor not in roster.coordinators:
        raise AccessRefusedError(AccessProblem.NOT_A_COORDINATOR, actor=actor, deadline=deadline)


# ------------------------------------------------------------------ reading


def find_deadline(uow: UnitOfWork, code: str) -> tuple[DeadlineRecord, MeetingRecord | None]:
    """A current deadline by its code (case does not matter), with its meeting."""
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
    return record, meeting


def load_entries(uow: UnitOfWork, code: str, *, with_text: bool = False) -> list[Entry]:
    """Every assignment of ``code`` (withdrawn ones too) with all its versions, oldest first."""
    return uow.submissions.entries(code, with_text=with_text)


# ------------------------------------------------------------------ status


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One deadline's submission matrix as one reader may see it.

    ``lines``: one per assignment shown, current ones first then by handle; each line's
    ``state``, ``latest`` version (number, time, late, submitter, on behalf, review status
    and note) and ``not_applicable_reason`` say where it stands. ``counts`` are of the lines
    shown. ``everyone``: False when a chair sees only their groups' people.
    """

    deadline: DeadlineRecord
    meeting: MeetingRecord | None
    lines: tuple[Entry, ...]
    counts: StatusCounts
    everyone: bool = True

    @property
    def code(self) -> str:
        return self.deadline.deadline.code

    @property
    def due_at(self) -> datetime:
        return self.deadline.due_at

    def overdue(self, now: datetime) -> bool:
        return self.deadline.due_at < now


def submission_status(code: str, *, uow: UnitOfWork, actor: str | None = None) -> StatusReport:
    """The status of deadline ``code`` as ``actor`` (a roster handle; None: the operator) sees it.

    Raises ``UnknownDeadlineError`` (with a suggestion) and ``AccessRefusedError``.
    """
    with uow:
        record, meeting = find_deadline(uow, code)
        view = status_view(actor, record.deadline, uow.roster.roster())
        if isinstance(view, Refusal):  # never the operator's
            problem = AccessProblem(view.value)
            raise AccessRefusedError(problem, actor=actor or "", deadline=record.deadline.code)
        entries = load_entries(uow, record.deadline.code)
    shown = sorted((e for e in entries if view.shows(e.person)), key=status_order)
    return StatusReport(record, meeting, tuple(shown), count_entries(shown), view.everyone)
