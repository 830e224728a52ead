"""The reminder planner: every reminder of the open assignments, or the part in a window.

The rules are in ``core.reminders``. Thousands of people share a handful of deadlines, zones
and countries, so the working-day arithmetic is done once per (due instant, zone, country)
and cut to the window once per (due instant, zone, country, time of assignment): each
assignment then costs a few look-ups and the reminders it gets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING

from core.model import Assignment, Role
from core.reminders import (
    CATCH_UP,
    AssignmentState,
    PlannedReminder,
    ReminderKind,
    escalation_recipients,
    key_suffix,
    kind_of,
    reminder_days,
    reminder_key,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from core.model import Person, Roster
    from core.reminders import OpenAssignment, ReminderPolicy

    #: (deadline code, handle) -> the groups that assignment came through
    Via = Callable[[str, str], tuple[str, ...]]

#: (kind, days before the due date, instant, the key's end "/step/stamp") of one recipient
_Slot = tuple[ReminderKind, int, datetime, str]
#: (due instant, zone, country, assigned at): what a recipient's slots depend on
_Memo = tuple[datetime, str, str, datetime]


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
    via: Via | None = None,
) -> list[PlannedReminder]:
    """The part of the plan the store needs now: what is due by ``until``, in key order.

    Of the reminders already due at ``now``, only the latest of each assignment and
    recipient is kept, and only if it is less than ``catch_up`` old: after a pause (the
    service was down), a person gets the reminder that is current, not every step they
    missed, nor one that has gone stale. Everything later than ``until`` is planned again
    by a later call.

    ``via(deadline, person)``, when given, names the groups an assignment came through in
    place of its own ``via``; it is asked only for assignments with an escalation in the
    window (see ``core.assignments.AssignedThrough``).
    """
    parts = plan_window_parts(
        [assignments],
        roster=roster,
        policy=policy,
        now=now,
        until=until,
        catch_up=catch_up,
        via=via,
    )
    return next(parts)


def plan_window_parts(
    parts: Iterable[Iterable[OpenAssignment]],
    *,
    roster: Roster,
    policy: ReminderPolicy,
    now: datetime,
    until: datetime,
    catch_up: timedelta = CATCH_UP,
    via: Via | None = None,
) -> Iterator[list[PlannedReminder]]:
    """``plan_window`` of each part in turn (each in key order), the working-day arithmetic
    shared: a large plan can be written a part at a time while the next part is planned."""
    window = _Window(_Planner(roster, policy, via), now=now, until=until, catch_up=catch_up)
    for part in parts:
        planned = [r for item in part for r in window.plan(item)]
        planned.sort(key=itemgetter(0))  # by key
        yield planned


def plan_window_changes(
    assignments: Iterable[OpenAssignment],
    *,
    roster: Roster,
    policy: ReminderPolicy,
    before: tuple[datetime, datetime],
    now: datetime,
    until: datetime,
    catch_up: timedelta = CATCH_UP,
    via: Via | None = None,
) -> tuple[list[PlannedReminder], list[str]]:
    """How ``plan_window`` of the same assignments changes when its window moves from
    ``before`` (the earlier ``now`` and ``until``) to ``now`` and ``until``: the reminders
    that come into it (in key order) and the keys of those that leave it (sorted).

    The same as comparing the two windows' plans, without making either.
    """
    planner = _Planner(roster, policy, via)
    old = _Window(planner, now=before[0], until=before[1], catch_up=catch_up)
    new = _Window(planner, now=now, until=until, catch_up=catch_up)
    shift = _Shift(old, new)
    entered: list[PlannedReminder] = []
    left: list[str] = []
    for item in assignments:
        shift.compare(item, entered, left)
    entered.sort(key=itemgetter(0))
    left.sort()
    return entered, left


class _Planner:
    """Plans one assignment at a time; remembers the days per (due, zone, country, steps)."""

    def __init__(self, roster: Roster, policy: ReminderPolicy, via: Via | None = None) -> None:
        self.roster = roster
        self.people = roster.people
        self.policy = policy
        self._via = via
        self._days: dict[tuple[datetime, str, str, bool], list[tuple[int, datetime]]] = {}
        self._escalation: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._own: dict[_Memo, list[_Slot]] = {}
        self._told: dict[_Memo, list[_Slot]] = {}

    def days(
        self, due_at: datetime, zone: str, country: str, *, escalation: bool
    ) -> list[tuple[int, datetime]]:
        """(days before due, instant) of a recipient in ``zone`` and ``country``, merged per day."""
        memo = (due_at, zone, country, escalation)
        steps = self._days.get(memo)
        if steps is None:
            days = (-self.policy.escalate_after_days,) if escalation else self.policy.days_before
            steps = list(
                reminder_days(due_at, zone, country, policy=self.policy, days=days).values()
            )
            self._days[memo] = steps
        return steps

    def own(self, memo: _Memo) -> list[_Slot]:
        """The person's own reminders of an input due ``memo[0]``, assigned at ``memo[3]``."""
        found = self._own.get(memo)
        if found is not None:
            return found
        due_at, zone, country, assigned_at = memo
        out: list[_Slot] = []
        missed = False
        for days_before, at in self.days(due_at, zone, country, escalation=False):
            if at < assigned_at:
                missed = True
            else:
                kind = kind_of(days_before)
                out.append((kind, days_before, at, key_suffix(kind, days_before, due_at)))
        if missed and (out or assigned_at <= self._last_step(due_at, zone, country)):
            kind = ReminderKind.ASSIGNED
            out.append((kind, 0, assigned_at, key_suffix(kind, 0, due_at)))
        self._own[memo] = out
        return out

    def told(self, memo: _Memo) -> list[_Slot]:
        """A chair's or coordinator's escalations of an input due ``memo[0]``."""
        found = self._told.get(memo)
        if found is None:
            due_at, zone, country, assigned_at = memo
            kind = ReminderKind.ESCALATION
            found = self._told[memo] = [
                (kind, days_before, at, key_suffix(kind, days_before, due_at))
                for days_before, at in self.days(due_at, zone, country, escalation=True)
                if at >= assigned_at
            ]
        return found

    def _last_step(self, due_at: datetime, zone: str, country: str) -> datetime:
        """When the escalation step would be, had the person been assigned from the start.

        Someone assigned after even that gets no notice: an input that far overdue is the
        coordinators' to chase, not a reminder's.
        """
        steps = self.days(due_at, zone, country, escalation=True)
        return max((at for _, at in steps), default=due_at)

    def recipients(self, assignment: Assignment) -> tuple[str, ...]:
        """Who is told of the escalation: see ``escalation_recipients``."""
        via = (
            assignment.via
            if self._via is None
            else self._via(assignment.deadline, assignment.person)
        )
        memo = (assignment.person, *via)
        found = self._escalation.get(memo)
        if found is None:
            whom = Assignment(assignment.deadline, assignment.person, via)
            found = self._escalation[memo] = escalation_recipients(whom, self.roster)
        return found

    def plan(self, item: OpenAssignment) -> list[PlannedReminder]:
        person = self.people.get(item.assignment.person)
        if item.state is not AssignmentState.OPEN or person is None:
            return []
        out = [
            _reminder(item, item.assignment.person, kind, days, at)
            for kind, days, at, _ in self.own(_memo(item, person))
        ]
        for recipient in self.recipients(item.assignment):
            to = self.people[recipient]
            out += [
                _reminder(item, recipient, kind, days, at)
                for kind, days, at, _ in self.told(_memo(item, to))
            ]
        return out


