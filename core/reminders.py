"""Reminder planning (SPEC.md, "Reminders"), pure.

For each open assignment the policy names days relative to the due date (14, 7, 3 and 1
days before, the day itself, 1 and 3 days after). Days are counted in the recipient's own
timezone (the due date is the date of the due instant there); each reminder goes out at the
policy's hour on a working day of the recipient's country. A reminder on or before the due
date that lands on a weekend or holiday moves earlier, one after it moves later; two that
land on the same day become one. At ``escalate_after_days`` overdue the chairs of the groups
the person was assigned through, and the coordinators, are told. An assignment made after
some reminders would have gone out gets one "assigned" notice at once instead of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.deadlines import to_utc
from core.model import ReminderState, Role
from core.workdays import WorkingCalendar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.model import Assignment, Person, Roster


class ReminderKind(enum.StrEnum):
    BEFORE = "before"  # n days before the due date
    DUE = "due"  # on the due date
    OVERDUE = "overdue"  # n days after
    ESCALATION = "escalation"  # to chairs and coordinators
    ASSIGNED = "assigned"  # assigned after reminders would have started
    CHANGED = "changed"  # the deadline moved after this person was reminded of it


class AssignmentState(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    NOT_APPLICABLE = "not-applicable"
    CANCELLED = "cancelled"  # its meeting is cancelled


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """Days relative to the due date: positive before it, 0 on it, negative after it."""

    days_before: tuple[int, ...] = (14, 7, 3, 1, 0, -1, -3)
    hour: int = 9
    escalate_after_days: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:  # noqa: PLR2004
            raise ValueError("the reminder hour is 0 to 23")
        if self.escalate_after_days < 1:
            raise ValueError("escalation comes at least one day after the due date")


@dataclass(frozen=True, slots=True)
class OpenAssignment:
    """What the planner needs of one assignment."""

    assignment: Assignment
    due_at: datetime  # aware UTC
    assigned_at: datetime  # aware UTC
    state: AssignmentState = AssignmentState.OPEN


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    key: str
    kind: ReminderKind
    deadline: str
    person: str  # who owes the input
    recipient: str  # who gets the message (the person, or a chair or coordinator)
    planned_at: datetime  # aware UTC
    due_at: datetime
    days_before: int


def reminder_key(
    deadline: str,
    person: str,
    recipient: str,
    *,
    kind: ReminderKind,
    days_before: int,
    due_at: datetime,
) -> str:
    """Stable for the same assignment, recipient, step and due instant.

    The due instant is part of the key: when a deadline moves, its reminders are new ones.
    """
    once = {ReminderKind.ASSIGNED, ReminderKind.CHANGED}
    step = kind.value if kind in once else f"{kind.value}{days_before:+d}"
    to = "" if recipient == person else f">{recipient}"
    return f"{deadline}/{person}{to}/{step}/{due_at:%Y%m%dT%H%MZ}"


def _local_day_at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return to_utc(datetime.combine(day, datetime.min.time()).replace(hour=hour), zone)


def _working_day(calendar: WorkingCalendar, nominal: date, due_date: date) -> date:
    if nominal <= due_date:
        return calendar.previous_working_day(nominal)
    return calendar.next_working_day(nominal)


def plan_for(
    item: OpenAssignment,
    recipient: Person,
    *,
    policy: ReminderPolicy,
    days: Iterable[int] | None = None,
) -> dict[date, tuple[int, datetime]]:
    """Local day -> (days before due, instant) for one recipient, merged per day."""
    zone = ZoneInfo(recipient.timezone)
    calendar = WorkingCalendar(recipient.country)
    due_date = item.due_at.astimezone(zone).date()
    by_day: dict[date, tuple[int, datetime]] = {}
    for days_before in policy.days_before if days is None else days:
        day = _working_day(calendar, due_date - timedelta(days=days_before), due_date)
        at = _local_day_at(day, policy.hour, zone)
        while days_before >= 0 and at > item.due_at:
            # the hour comes after the due time that day: one working day earlier
            day = calendar.previous_working_day(day - timedelta(days=1))
            at = _local_day_at(day, policy.hour, zone)
        current = by_day.get(day)
        if current is None or abs(days_before) < abs(current[0]):
            by_day[day] = (days_before, at)  # merged: the step nearest the due date wins
    return by_day


def _kind(days_before: int) -> ReminderKind:
    if days_before > 0:
        return ReminderKind.BEFORE
    return ReminderKind.DUE if days_before == 0 else ReminderKind.OVERDUE


def escalation_recipients(assignment: Assignment, roster: Roster) -> tuple[str, ...]:
    """The chairs of the groups the person was assigned through, and the coordinators."""
    chairs = {
        handle
        for code in assignment.via
        if (group := roster.groups.get(code)) is not None
        for handle in group.handles_with_role(Role.CHAIR)
    }
    recipients = (chairs | set(roster.coordinators)) - {assignment.person}
    return tuple(sorted(h for h in recipients if h in roster.people))


def plan_reminders(
    assignments: Iterable[OpenAssignment], *, roster: Roster, policy: ReminderPolicy
) -> list[PlannedReminder]:
    """Every reminder the open assignments call for, in planned order."""
    planned: list[PlannedReminder] = []
    for item in assignments:
        person = roster.people.get(item.assignment.person)
        if item.state is not AssignmentState.OPEN or person is None:
            continue
        planned += _plan_one(item, person, roster=roster, policy=policy)
    return sorted(planned, key=lambda r: (r.planned_at, r.key))


def _reminder(
    item: OpenAssignment, recipient: str, kind: ReminderKind, days_before: int, at: datetime
) -> PlannedReminder:
    deadline, person = item.assignment.deadline, item.assignment.person
    key = reminder_key(
        deadline, person, recipient, kind=kind, days_before=days_before, due_at=item.due_at
    )
    return PlannedReminder(key, kind, deadline, person, recipient, at, item.due_at, days_before)


def _plan_one(
    item: OpenAssignment, person: Person, *, roster: Roster, policy: ReminderPolicy
) -> list[PlannedReminder]:
    handle = item.assignment.person
    out: list[PlannedReminder] = []
    missed = False
    for days_before, at in plan_for(item, person, policy=policy).values():
        if at < item.assigned_at:
            missed = True
        else:
            out.append(_reminder(item, handle, _kind(days_before), days_before, at))
    if missed:
        out.append(_reminder(item, handle, ReminderKind.ASSIGNED, 0, item.assigned_at))
    steps = (-policy.escalate_after_days,)
    for recipient in escalation_recipients(item.assignment, roster):
        for days_before, at in plan_for(
            item, roster.people[recipient], policy=policy, days=steps
        ).values():
            if at >= item.assigned_at:
                out.append(_reminder(item, recipient, ReminderKind.ESCALATION, days_before, at))
    return out


# ---------------------------------------------------------- against the store


@dataclass(frozen=True, slots=True)
class StoredReminder:
    key: str
    deadline: str
    person: str
    recipient: str
    kind: ReminderKind
    planned_at: datetime
    due_at: datetime
    state: ReminderState


@dataclass(frozen=True, slots=True)
class ReminderChanges:
    add: tuple[PlannedReminder, ...] = ()
    retime: tuple[tuple[str, datetime], ...] = ()  # unsent, same key, new time
    skip: tuple[str, ...] = ()  # unsent and no longer wanted
    notices: tuple[PlannedReminder, ...] = ()  # "the deadline moved" for people already told

    @property
    def empty(self) -> bool:
        return not (self.add or self.retime or self.skip or self.notices)


def reconcile(
    planned: Iterable[PlannedReminder], stored: Iterable[StoredReminder], *, now: datetime
) -> ReminderChanges:
    """What to write so the store holds the plan: never touching what was already sent.

    A reminder sent for an earlier due instant of a deadline that is still open for that
    recipient earns one "changed" notice, planned at ``now``.
    """
    wanted = {r.key: r for r in planned}
    have = {r.key: r for r in stored}
    add = [r for key, r in wanted.items() if key not in have]
    retime = [
        (key, r.planned_at)
        for key, r in wanted.items()
        if key in have
        and have[key].state is ReminderState.PLANNED
        and have[key].planned_at != r.planned_at
    ]
    current_due = {(r.deadline, r.person, r.recipient): r.due_at for r in wanted.values()}

    def still_wanted(key: str, r: StoredReminder) -> bool:
        if key in wanted:
            return True
        # a "changed" notice is not in the plan; it stands while its due instant is current
        return (
            r.kind is ReminderKind.CHANGED
            and current_due.get((r.deadline, r.person, r.recipient)) == r.due_at
        )

    skip = [
        key
        for key, r in have.items()
        if r.state is ReminderState.PLANNED and not still_wanted(key, r)
    ]
    notices: dict[str, PlannedReminder] = {}
    for r in have.values():
        due = current_due.get((r.deadline, r.person, r.recipient))
        if r.state is not ReminderState.SENT or due is None or due == r.due_at:
            continue
        key = reminder_key(
            r.deadline, r.person, r.recipient, kind=ReminderKind.CHANGED, days_before=0, due_at=due
        )
        if key not in have:
            notices[key] = PlannedReminder(
                key, ReminderKind.CHANGED, r.deadline, r.person, r.recipient, now, due, 0
            )
    return ReminderChanges(
        tuple(add),
        tuple(sorted(retime)),
        tuple(sorted(skip)),
        tuple(notices[k] for k in sorted(notices)),
    )
