"""Delivering the reminders that are due, exactly once: claim, post, record.

``send_due`` claims the due reminders a batch of people at a time (a conditional update: no two
runs take the same row), posts one message per person, and marks them sent, recording what
became of the rest (skipped, to retry, given up, unclear). The next batch is claimed and the
last one recorded while a batch is posted. See ``db/reminders.py`` and docs/reminders.md.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from core.notices import ReminderLine, ReminderMessage
from core.reminders import ReminderKind
from services.ports import Delivery, DeliveryFailedError, DeliveryUncertainError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor
    from datetime import datetime

    from db.reminders import ClaimedReminder
    from services.ports import Notifier, UnitOfWork

#: A claim older than this whose holder cannot be asked is taken over (it may have crashed).
LEASE = timedelta(minutes=10)
#: Attempts before a reminder that keeps failing is given up (``failed``, shown to coordinators).
MAX_ATTEMPTS = 6
#: After a failure that posted nothing, a reminder is tried again this much later.
RETRY_AFTER = timedelta(minutes=5)
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
    *,
    uow: UnitOfWork,
    now: datetime,
    worker: Worker,
    people: int,
    lease: timedelta = LEASE,
    recipients: Sequence[int] | None = None,
) -> list[ClaimedReminder]:
    """Take the due reminders of up to ``people`` recipients (these ``recipients``, when
    given, as far as they are still due), and any left by dead runs."""
    with uow:
        holders = uow.reminders.holders()
        abandoned = [
            holder
            for holder, since in holders.items()
            if holder is None or since < now - lease or worker.is_gone(holder)
        ]
        if abandoned:
            uow.reminders.take_over(abandoned, now=now, worker=worker.name)
        if recipients is not None:
            uow.reminders.claim(recipients, now=now, worker=worker.name)
        else:
            for _ in range(_CLAIM_TRIES):
                picked = uow.reminders.due_recipients(now=now, limit=people)
                if not picked or uow.reminders.claim(picked, now=now, worker=worker.name):
                    break
                # another run took these people first (it held their rows): pick again
        uow.commit()
        return uow.reminders.claimed(worker.name)


def due_people(*, uow: UnitOfWork, now: datetime) -> list[int]:
    """Everyone with reminders due by ``now``, longest waiting first: a run's queue."""
    with uow:
        return uow.reminders.due_recipients(now=now, limit=None)


def _current_first(r: ClaimedReminder) -> tuple[int, float, str]:
    return _PRIORITY[r.kind], -r.due_at.timestamp(), r.key


def messages_for(claimed: Sequence[ClaimedReminder], now: datetime) -> list[ReminderMessage]:
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
            best = steps[0] if len(steps) == 1 else min(steps, key=_current_first)
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


def _post(
    claimed: Sequence[ClaimedReminder],
    *,
    notifier: Notifier,
    now: datetime,
    pool: Executor | None,
    workers: int = 1,
) -> list[_Outcome]:
    """Post one message per recipient of the still-wanted reminders of ``claimed``, with
    ``workers`` threads of ``pool``."""
    wanted = [r for r in claimed if r.still_open]
    since = {r.recipient.handle: r.claimed_at for r in wanted if r.recovering and r.claimed_at}
    messages = messages_for(wanted, now)

    def one(message: ReminderMessage) -> _Outcome:
        return _deliver_one(message, notifier=notifier, since=since.get(message.recipient.handle))

    if pool is None or len(messages) < 2:  # noqa: PLR2004 - one message needs no pool
        return [one(m) for m in messages]
    # each worker takes the next message until none is left: a future per worker, not per
    # message (futures and their conditions were a tenth of a run's Python time)
    outcomes: list[_Outcome | None] = [None] * len(messages)
    turns = itertools.count()

    def work() -> None:
        while (i := next(turns)) < len(messages):
            outcomes[i] = one(messages[i])

    for running in [pool.submit(work) for _ in range(min(workers, len(messages)))]:
        running.result()
    return [o for o in outcomes if o is not None]


def _record(
    claimed: Sequence[ClaimedReminder],
    outcomes: Sequence[_Outcome],
    *,
    uow: UnitOfWork,
    now: datetime,
    worker: Worker,
    retry_after: timedelta,
) -> DeliveryReport:
    """What became of each claimed reminder, in one transaction."""
    report = DeliveryReport()
    stale = [r.key for r in claimed if not r.still_open]
    attempts_left = {r.key: r for r in claimed if r.still_open}
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
    batches: int | None = None,
) -> DeliveryReport:
    """Deliver everything due by ``now`` (or ``batches`` batches of ``batch`` people), until
    none is left.

    The database and Slack are not waited for in turn: while one batch is posted, the next is
    claimed (on one thread) and the last one's outcomes recorded (on another), each in its own
    transaction. A batch is claimed under a holder name of its own (the run's, and its number),
    so that a claim made while the last batch is still held returns only what it took. Who is
    due is read once, in order; batches take the next people from that queue (a claim takes
    only what is still due), and once it is spent a last pick finds anything released since.
    """
    total = DeliveryReport()
    queue = due_people(uow=uow_factory(), now=now)

    def claim(n: int) -> tuple[Worker, list[ClaimedReminder], bool]:
        """Batch ``n``'s holder, what it took, and whether that came from the queue."""
        holder = replace(worker, name=f"{worker.name}|{n}")
        people = queue[(n - 1) * batch : n * batch] or None
        claimed = claim_batch(
            uow=uow_factory(), now=now, worker=holder, people=batch, lease=lease, recipients=people
        )
        return holder, claimed, people is not None

    first = claim(1)
    if not first[1] and not first[2]:
        return total  # the every-minute run with nothing due starts no threads
    attempted: set[str] = set()
    recorded: list[Future[DeliveryReport]] = []
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="focal-claim") as claims,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="focal-record") as records,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="focal-send") as pool,
    ):
        following: Future[tuple[Worker, list[ClaimedReminder], bool]] | None = None
        n, (holder, claimed, queued) = 1, first
        while claimed or queued:  # a queued batch may come back empty (others took them)
            keys = {r.key for r in claimed}
            if claimed and keys <= attempted:  # never loop on rows that cannot be settled
                break
            attempted |= keys
            following = claims.submit(claim, n + 1) if batches is None or n < batches else None
            if claimed:
                outcomes = _post(
                    claimed, notifier=notifier, now=now, pool=pool, workers=concurrency
                )
                recorded.append(
                    records.submit(
                        _record,
                        claimed,
                        outcomes,
                        uow=uow_factory(),
                        now=now,
                        worker=holder,
                        retry_after=RETRY_AFTER,
                    )
                )
            if following is None:
                break
            n, (holder, claimed, queued) = n + 1, following.result()
        for done in recorded:
            total.add(done.result())
    return total
