"""Reminders: what touches both halves of the engine.

Planning is ``services/planning.py``: ``refresh_plan`` keeps the store's planned reminders in
line with the calendar, roster and submissions (only when something changed or the planned
horizon runs short, so the every-minute run costs almost nothing). Delivery is
``services/delivery.py``: ``send_due`` claims the due reminders a batch of people at a time,
posts one message per person, and marks them sent. The database decides who sends what: see
``db/reminders.py`` and docs/reminders.md. Here: a preview of a run, and "Remind me tomorrow".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.reminders import ReminderPolicy, requested_reminder
from services.delivery import messages_for
from services.planning import HORIZON, PlanReport, collector_paused, plan, refresh_plan
from services.submissions import open_deadline, owner_of

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from core.notices import ReminderMessage
    from services.ports import UnitOfWork

__all__ = [  # planning's names too: the flows and the command line import them from here
    "HORIZON",
    "PlanReport",
    "preview_due",
    "refresh_plan",
    "remind_tomorrow",
]


def preview_due(
    *, uow: UnitOfWork, policy: ReminderPolicy, now: datetime, horizon: timedelta = HORIZON
) -> list[ReminderMessage]:
    """The messages a run at ``now`` would send, planned afresh; nothing is written."""
    with uow:
        uow.reminders.plan_state(lock=True)  # as refresh_plan: one plan at a time
        with collector_paused():
            plan(uow, policy=policy, now=now, horizon=horizon)
        due = [r for r in uow.reminders.due(now) if r.still_open]
        uow.rollback()
    return messages_for(due, now)


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
