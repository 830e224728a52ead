"""The plan against the store: what to write so the store holds it, sent reminders untouched.

``reconcile`` compares a plan (``core.reminder_plan``) with the reminders stored for the same
assignments and says what to add, retime and skip, and who is told that a deadline moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from core.model import ReminderState
from core.reminders import PlannedReminder, ReminderKind, reminder_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime


class StoredReminder(NamedTuple):
    """A reminder as the store holds it (a named tuple, like ``PlannedReminder``)."""

    key: str
    deadline: str
    person: str
    recipient: str
    kind: ReminderKind
    planned_at: datetime
    due_at: datetime
    state: ReminderState
    attempts: int = 0  # tries at sending it; a planned one with tries waits to be tried again


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
        if (was := have.get(key)) is not None
        and was.state is ReminderState.PLANNED
        and not was.attempts  # one to be tried again keeps the time its retry was set for
        and was.planned_at != r.planned_at
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
