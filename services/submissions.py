"""Submissions and "not applicable": written and committed before any receipt is sent.

Each submission is a new numbered version (1, 2, ...) of one person's input; an alternate or
a coordinator may submit on the focal point's behalf, and it is recorded as such. A refusal
(unknown or closed deadline, someone else's input, empty or over-long text) writes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from core.assignments import derive_assignments
from core.commands import MAX_REASON, MAX_TEXT
from core.model import MeetingStatus
from core.permissions import Refusal, submit_right
from core.source import suggest

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime, timedelta

    from core.model import Roster
    from db.repositories import DeadlineRecord
    from services.ports import UnitOfWork

#: Attempts when two submissions of one input race for the same version number.
_VERSION_TRIES = 20


class Problem(enum.StrEnum):
    UNKNOWN_DEADLINE = "unknown-deadline"
    CLOSED = "closed"  # removed from the calendar, or its meeting is over
    CANCELLED = "cancelled"  # its meeting is cancelled
    NOT_ASSIGNED = "not-assigned"  # the person owes no such input
    EMPTY = "empty"
    TOO_LONG = "too-long"
    UNKNOWN_PERSON = Refusal.UNKNOWN_PERSON.value
    NOT_YOURS = Refusal.NOT_YOURS.value


class SubmissionRefusedError(Exception):
    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail

    def __reduce__(self) -> tuple[type[SubmissionRefusedError], tuple[Problem, str]]:
        # Rebuilt from its own arguments: refusals come back from worker processes pickled.
        return (type(self), (self.problem, self.detail))


@dataclass(frozen=True, slots=True)
class Submission:
    deadline: str  # as given; matched without regard to case
    text: str
    actor: str  # who is submitting (a handle)
    person: str | None = None  # whose input (default: the actor's own)
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    deadline: str
    person: str
    version: int
    submitted_by: str
    on_behalf: bool
    submitted_at: datetime
    due_at: datetime
    late: bool

    @property
    def late_by(self) -> timedelta | None:
        return self.submitted_at - self.due_at if self.late else None


def open_deadline(uow: UnitOfWork, code: str, now: datetime) -> DeadlineRecord:
    stored = uow.calendar.deadline(code)
    if stored is None:
        deadlines = uow.calendar.deadlines()  # only to suggest a close code
        known = [k for k, s in deadlines.items() if not s.removed]
        raise SubmissionRefusedError(Problem.UNKNOWN_DEADLINE, code + suggest(code, known))
    record = stored.value
    if stored.removed:
        raise SubmissionRefusedError(Problem.CLOSED, record.deadline.code)
    if record.deadline.meeting:
        meeting = uow.calendar.meeting(record.deadline.meeting)
        if meeting is None:  # pragma: no cover - a deadline's meeting is never deleted
            raise SubmissionRefusedError(Problem.CLOSED, record.deadline.code)
        if meeting.value.meeting.status is MeetingStatus.CANCELLED:
            raise SubmissionRefusedError(Problem.CANCELLED, record.deadline.code)
        if meeting.removed or meeting.value.ends_at < now:
            raise SubmissionRefusedError(Problem.CLOSED, record.deadline.code)
    return record


def owner_of(
    uow: UnitOfWork, record: DeadlineRecord, *, actor: str, person: str | None, roster: Roster
) -> tuple[str, bool]:
    """Whose input it is, and whether the actor acts on their behalf."""
    code = record.deadline.code
    owner = person or actor
    assignment = derive_assignments([record.deadline], roster).get((code, owner))
    if assignment is None or not uow.submissions.is_assigned(code, owner):
        if actor not in roster.people:
            raise SubmissionRefusedError(Problem.UNKNOWN_PERSON, actor)
        raise SubmissionRefusedError(Problem.NOT_ASSIGNED, f"{owner} / {code}")
    right = submit_right(actor, owner, assignment.via, roster)
    if isinstance(right, Refusal):
        raise SubmissionRefusedError(Problem(right.value), f"{owner} / {code}")
    return owner, right


def _own_or_owner(
    uow: UnitOfWork, record: DeadlineRecord, *, actor: str, person: str | None
) -> tuple[str, bool]:
    """``owner_of``, without reading the whole roster when people act on their own input
    (nearly always): an active assignment of the actor is theirs to submit."""
    if person in {None, actor} and uow.submissions.is_assigned(record.deadline.code, actor):
        return actor, False
    return owner_of(uow, record, actor=actor, person=person, roster=uow.roster.roster())


def _retrying(attempt: Callable[[], Receipt]) -> Receipt:
    for _ in range(_VERSION_TRIES - 1):
        try:
            return attempt()
        except IntegrityError:
            continue  # another version took the number first: count again
    return attempt()


def check_submittable(
    deadline: str, *, actor: str, uow: UnitOfWork, now: datetime, person: str | None = None
) -> str:
    """The deadline's code if ``actor`` may submit it now (for ``person``); else the refusal
    ``record_submission`` would give. Nothing is written."""
    with uow:
        record = open_deadline(uow, deadline, now)
        owner_of(uow, record, actor=actor, person=person, roster=uow.roster.roster())
        return record.deadline.code


def record_submission(cmd: Submission, *, uow: UnitOfWork, now: datetime) -> Receipt:
    """Store a new version and commit it; the receipt says which, and whether it was late."""
    text = cmd.text.strip()
    if not text:
        raise SubmissionRefusedError(Problem.EMPTY)
    if len(text) > MAX_TEXT:
        raise SubmissionRefusedError(Problem.TOO_LONG, str(len(text)))

    def attempt() -> Receipt:
        with uow:
            record = open_deadline(uow, cmd.deadline, now)
            owner, on_behalf = _own_or_owner(uow, record, actor=cmd.actor, person=cmd.person)
            code, late = record.deadline.code, now > record.due_at
            version = uow.submissions.add_version(
                code,
                owner,
                text=text,
                links=cmd.links,
                submitted_by=cmd.actor,
                on_behalf=on_behalf,
                at=now,
                late=late,
            )
            uow.audit.record(
                actor=cmd.actor,
                action="submitted",
                entity="submission",
                key=f"{code}/{owner}/v{version}",
                changes={"chars": len(text), "on_behalf": on_behalf, "late": late},
                at=now,
            )
            uow.commit()
        return Receipt(code, owner, version, cmd.actor, on_behalf, now, record.due_at, late)

    return _retrying(attempt)


def declare_not_applicable(
    deadline: str,
    *,
    actor: str,
    reason: str,
    uow: UnitOfWork,
    now: datetime,
    person: str | None = None,
) -> str:
    """Excuse an input (with its reason, for the coordinators); returns the deadline's code."""
    reason = reason.strip()
    if not reason:
        raise SubmissionRefusedError(Problem.EMPTY)
    if len(reason) > MAX_REASON:
        raise SubmissionRefusedError(Problem.TOO_LONG, str(len(reason)))
    with uow:
        record = open_deadline(uow, deadline, now)
        owner, on_behalf = _own_or_owner(uow, record, actor=actor, person=person)
        code = record.deadline.code
        uow.submissions.declare_not_applicable(code, owner, reason=reason, at=now)
        uow.audit.record(
            actor=actor,
            action="not-applicable",
            entity="assignment",
            key=f"{code}/{owner}",
            changes={"reason": reason, "on_behalf": on_behalf},
            at=now,
        )
        uow.commit()
    return code