def _memo(item: OpenAssignment, recipient: Person) -> _Memo:
    return (item.due_at, recipient.timezone, recipient.country, item.assigned_at)


def _reminder(
    item: OpenAssignment, recipient: str, kind: ReminderKind, days_before: int, at: datetime
) -> PlannedReminder:
    deadline, person = item.assignment.deadline, item.assignment.person
    key = reminder_key(
        deadline, person, recipient, kind=kind, days_before=days_before, due_at=item.due_at
    )
    return PlannedReminder(key, kind, deadline, person, recipient, at, item.due_at, days_before)


class _Window:
    """``plan_window`` for one window: each recipient's slots are cut to it once per memo."""

    def __init__(
        self, planner: _Planner, *, now: datetime, until: datetime, catch_up: timedelta
    ) -> None:
        self.planner = planner
        self.now, self.until, self.oldest = now, until, now - catch_up
        self._own: dict[_Memo, list[_Slot]] = {}
        self._told: dict[_Memo, list[_Slot]] = {}
        self._escalates: dict[datetime, bool] = {}
        self._zones: frozenset[tuple[str, str]] | None = None

    def _cut(self, slots: list[_Slot]) -> list[_Slot]:
        """What of one recipient's ``slots`` the window keeps: those after ``now`` up to
        ``until``, and of those due at ``now`` the latest, if not older than the catch-up."""
        now, oldest = self.now, self.oldest
        kept = [s for s in slots if now < s[2] <= self.until]
        due = [s for s in slots if oldest <= s[2] <= now]
        if due:
            # the key decides between two at the same instant; they share all but its end
            kept.append(max(due, key=lambda s: (s[2], s[3])))
        return kept

    def own(self, memo: _Memo) -> list[_Slot]:
        found = self._own.get(memo)
        if found is None:
            found = self._own[memo] = self._cut(self.planner.own(memo))
        return found

    def told(self, memo: _Memo) -> list[_Slot]:
        found = self._told.get(memo)
        if found is None:
            found = self._told[memo] = self._cut(self.planner.told(memo))
        return found

    def escalates(self, due_at: datetime) -> bool:
        """Whether anyone's escalation of an input due ``due_at`` can fall in the window."""
        found = self._escalates.get(due_at)
        if found is None:
            found = self._escalates[due_at] = self._escalation_near(due_at)
        return found

    def _escalation_near(self, due_at: datetime) -> bool:
        planner = self.planner
        if due_at + timedelta(days=planner.policy.escalate_after_days - 3) > self.until:
            return False  # no zone's escalation day comes that early
        if self._zones is None:
            told = {*planner.roster.coordinators}
            for group in planner.roster.groups.values():
                told.update(group.handles_with_role(Role.CHAIR))
            people = planner.people
            self._zones = frozenset(
                (people[h].timezone, people[h].country) for h in told if h in people
            )
        return any(
            self.oldest <= at <= self.until
            for zone, country in self._zones
            for _, at in planner.days(due_at, zone, country, escalation=True)
        )

    def plan(self, item: OpenAssignment) -> list[PlannedReminder]:
        planner = self.planner
        assignment = item.assignment
        deadline, handle = assignment.deadline, assignment.person
        person = planner.people.get(handle)
        if item.state is not AssignmentState.OPEN or person is None:
            return []
        due_at, assigned_at = item.due_at, item.assigned_at
        own = self.own((due_at, person.timezone, person.country, assigned_at))
        prefix = f"{deadline}/{handle}"
        out = [
            PlannedReminder(prefix + end, kind, deadline, handle, handle, at, due_at, days)
            for kind, days, at, end in own
        ]
        if self.escalates(due_at):
            for recipient in planner.recipients(assignment):
                to = planner.people[recipient]
                told = self.told((due_at, to.timezone, to.country, assigned_at))
                key = f"{prefix}>{recipient}"
                out += [
                    PlannedReminder(key + end, kind, deadline, handle, recipient, at, due_at, days)
                    for kind, days, at, end in told
                ]
        return out


