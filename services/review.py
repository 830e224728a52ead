"""Accepting or returning a version of an input: ``focal review CODE HANDLE --accept|--return``.

The review is written, audited and committed first; only then are the submitter, and the
focal point when someone else submitted on their behalf, told. A refusal writes nothing and
tells no one; deciding the same again is a no-op.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.commands import MAX_REASON
from core.model import SubmissionStatus
from core.notices import ReviewNotice, Titled
from core.source import suggest
from core.status import ReviewChange, ReviewProblem, plan_review
from services.ports import DeliveryFailedError, DeliveryUncertainError
from services.status import find_deadline, load_entries, require_coordinator

if TYPE_CHECKING:
    from datetime import datetime

    from core.model import Roster
    from core.status import Entry
    from db.repositories import DeadlineRecord, MeetingRecord
    from services.ports import Notifier, UnitOfWork


class ReviewRefusal(enum.StrEnum):
    UNKNOWN_PERSON = "unknown-person"  # no such handle
    NOT_ASSIGNED = "not-assigned"  # the person never owed this input
    NO_SUBMISSION = ReviewProblem.NO_SUBMISSION.value
    NO_SUCH_VERSION = ReviewProblem.NO_SUCH_VERSION.value
    TOO_LONG = "too-long"  # the note


class ReviewRefusedError(Exception):
    """The review was refused; nothing was written. ``str()`` is the reason in a line."""

    def __init__(self, problem: ReviewRefusal, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Review:
    deadline: str  # a deadline code, matched without regard to case
    person: str  # whose input (a handle)
    accept: bool  # True: accept; False: return
    actor: str  # who did it, for the audit log: a handle, or the operator's login
    note: str | None = None
    version: int | None = None  # None: the latest
    reviewer: str | None = None  # a coordinator's handle, kept as the reviewer; None: the operator


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    deadline: str
    person: str
    version: int
    status: SubmissionStatus
    note: str | None
    changed: bool  # False: it was already so; nothing was written or sent
    told: tuple[str, ...] = ()  # handles the notice reached
    skipped: tuple[tuple[str, str], ...] = ()  # (handle, why) of those who could not be told
    failed: tuple[tuple[str, str], ...] = ()  # (handle, error) of deliveries that failed


def _entry(entries: list[Entry], handle: str, code: str, roster: Roster) -> Entry:
    entry = next((e for e in entries if e.person == handle), None)
    if entry is not None:
        return entry
    if handle not in roster.people:
        known = [e.person for e in entries] or list(roster.people)
        raise ReviewRefusedError(
            ReviewRefusal.UNKNOWN_PERSON, f"no person {handle}{suggest(handle, known)}"
        )
    raise ReviewRefusedError(ReviewRefusal.NOT_ASSIGNED, f"{handle} owes no {code}")


def _refuse(problem: ReviewProblem, cmd: Review, code: str, entry: Entry) -> ReviewRefusedError:
    if problem is ReviewProblem.NO_SUBMISSION:
        message = f"{entry.person} has submitted nothing for {code}"
    else:
        numbers = ", ".join(str(v.number) for v in entry.versions)
        message = f"{entry.person} has no version {cmd.version} of {code} (versions: {numbers})"
    return ReviewRefusedError(ReviewRefusal(problem.value), message)


def _store(uow: UnitOfWork, code: str, cmd: Review, change: ReviewChange, now: datetime) -> None:
    uow.submissions.set_review(
        code,
        cmd.person,
        change.version.number,
        status=change.status,
        note=change.note,
        reviewer=cmd.reviewer,
        at=now,
    )


def _notices(
    cmd: Review,
    change: ReviewChange,
    entry: Entry,
    *,
    record: DeadlineRecord,
    meeting: MeetingRecord | None,
    roster: Roster,
    now: datetime,
) -> tuple[list[ReviewNotice], list[tuple[str, str]]]:
    """The submitter, then the focal point if someone else submitted; never the reviewer."""
    deadline = record.deadline
    titled = Titled(deadline.code, deadline.title, dict(deadline.titles))
    where = None
    if meeting is not None:
        where = Titled(meeting.meeting.code, meeting.meeting.title, dict(meeting.meeting.titles))
    reviewer = roster.people.get(cmd.reviewer) if cmd.reviewer else None
    notices, missed = [], []
    for handle in dict.fromkeys((change.version.submitted_by, entry.person)):
        if handle == cmd.reviewer:
            continue
        person = roster.people.get(handle)
        if person is None:
            missed.append((handle, "no longer in the roster"))
            continue
        notices.append(
            ReviewNotice(
                recipient=person,
                deadline=titled,
                person=entry.person,
                person_name=entry.name,
                version=change.version.number,
                accepted=change.status is SubmissionStatus.ACCEPTED,
                note=change.note,
                reviewer=reviewer.name if reviewer else None,
                now=now,
                meeting=where,
            )
        )
    return notices, missed


def review_submission(
    cmd: Review, *, uow: UnitOfWork, notifier: Notifier, now: datetime
) -> ReviewOutcome:
    """Accept or return a version, commit, then tell the submitter (and the focal point).

    Raises ``UnknownDeadlineError``, ``AccessRefusedError`` (a reviewer who is not a
    coordinator) and ``ReviewRefusedError``; each writes nothing. A notice that cannot be
    delivered does not undo the review: it is listed in ``failed``.
    """
    if cmd.note is not None and len(cmd.note.strip()) > MAX_REASON:
        raise ReviewRefusedError(
            ReviewRefusal.TOO_LONG,
            f"the note has {len(cmd.note.strip())} characters; at most {MAX_REASON}",
        )
    with uow:
        record, meeting = find_deadline(uow, cmd.deadline)
        code = record.deadline.code
        roster = uow.roster.roster()
        require_coordinator(cmd.reviewer, code, roster)
        entry = _entry(load_entries(uow, code), cmd.person, code, roster)
        change = plan_review(entry, accept=cmd.accept, note=cmd.note, version=cmd.version)
        if isinstance(change, ReviewProblem):
            raise _refuse(change, cmd, code, entry)
        outcome = ReviewOutcome(
            code, entry.person, change.version.number, change.status, change.note, change.changed
        )
        if not change.changed:
            return outcome
        _store(uow, code, cmd, change, now)
        uow.audit.record(
            actor=cmd.actor,
            action=change.status.value,
            entity="submission",
            key=f"{code}/{entry.person}/v{change.version.number}",
            changes={
                "status": [change.version.status.value, change.status.value],
                "reviewer_note": [change.version.reviewer_note, change.note],
                "reviewer": cmd.reviewer,
            },
            at=now,
        )
        uow.commit()
    notices, skipped = _notices(
        cmd, change, entry, record=record, meeting=meeting, roster=roster, now=now
    )
    told, failed = [], []
    for notice in notices:
        try:
            notifier.send(notice)
        except (DeliveryFailedError, DeliveryUncertainError) as exc:
            failed.append((notice.recipient.handle, str(exc)))
        else:
            told.append(notice.recipient.handle)
    return ReviewOutcome(
        code,
        entry.person,
        change.version.number,
        change.status,
        change.note,
        changed=True,
        told=tuple(told),
        skipped=tuple(skipped),
        failed=tuple(failed),
    )
