"""Planning reminders into the store: what ``refresh_plan`` does, deadline by deadline.

The store holds the reminders due up to a horizon (36 hours ahead). A plan reads the roster,
the deadlines and the assignments, and gives each deadline a fingerprint of what its
reminders depend on (``core.replanning``):

* a deadline whose fingerprint is the one it was last planned with has the reminders of the
  last plan's window in the store; only the window's move changes them: those that enter it
  are added, those that leave it are skipped (``core.reminder_plan.plan_window_changes``);
* a deadline with nothing stored (new, or a new installation) has nothing to reconcile: its
  reminders go straight in, a part at a time, planned while the last part is being stored;
* any other deadline (moved, reassigned, submitted, or no longer on the calendar) is planned
  in full and reconciled with what the store holds for it (``core.reminder_store``): new
  reminders added, unsent ones retimed or skipped, "changed" notices for those already
  reminded of an earlier due instant.

A deadline whose unsent reminders something else touched since (being sent, waiting for a
retry, "Remind me tomorrow") is planned in full; one whose plan may not have settled (it
moved, or reminders of it were being sent) is recorded without a fingerprint, so the next
plan takes it in full again. ``full=True`` plans every deadline in full; the store ends the
same either way (``tests/integration/test_replanning.py``). docs/decisions.md says why.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from core.assignments import AssignedThrough
from core.model import ReminderState
from core.reminder_plan import plan_window, plan_window_changes, plan_window_parts
from core.reminder_store import ReminderChanges, reconcile
from core.reminders import AssignmentState, ReminderPolicy, next_slot
from core.replanning import plan_fingerprints

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from core.reminder_store import StoredReminder
    from core.reminders import OpenAssignment, PlannedReminder
    from db.reminder_plans import PlanState
    from services.ports import UnitOfWork

#: How far ahead reminders are written to the store; planned again when half is used up.
HORIZON = timedelta(hours=36)


@dataclass(frozen=True, slots=True)
class PlanReport:
    planned: bool  # False: nothing had changed, the stored plan stands
    assignments: int = 0
    added: int = 0
    retimed: int = 0
    skipped: int = 0
    notices: int = 0
    horizon_end: datetime | None = None
    replanned: int = 0  # deadlines planned in full (the others: only the window's move)


def refresh_plan(
    *,
    uow: UnitOfWork,
    policy: ReminderPolicy,
    now: datetime,
    horizon: timedelta = HORIZON,
    force: bool = False,
    full: bool = False,
    lap: Callable[[str], None] | None = None,
) -> PlanReport:
    """Plan the reminders due up to ``now + horizon`` into the store, if anything changed
    (or ``force``). ``full``: every deadline planned in full (see the module's doc).

    ``lap(step)``, when given, is called as each step of planning ends (``bench/reminders.py``
    times them).
    """
    lap = lap or _no_lap
    with uow:
        state = uow.reminders.plan_state()
        if not force and _fresh(state, now=now, horizon=horizon):
            return PlanReport(planned=False, horizon_end=state.horizon_end)
        state = uow.reminders.plan_state(lock=True)  # plans made at once: one after the other
        if not force and _fresh(state, now=now, horizon=horizon):
            return PlanReport(planned=False, horizon_end=state.horizon_end)
        with collector_paused():
            report = plan(uow, policy=policy, now=now, horizon=horizon, full=full, lap=lap)
        uow.commit()
        lap("commit")
    return report


def _fresh(state: PlanState, *, now: datetime, horizon: timedelta) -> bool:
    return (
        not state.stale
        and state.planned_at is not None
        and state.horizon_end is not None
        and state.planned_at <= now <= state.horizon_end - horizon / 2
    )


def _no_lap(_step: str) -> None:
    pass


@contextmanager
def collector_paused() -> Iterator[None]:
    """Planning makes a few hundred thousand small objects that live until it ends, none in a
    reference cycle; CPython's cycle collector would walk them over and over (two fifths of
    planning's time). It is paused meanwhile: their memory is freed by reference counting."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def plan(
    uow: UnitOfWork,
    *,
    policy: ReminderPolicy,
    now: datetime,
    horizon: timedelta = HORIZON,
    full: bool = False,
    lap: Callable[[str], None] = _no_lap,
) -> PlanReport:
    """Plan into ``uow``'s store (not committed): see the module's doc."""
    reminders = uow.reminders
    inputs = reminders.planning_inputs()
    roster, items = inputs.roster, inputs.assignments
    via = AssignedThrough(inputs.targets, roster)
    fingerprints = plan_fingerprints(
        items, deadlines=inputs.deadlines, targets=inputs.targets, roster=roster, policy=policy
    )
    last = reminders.plan_state()
    record = {} if full or last.planned_at is None else reminders.plan_record()
    kept = {code for code, fingerprint in fingerprints.items() if record.get(code) == fingerprint}
    if kept:  # what delivery holds or retries, and what was asked for, is looked at in full
        kept -= reminders.changed_outside_planning()
    # a deadline with nothing stored has nothing to reconcile: its plan goes straight in
    blank = {item.assignment.deadline for item in items} - kept
    blank -= reminders.with_reminders(blank)
    elsewhere = kept | blank
    again = [item for item in items if item.assignment.deadline not in elsewhere]
    lap("read roster, deadlines, assignments")

    until = now + horizon
    planned = plan_window(again, roster=roster, policy=policy, now=now, until=until, via=via)
    entered: list[PlannedReminder] = []
    left: list[str] = []
    if kept and last.planned_at is not None and last.horizon_end is not None:
        before = (last.planned_at, last.horizon_end)
        if before != (now, until):
            entered, left = plan_window_changes(
                [item for item in items if item.assignment.deadline in kept],
                roster=roster,
                policy=policy,
                before=before,
                now=now,
                until=until,
                via=via,
            )
    lap("plan (core)")

    if record:
        stored = reminders.relevant((fingerprints.keys() | record.keys()) - kept - blank)
    else:
        stored = reminders.relevant()
    lap("read the stored plan")
    due = {item.assignment.deadline: item.due_at for item in again}
    changes = reconcile(
        planned,
        stored,
        now=now,
        open_due={
            (item.assignment.deadline, item.assignment.person): item.due_at
            for item in again
            if item.state is AssignmentState.OPEN
        },
        notice_at=lambda handle: (
            next_slot(now, person, policy) if (person := roster.people.get(handle)) else now
        ),
    )
    unsettled = _unsettled(stored, changes, due)
    lap("reconcile (core)")

    reminders.add(changes.add + changes.notices + tuple(entered), now=now)
    lap("insert")
    new = reminders.add_new(
        plan_window_parts(
            _parts([item for item in items if item.assignment.deadline in blank]),
            roster=roster,
            policy=policy,
            now=now,
            until=until,
            via=via,
        ),
        now=now,
    )
    lap("plan and insert for deadlines with nothing stored")
    reminders.retime(changes.retime, now=now)
    reminders.skip(changes.skip + tuple(left), now=now)
    reminders.record_plan(
        {
            inputs.deadlines[code]: None if code in unsettled else fingerprint
            for code, fingerprint in fingerprints.items()
        }
    )
    reminders.mark_planned(now=now, horizon_end=until)
    lap("retime, skip, record the plan")
    return PlanReport(
        planned=True,
        assignments=len(items),
        added=len(changes.add) + len(entered) + new,
        retimed=len(changes.retime),
        skipped=len(changes.skip) + len(left),
        notices=len(changes.notices),
        horizon_end=until,
        replanned=len(fingerprints.keys() - kept),
    )


def _parts(items: list[OpenAssignment], size: int = 5_000) -> Iterator[list[OpenAssignment]]:
    """``items`` by deadline, in parts of about ``size``: their reminders go in a part at a
    time, in about the order of their keys (which begin with the deadline's code)."""
    items.sort(key=lambda item: item.assignment.deadline)
    start = 0
    while start < len(items):
        end = min(start + size, len(items))
        last = items[end - 1].assignment.deadline
        while end < len(items) and items[end].assignment.deadline == last:
            end += 1  # a deadline's reminders stay together
        yield items[start:end]
        start = end


def _unsettled(
    stored: list[StoredReminder], changes: ReminderChanges, due: dict[str, datetime]
) -> set[str]:
    """Deadlines whose store a later plan must look at again: some of their reminders were
    being sent (one may end sent for a due instant that has since moved, owing a "changed"
    notice), or they moved (a reminder claimed while this plan skipped it likewise)."""
    skipped = set(changes.skip)
    return (
        {r.deadline for r in stored if r.state is ReminderState.SENDING}
        | {n.deadline for n in changes.notices}
        | {r.deadline for r in stored if r.key in skipped and r.due_at != due.get(r.deadline)}
    )