class _Shift:
    """``plan_window_changes``: each recipient's slots compared across the windows once."""

    def __init__(self, old: _Window, new: _Window) -> None:
        self.old, self.new = old, new
        self._own: dict[_Memo, tuple[list[_Slot], list[_Slot]]] = {}
        self._told: dict[_Memo, tuple[list[_Slot], list[_Slot]]] = {}

    @staticmethod
    def _compare(old: list[_Slot], new: list[_Slot]) -> tuple[list[_Slot], list[_Slot]]:
        return [s for s in new if s not in old], [s for s in old if s not in new]

    def compare(
        self, item: OpenAssignment, entered: list[PlannedReminder], left: list[str]
    ) -> None:
        """Add ``item``'s reminders that come into the window to ``entered``, the keys of
        those that leave it to ``left``."""
        planner = self.new.planner
        assignment = item.assignment
        deadline, handle = assignment.deadline, assignment.person
        person = planner.people.get(handle)
        if item.state is not AssignmentState.OPEN or person is None:
            return
        due_at, assigned_at = item.due_at, item.assigned_at
        memo = (due_at, person.timezone, person.country, assigned_at)
        own = self._own.get(memo)
        if own is None:
            own = self._own[memo] = self._compare(self.old.own(memo), self.new.own(memo))
        prefix = f"{deadline}/{handle}"
        if own[0] or own[1]:
            entered += [
                PlannedReminder(prefix + end, kind, deadline, handle, handle, at, due_at, days)
                for kind, days, at, end in own[0]
            ]
            left += [prefix + s[3] for s in own[1]]
        if not (self.old.escalates(due_at) or self.new.escalates(due_at)):
            return
        for recipient in planner.recipients(assignment):
            to = planner.people[recipient]
            memo = (due_at, to.timezone, to.country, assigned_at)
            told = self._told.get(memo)
            if told is None:
                told = self._told[memo] = self._compare(self.old.told(memo), self.new.told(memo))
            key = f"{prefix}>{recipient}"
            entered += [
                PlannedReminder(key + end, kind, deadline, handle, recipient, at, due_at, days)
                for kind, days, at, end in told[0]
            ]
            left += [key + s[3] for s in told[1]]
