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
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.deadlines import to_utc
from core.model import ReminderState, Role
from core.workdays import WorkingCalendar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from core.model import Assignment, Person, Roster


#: How late a missed reminder may still go out (after the service was down, say).
CATCH_UP = timedelta(days=2)


class ReminderKind(enum.StrEnum):
    BEFORE = "before"  # n days before the due date
    DUE = "due"  # on the due date
    OVERDUE = "overdue"  # n days after
    ESCALATION = "escalation"  # to chairs and coordinators
    ASSIGNED = "assigned"  # assigned after reminders would have started
    CHANGED = "changed"  # the deadline moved after this person was reminded of it
    REQUESTED = "requested"  # "Remind me tomorrow": one more, when the person asked for it


class AssignmentState(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    NOT_APPLICABLE = "not-applicable"
    CANCELLED = "cancelled"  # its meeting is cancelled

    @classmethod
    def of(cls, *, submitted: bool, not_applicable: bool, cancelled: bool) -> AssignmentState:
        """A submission settles an input first, then an excuse, then a cancelled meeting."""
        if submitted:
            return cls.SUBMITTED
        if not_applicable:
            return cls.NOT_APPLICABLE
        return cls.CANCELLED if cancelled else cls.OPEN


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
    return f"{deadline}/{person}{to}/{step}/{_stamp(due_at)}"


@functools.lru_cache(maxsize=4096)
def _stamp(due_at: datetime) -> str:
    return due_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


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


def next_slot(now: datetime, recipient: Person, policy: ReminderPolicy) -> datetime:
    """The recipient's next reminder time at or after ``now``: the hour, on a working day."""
    zone = ZoneInfo(recipient.timezone)
    calendar = WorkingCalendar(recipient.country)
    day = now.astimezone(zone).date()
    while True:
        day = calendar.next_working_day(day)
        at = _local_day_at(day, policy.hour, zone)
        if at >= now:
            return at
        day += timedelta(days=1)


def requested_reminder(
    deadline: str, person: Person, *, due_at: datetime, now: datetime, policy: ReminderPolicy
) -> PlannedReminder:
    """The "Remind me tomorrow" reminder: the reminder hour of the next working day after today.

    Asking twice on one day asks for the same reminder (one key per planned time).
    """
    zone = ZoneInfo(person.timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    at = next_slot(_local_day_at(tomorrow, 0, zone), person, policy)
    key = f"{deadline}/{person.handle}/{ReminderKind.REQUESTED.value}/{_stamp(at)}"
    return PlannedReminder(
        key, ReminderKind.REQUESTED, deadline, person.handle, person.handle, at, due_at, 0
    )


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
    planner = _Planner(roster, policy)
    planned = [r for item in assignments for r in planner.plan(item)]
    return sorted(planned, key=lambda r: (r.planned_at, r.key))


def plan_window(
    assignments: Iterable[OpenAssignment],
    *,
    roster: Roster,
    policy: ReminderPolicy,
    now: datetime,
    until: datetime,
    catch_up: timedelta = CATCH_UP,
) -> list[PlannedReminder]:
    """The part of the plan the store needs now: what is due by ``until``.

    Of the reminders already due at ``now``, only the latest of each assignment and
    recipient is kept, and only if it is less than ``catch_up`` old: after a pause (the
    service was down), a person gets the reminder that is current, not every step they
    missed, nor one that has gone stale. Everything later than ``until`` is planned again
    by a later call.
    """
    planner = _Planner(roster, policy)
    planned: list[PlannedReminder] = []
    oldest = now - catch_up
    for item in assignments:
        latest: dict[str, _Step] = {}
        for step in planner.steps(item):
            at = step[3]
            if at < oldest:
                continue
            if at <= now:
                seen = latest.get(step[0])
                if seen is None or (at, _reminder(item, *step).key) > (
                    seen[3],
                    _reminder(item, *seen).key,
                ):
                    latest[step[0]] = step
            elif at <= until:
                planned.append(_reminder(item, *step))
        planned += [_reminder(item, *step) for step in latest.values()]
    return sorted(planned, key=lambda r: (r.planned_at, r.key))


#: (recipient, kind, days before the due date, instant): a reminder before it is named
_Step = tuple[str, "ReminderKind", int, datetime]


class _Planner:
    """Plans one assignment at a time; remembers the days per (due, zone, country, steps).

    Thousands of people share a handful of deadlines, zones and countries, so the working-day
    arithmetic is done once per combination, not once per person.
    """

    def __init__(self, roster: Roster, policy: ReminderPolicy) -> None:
        self.roster = roster
        self.policy = policy
        self._days: dict[tuple[datetime, str, str, bool], list[tuple[int, datetime]]] = {}
        self._escalation: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _steps(
        self, item: OpenAssignment, recipient: Person, *, escalation: bool
    ) -> list[tuple[int, datetime]]:
        memo = (item.due_at, recipient.timezone, recipient.country, escalation)
        steps = self._days.get(memo)
        if steps is None:
            days = (-self.policy.escalate_after_days,) if escalation else None
            steps = list(plan_for(item, recipient, policy=self.policy, days=days).values())
            self._days[memo] = steps
        return steps

    def _last_step(self, item: OpenAssignment, person: Person) -> datetime:
        """When the escalation step would be, had the person been assigned from the start.

        Someone assigned after even that gets no notice: an input that far overdue is the
        coordinators' to chase, not a reminder's.
        """
        steps = self._steps(item, person, escalation=True)
        return max((at for _, at in steps), default=item.due_at)

    def _recipients(self, assignment: Assignment) -> tuple[str, ...]:
        memo = (assignment.person, *assignment.via)
        found = self._escalation.get(memo)
        if found is None:
            found = self._escalation[memo] = escalation_recipients(assignment, self.roster)
        return found

    def plan(self, item: OpenAssignment) -> list[PlannedReminder]:
        return [_reminder(item, *step) for step in self.steps(item)]

    def steps(self, item: OpenAssignment) -> list[_Step]:
        person = self.roster.people.get(item.assignment.person)
        if item.state is not AssignmentState.OPEN or person is None:
            return []
        handle = item.assignment.person
        out: list[_Step] = []
        missed = False
        for days_before, at in self._steps(item, person, escalation=False):
            if at < item.assigned_at:
                missed = True
            else:
                out.append((handle, _kind(days_before), days_before, at))
        if missed and (out or item.assigned_at <= self._last_step(item, person)):
            out.append((handle, ReminderKind.ASSIGNED, 0, item.assigned_at))
        for recipient in self._recipients(item.assignment):
            for days_before, at in self._steps(
                item, self.roster.people[recipient], escalation=True
            ):
                if at >= item.assigned_at:
                    out.append((recipient, ReminderKind.ESCALATION, days_before, at))
        return out


def _reminder(
    item: OpenAssignment, recipient: str, kind: ReminderKind, days_before: int, at: datetime
) -> PlannedReminder:
    deadline, person = item.assignment.deadline, item.assignment.person
    key = reminder_key(
        deadline, person, recipient, kind=kind, days_before=days_before, due_at=item.due_at
    )
    return PlannedReminder(key, kind, deadline, person, recipient, at, item.due_at, days_before)


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
    planned: Iterable[PlannedReminder],
    stored: Iterable[StoredReminder],
    *,
    now: datetime,
    open_due: Mapping[tuple[str, str], datetime] | None = None,
    notice_at: Callable[[str], datetime] | None = None,
) -> ReminderChanges:
    """What to write so the store holds the plan: never touching what was already sent.

    A reminder sent for an earlier due instant of a deadline that is still open earns its
    recipient one "changed" notice, planned at ``now``. ``open_due`` maps (deadline, person)
    of every open assignment to its due instant; by default it is read off ``planned``
    (enough when ``planned`` is the whole plan, not a window of it). ``notice_at`` gives the
    time a recipient's notice is planned for (their next reminder slot); by default ``now``.
    """
    wanted = {r.key: r for r in planned}
    have = {r.key: r for r in stored}
    if open_due is None:
        open_due = {(r.deadline, r.person): r.due_at for r in wanted.values()}
    add = [r for key, r in wanted.items() if key not in have]
    retime = [
        (key, r.planned_at)
        for key, r in wanted.items()
        if key in have
        and have[key].state is ReminderState.PLANNED
        and have[key].planned_at != r.planned_at
    ]

    def still_wanted(key: str, r: StoredReminder) -> bool:
        if key in wanted:
            return True
        # a "changed" notice or a requested reminder is not in the plan; it stands while its
        # due instant is current
        return (
            r.kind in {ReminderKind.CHANGED, ReminderKind.REQUESTED}
            and open_due.get((r.deadline, r.person)) == r.due_at
        )

    skip = [
        key
        for key, r in have.items()
        if r.state is ReminderState.PLANNED and not still_wanted(key, r)
    ]
    notices: dict[str, PlannedReminder] = {}
    for r in have.values():
        due = open_due.get((r.deadline, r.person))
        if r.state is not ReminderState.SENT or due is None or due == r.due_at:
            continue
        key = reminder_key(
            r.deadline, r.person, r.recipient, kind=ReminderKind.CHANGED, days_before=0, due_at=due
        )
        if key not in have:
            at = now if notice_at is None else notice_at(r.recipient)
            notices[key] = PlannedReminder(
                key, ReminderKind.CHANGED, r.deadline, r.person, r.recipient, at, due, 0
            )
    return ReminderChanges(
        tuple(add),
        tuple(sorted(retime)),
        tuple(sorted(skip)),
        tuple(notices[k] for k in sorted(notices)),
    )
