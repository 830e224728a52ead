"""Reminders: plan them into the store, then deliver what is due, exactly once.

``refresh_plan`` (``services/planning.py``) keeps the store's planned reminders in line with
the calendar, roster and submissions (only when something changed or the planned horizon
runs short, so the every-minute run costs almost nothing). ``send_due`` claims the due
reminders a batch of people at a time, posts one message per person, and marks them sent.
The database decides who sends what: see ``db/reminders.py`` and docs/reminders.md.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from core.notices import ReminderLine, ReminderMessage
from core.reminders import ReminderKind, ReminderPolicy, requested_reminder
from services.planning import HORIZON, PlanReport, collector_paused, plan, refresh_plan
from services.ports import Delivery, DeliveryFailedError, DeliveryUncertainError
from services.submissions import open_deadline, owner_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from db.reminders import ClaimedReminder
    from services.ports import Notifier, UnitOfWork

__all__ = [  # planning's names too: the flows and the command line import them from here
    "HORIZON",
    "LEASE",
    "MAX_ATTEMPTS",
    "DeliveryReport",
    "PlanReport",
    "Worker",
    "claim_batch",
    "deliver",
    "preview_due",
    "refresh_plan",
    "remind_tomorrow",
    "send_due",
]

#: A claim older than this whose holder cannot be asked is taken over (it may have crashed).
LEASE = timedelta(minutes=10)
#: Attempts before a reminder that keeps failing is given up (``failed``, shown to coordinators).
MAX_ATTEMPTS = 6
#: Slack history is searched from a little before the earlier claim (clocks differ).
_HISTORY_SLACK = timedelta(minutes=2)

_CLAIM_TRIES = 5  # picks of due people per batch when other runs keep taking them first

# which line stands for an input when several steps of it are due at once
_PRIORITY = {
    ReminderKind.CHANGED: 0,
    ReminderKind.ASSIGNED: 1,
    ReminderKind.OVERDUE: 2,
    ReminderKind.DUE: 3,
    ReminderKind.BEFORE: 4,
    ReminderKind.REQUESTED: 5,
    ReminderKind.ESCALATION: 6,
}


# ------------------------------------------------------------------- planning


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
    return _messages(due, now)


# ------------------------------------------------------------------- delivery


@dataclass(frozen=True, slots=True)
class Worker:
    """Who is sending: a name unique to this run, and a way to tell a dead holder.

    ``is_gone(holder)`` answers True only when the holder is certainly not running (a
    process of this machine that no longer exists); otherwise its claim waits for the lease.
    """

    name: str
    is_gone: Callable[[str], bool] = field(default=lambda _holder: False)


@dataclass(slots=True)
class DeliveryReport:
    messages: int = 0  # messages posted
    reminders: int = 0  # reminders marked sent (posted now or found already posted)
    recovered: int = 0  # of those, found in Slack's history after an unclear end
    skipped: int = 0  # no longer wanted when their turn came (submitted, excused, moved)
    retrying: int = 0  # nothing posted; planned again a little later
    failed: int = 0  # given up
    uncertain: int = 0  # may have been posted; the next run looks before posting
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in (
            "messages",
            "reminders",
            "recovered",
            "skipped",
            "retrying",
            "failed",
            "uncertain",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


def claim_batch(
    *, uow: UnitOfWork, now: datetime, worker: Worker, people: int, lease: timedelta = LEASE
) -> list[ClaimedReminder]:
    """Take the due reminders of up to ``people`` recipients, and any left by dead runs."""
    with uow:
        holders = uow.reminders.holders()
        abandoned = [
            holder
            for holder, since in holders.items()
            if holder is None or since < now - lease or worker.is_gone(holder)
        ]
        if abandoned:
            uow.reminders.take_over(abandoned, now=now, worker=worker.name)
        for _ in range(_CLAIM_TRIES):
            recipients = uow.reminders.due_recipients(now=now, limit=people)
            if not recipients or uow.reminders.claim(recipients, now=now, worker=worker.name):
                break
            # another run took these people first (it held their rows): pick again
        uow.commit()
        return uow.reminders.claimed(worker.name)


def _messages(claimed: Sequence[ClaimedReminder], now: datetime) -> list[ReminderMessage]:
    """One message per recipient; several due steps of one input become its current line."""
    by_recipient: dict[str, list[ClaimedReminder]] = defaultdict(list)
    for reminder in claimed:
        by_recipient[reminder.recipient.handle].append(reminder)
    messages = []
    for reminders in by_recipient.values():
        by_input: dict[tuple[str, str], list[ClaimedReminder]] = defaultdict(list)
        for r in reminders:
            by_input[r.deadline.code, r.person].append(r)
        lines: list[ReminderLine] = []
        covered: list[str] = []
        for steps in by_input.values():
            best = min(steps, key=lambda r: (_PRIORITY[r.kind], -r.due_at.timestamp(), r.key))
            lines.append(
                ReminderLine(
                    best.key,
                    best.kind,
                    best.deadline,
                    best.meeting,
                    best.person,
                    best.person_name,
                    best.due_at,
                )
            )
            covered += [r.key for r in steps if r is not best]
        lines.sort(key=lambda line: (line.kind is ReminderKind.ESCALATION, line.due_at, line.key))
        first = reminders[0]
        messages.append(
            ReminderMessage(first.recipient, tuple(lines), now, tuple(covered), first.address)
        )
    return messages


@dataclass(frozen=True, slots=True)
class _Outcome:
    message: ReminderMessage
    delivery: Delivery | None = None
    found: dict[str, Delivery] = field(default_factory=dict)  # already posted (recovery)
    failure: DeliveryFailedError | None = None
    uncertain: DeliveryUncertainError | None = None


def _deliver_one(
    message: ReminderMessage, *, notifier: Notifier, since: datetime | None
) -> _Outcome:
    found: dict[str, Delivery] = {}
    try:
        if since is not None:  # a claim that may have been posted: look before posting again
            found = notifier.find_sent(message, since=since - _HISTORY_SLACK)
            rest = tuple(line for line in message.lines if line.key not in found)
            if not rest:
                return _Outcome(message, found=found)
            message = replace(
                message, lines=rest, covered=tuple(k for k in message.covered if k not in found)
            )
        return _Outcome(message, delivery=notifier.send(message), found=found)
    except DeliveryFailedError as error:
        return _Outcome(message, found=found, failure=error)
    except DeliveryUncertainError as error:
        return _Outcome(message, found=found, uncertain=error)


def deliver(
    claimed: Sequence[ClaimedReminder],
    *,
    uow: UnitOfWork,
    notifier: Notifier,
    now: datetime,
    worker: Worker,
    concurrency: int = 8,
    retry_after: timedelta = timedelta(minutes=5),
) -> DeliveryReport:
    """Post one message per recipient of ``claimed``, then record what became of each."""
    report = DeliveryReport()
    stale = [r.key for r in claimed if not r.still_open]
    wanted = [r for r in claimed if r.still_open]
    attempts_left = {r.key: r for r in wanted}
    since = {r.recipient.handle: r.claimed_at for r in wanted if r.recovering and r.claimed_at}
    messages = _messages(wanted, now)

    def one(message: ReminderMessage) -> _Outcome:
        return _deliver_one(message, notifier=notifier, since=since.get(message.recipient.handle))

    if concurrency > 1 and len(messages) > 1:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="focal-send") as pool:
            outcomes = list(pool.map(one, messages))
    else:
        outcomes = [one(m) for m in messages]

    found: list[tuple[str, str, str]] = []
    posted: list[tuple[str, str, str]] = []
    addresses = {}
    for outcome in outcomes:
        found += [(key, at.channel, at.ts) for key, at in outcome.found.items()]
        if (delivery := outcome.delivery) is not None:
            report.messages += 1
            posted += [(key, delivery.channel, delivery.ts) for key in outcome.message.keys]
            recipient = outcome.message.recipient
            if delivery.address and delivery.address != outcome.message.address:
                addresses[recipient.handle] = (recipient, delivery.address)

    with uow:
        reminders = uow.reminders
        report.skipped += reminders.mark_skipped(stale, worker=worker.name, now=now)
        report.recovered += reminders.mark_sent_many(found, worker=worker.name, now=now)
        report.reminders += reminders.mark_sent_many(posted, worker=worker.name, now=now)
        reminders.remember_addresses(addresses)
        for outcome in outcomes:
            keys = list(outcome.message.keys)
            if outcome.uncertain is not None:
                report.uncertain += reminders.release_uncertain(
                    keys, worker=worker.name, error=str(outcome.uncertain), now=now
                )
                report.errors.append(f"{outcome.message.recipient.handle}: {outcome.uncertain}")
            elif outcome.failure is not None:
                error = str(outcome.failure)
                report.errors.append(f"{outcome.message.recipient.handle}: {error}")
                give_up = outcome.failure.permanent or any(
                    attempts_left[k].attempts >= MAX_ATTEMPTS for k in keys if k in attempts_left
                )
                released = reminders.release_failed(
                    keys,
                    worker=worker.name,
                    error=error,
                    retry_at=None if give_up else now + retry_after,
                    now=now,
                )
                if give_up:
                    report.failed += released
                else:
                    report.retrying += released
        report.reminders += report.recovered
        uow.commit()
    return report


def send_due(
    *,
    uow_factory: Callable[[], UnitOfWork],
    notifier: Notifier,
    now: datetime,
    worker: Worker,
    batch: int = 200,
    concurrency: int = 8,
    lease: timedelta = LEASE,
) -> DeliveryReport:
    """Deliver everything due by ``now``, ``batch`` people at a time, until none is left."""
    total = DeliveryReport()
    last: set[str] = set()
    while claimed := claim_batch(
        uow=uow_factory(), now=now, worker=worker, people=batch, lease=lease
    ):
        keys = {r.key for r in claimed}
        if keys == last:  # nothing moved on: never loop on rows that cannot be settled
            break
        last = keys
        total.add(
            deliver(
                claimed,
                uow=uow_factory(),
                notifier=notifier,
                now=now,
                worker=worker,
                concurrency=concurrency,
            )
        )
    return total


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
