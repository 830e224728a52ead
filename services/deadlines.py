"""What one person owes: the inputs ``/focal deadlines`` lists, and the choices of the modal."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.assignments import derive_assignments
from core.model import Role, SubmissionStatus
from core.permissions import submit_right

if TYPE_CHECKING:
    from datetime import datetime

    from db.submissions import OwnAssignment
    from services.ports import UnitOfWork


class Standing(enum.StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # the coordinators asked for a new version
    NOT_APPLICABLE = "not-applicable"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class MyDeadline:
    owed: OwnAssignment
    standing: Standing


def _standing(owed: OwnAssignment, now: datetime) -> Standing:
    if owed.meeting_cancelled:
        return Standing.CANCELLED
    if owed.not_applicable_reason is not None:
        return Standing.NOT_APPLICABLE
    if owed.status is SubmissionStatus.RETURNED:
        return Standing.RETURNED
    if owed.status is SubmissionStatus.ACCEPTED:
        return Standing.ACCEPTED
    if owed.version:
        return Standing.SUBMITTED
    return Standing.OVERDUE if owed.due_at < now else Standing.DUE


def my_deadlines(handle: str, *, uow: UnitOfWork, now: datetime) -> list[MyDeadline]:
    """``handle``'s inputs whose meeting is neither over nor removed, soonest due first."""
    with uow:
        owed = uow.submissions.assignments_of(handle)
    return [
        MyDeadline(o, _standing(o, now))
        for o in owed
        if not o.meeting_removed and (o.meeting_ends_at is None or o.meeting_ends_at >= now)
    ]


@dataclass(frozen=True, slots=True)
class Submittable:
    """An input someone may submit: their own, or a focal point's as their alternate."""

    code: str
    title: str
    titles: dict[str, str]
    due_at: datetime
    owner: str
    owner_name: str
    on_behalf: bool


def submittable(handle: str, *, uow: UnitOfWork, now: datetime) -> list[Submittable]:
    """What ``handle`` may submit now: their own open inputs, then those of the focal points of
    the groups they are an alternate in (as ``record_submission`` would allow)."""
    with uow:
        roster = uow.roster.roster()
        if handle not in roster.people:
            return []
        owners = [
            handle,
            *sorted(
                {
                    m.person
                    for group in roster.groups.values()
                    if any(x.person == handle and x.role is Role.ALTERNATE for x in group.members)
                    for m in group.members
                    if m.role is Role.FOCAL and m.person != handle and m.person in roster.people
                }
            ),
        ]
        records = uow.calendar.deadlines()
        found: list[Submittable] = []
        for owner in owners:
            owed_list = [
                o
                for o in uow.submissions.assignments_of(owner)
                if _standing(o, now) is not Standing.CANCELLED
                and not o.meeting_removed
                and (o.meeting_ends_at is None or o.meeting_ends_at >= now)
            ]
            if owner != handle:
                via = derive_assignments(
                    [records[o.deadline.code].value.deadline for o in owed_list], roster
                )
                owed_list = [
                    o
                    for o in owed_list
                    if (a := via.get((o.deadline.code, owner))) is not None
                    and submit_right(handle, owner, a.via, roster) is True
                ]
            found += [
                Submittable(
                    o.deadline.code,
                    o.deadline.title,
                    dict(o.deadline.titles),
                    o.due_at,
                    owner,
                    roster.people[owner].name,
                    on_behalf=owner != handle,
                )
                for o in owed_list
            ]
    return found
