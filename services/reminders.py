"""Reminders: plan them into the store; delivering them is services/delivery.py.

``refresh_plan`` keeps the store's planned reminders in line with the calendar, roster and
submissions (only when something changed or the planned horizon runs short, so the
every-minute run costs almost nothing). ``send_due`` (services/delivery.py) claims the due
reminders a batch of people at a time, posts one message per person, and marks them sent. The
database decides who sends what: see ``db/reminders.py`` and docs/reminders.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from core.assignments import derive_assignments
from core.model import Assignment
from core.reminders import (
    AssignmentState,
    OpenAssignment,
    ReminderPolicy,
    next_slot,
    plan_window,
    reconcile,
    requested_reminder,
)
from services.delivery import messages_for
from services.submissions import open_deadline, owner_of

if TYPE_CHECKING:
    from datetime import datetime

    from core.notices import ReminderMessage
    from services.ports import UnitOfWork

#: How far ahead reminders are written to the store; planned again when half is used up.
HORIZON = timedelta(hours=36)
# ------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class PlanReport:
    planned: bool  # False: nothing had changed, the stored plan stands
    assignments: int = 0
    added: int = 0
    retimed: int = 0
    skipped: int = 0
    notices: int = 0
    horizon_end: datetime | None = None


def refresh_plan(
    *,
    uow: UnitOfWork,
    policy: ReminderPolicy,
    now: datetime,
    horizon: timedelta = HORIZON,
    force: bool = False,
) -> PlanReport:
    """Plan the reminders due up to ``now + horizon`` into the store, if anything changed."""
    with uow:
        state = uow.reminders.plan_state()
        fresh = (
            not state.stale
            and state.planned_at is not None
            and state.horizon_end is not None
            and state.planned_at <= now <= state.horizon_end - horizon / 2
        )
        if fresh and not force:
            return PlanReport(planned=False, horizon_end=state.horizon_end)
        report = _plan(uow, policy=policy, now=now, horizon=horizon)
        uow.commit()
    return report


def _plan(
    uow: UnitOfWork, *, policy: ReminderPolicy, now: datetime, horizon: timedelta
) -> PlanReport:
    roster = uow.roster.roster()
    deadlines = [s.value.deadline for s in uow.calendar.deadlines().values() if not s.removed]
    via = derive_assignments(deadlines, roster)
    items: list[OpenAssignment] = []
    open_due: dict[tuple[str, str], datetime] = {}
    for facts in uow.reminders.assignment_facts():
        key = (facts.deadline, facts.person)
        assignment = via.get(key) or Assignment(deadline=facts.deadline, person=facts.person)
        state = AssignmentState.of(
            submitted=facts.submitted,
            not_applicable=facts.not_applicable,
            cancelled=facts.cancelled,
        )
        item = OpenAssignment(assignment, facts.due_at, facts.assigned_at, state)
        items.append(item)
        if item.state is AssignmentState.OPEN:
            open_due[key] = facts.due_at
    until = now + horizon
    planned = plan_window(items, roster=roster, policy=policy, now=now, until=until)
    changes = reconcile(
        planned,
        uow.reminders.relevant(),
        now=now,
        open_due=open_due,
        notice_at=lambda handle: (
            next_slot(now, person, policy) if (person := roster.people.get(handle)) else now
        ),
    )
    uow.reminders.add(changes.add + changes.notices, now=now)
    uow.reminders.retime(changes.retime, now=now)
    uow.reminders.skip(changes.skip, now=now)
    uow.reminders.mark_planned(now=now, horizon_end=until)
    return PlanReport(
        planned=True,
        assignments=len(items),
        added=len(changes.add),
        retimed=len(changes.retime),
        skipped=len(changes.skip),
        notices=len(changes.notices),
        horizon_end=until,
    )


def preview_due(
    *, uow: UnitOfWork, policy: ReminderPolicy, now: datetime, horizon: timedelta = HORIZON
) -> list[ReminderMessage]:
    """The messages a run at ``now`` would send, planned afresh; nothing is written."""
    with uow:
        _plan(uow, policy=policy, now=now, horizon=horizon)
        due = [r for r in uow.reminders.due(now) if r.still_open]
        uow.rollback()
    return messages_for(due, now)


# ------------------------------------------------------------------ requests


def remind_tomorrow(
    deadline: str, *, handle: str, uow: UnitOfWork, policy: ReminderPolicy, now: datetime
) -> datetime:
    """One more reminder of ``handle``'s input ("Remind me tomorrow"), on their next working day
    at the reminder hour. Returns when. Refuses what ``record_submission`` refuses."""
    with uow:
        record = open_deadline(uow, deadline, now)
        roster = uow.roster.roster()
        owner, _ = owner_of(uow, record, actor=handle, person=None, roster=roster)
        planned = requested_reminder(
            record.deadline.code,
            roster.people[owner],
            due_at=record.due_at,
            now=now,
            policy=policy,
        )
        uow.reminders.add([planned], now=now)
        uow.commit()
    return planned.planned_at
