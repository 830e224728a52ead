"""Planning into the store and delivering, through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

import db.reminders
from core.model import ReminderState
from core.reminders import ReminderKind, ReminderPolicy
from db.models import AssignmentRow, DeadlineRow, PersonRow, ReminderRow, SubmissionRow
from services.delivery import Worker, claim_batch, send_due
from services.ports import DeliveryFailedError
from services.reminders import refresh_plan
from tests.fakes import RecordingNotifier
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork

POLICY = ReminderPolicy()
LOADED = datetime(2026, 7, 1, tzinfo=UTC)


def run(
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
    notifier: RecordingNotifier,
    now: datetime,
    name: str = "w1",
) -> None:
    refresh_plan(uow=make_uow(), policy=POLICY, now=now)
    send_due(uow_factory=make_uow, notifier=notifier, now=now, worker=Worker(name), concurrency=2)


def hourly(make_uow, notifier, start: datetime, end: datetime) -> None:
    now = start
    while now <= end:
        run(make_uow, notifier, now)
        now += timedelta(hours=1)


def states(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(connection.scalars(select(ReminderRow.state)))


def test_each_reminder_once_and_one_message_per_person_per_run(make_uow, engine) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    notifier = RecordingNotifier()
    hourly(make_uow, notifier, datetime(2026, 8, 10, tzinfo=UTC), datetime(2026, 9, 10, tzinfo=UTC))
    keys = notifier.keys()
    assert keys, "a month of reminders"
    assert len(keys) == len(set(keys)), "no reminder twice"
    assert states(engine)[ReminderState.SENDING] == 0
    with engine.connect() as connection:
        sent = set(connection.scalars(select(ReminderRow.key).where(ReminderRow.state == "sent")))
    assert sent == set(keys)
    # minh owes ASOEN37-WORKPLANS (due 1 Sep Hanoi time): 14, 7, 3, 1 days before, the day...
    minh = [m for m in notifier.reminders() if m.recipient.handle == "minh"]
    steps = [
        line.kind for m in minh for line in m.lines if line.deadline.code == "ASOEN37-WORKPLANS"
    ]
    assert steps[:2] == [ReminderKind.BEFORE, ReminderKind.BEFORE]
    assert ReminderKind.OVERDUE in steps
    # the chair (cuong) and the coordinator (lan) hear of it at 3 days overdue
    told = {
        m.recipient.handle
        for m in notifier.reminders()
        for line in m.lines
        if line.kind is ReminderKind.ESCALATION and line.person == "minh"
    }
    assert told == {"cuong", "lan"}


def test_no_reminder_after_a_submission(make_uow, engine) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    notifier = RecordingNotifier()
    run(make_uow, notifier, datetime(2026, 8, 18, 3, tzinfo=UTC))
    with make_uow() as uow:
        assignment = uow.session.scalar(
            select(AssignmentRow)
            .join(DeadlineRow)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(DeadlineRow.code == "ASOEN37-WORKPLANS", PersonRow.handle == "minh")
        )
        assert assignment is not None
        uow.session.add(
            SubmissionRow(
                assignment_id=assignment.id,
                version=1,
                text="done",
                submitted_by_id=assignment.person_id,
                submitted_at=datetime(2026, 8, 18, 4, tzinfo=UTC),
                late=False,
                status="received",
            )
        )
        uow.commit()  # the plan is not redone: each reminder is checked when its turn comes
    before = len(notifier.keys())
    hourly(
        make_uow, notifier, datetime(2026, 8, 18, 5, tzinfo=UTC), datetime(2026, 9, 10, tzinfo=UTC)
    )
    later = notifier.reminders()[before:]
    assert not [
        line
        for m in later
        for line in m.lines
        if line.deadline.code == "ASOEN37-WORKPLANS" and line.person == "minh"
    ]


def test_a_moved_deadline_is_planned_again_and_the_reminded_are_told(make_uow, engine) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    notifier = RecordingNotifier()
    hourly(make_uow, notifier, datetime(2026, 8, 18, tzinfo=UTC), datetime(2026, 8, 19, tzinfo=UTC))
    postponed = CALENDAR.replace("start: 2026-09-22T09:00", "start: 2026-10-20T09:00").replace(
        "end: 2026-09-24T17:00", "end: 2026-10-22T17:00"
    )
    load(make_uow, now=datetime(2026, 8, 19, 2, tzinfo=UTC), roster=ROSTER, calendar=postponed)
    before = len(notifier.sent)
    hourly(
        make_uow, notifier, datetime(2026, 8, 19, 2, tzinfo=UTC), datetime(2026, 8, 20, tzinfo=UTC)
    )
    changed = [
        (m.recipient.handle, line.deadline.code)
        for m in notifier.reminders()[before:]
        for line in m.lines
        if line.kind is ReminderKind.CHANGED
    ]
    assert ("minh", "ASOEN37-WORKPLANS") in changed
    assert len(changed) == len(set(changed))
    # nothing planned for the old date is left waiting
    with engine.connect() as connection:
        old = connection.scalars(
            select(ReminderRow.key).where(
                ReminderRow.state == "planned",
                ReminderRow.due_at < datetime(2026, 9, 15, tzinfo=UTC),
                ReminderRow.kind != "changed",
            )
        ).all()
    assert [k for k in old if k.startswith("ASOEN37")] == []


def test_failures_are_retried_and_unclear_ones_looked_up_before_posting(make_uow, engine) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    # the first answer is unclear although the message was posted; the second unclear and not
    notifier = RecordingNotifier(unclear_next=[True, False])
    now = datetime(2026, 8, 18, 3, tzinfo=UTC)  # minh and aye are due
    run(make_uow, notifier, now)
    assert states(engine)[ReminderState.SENDING] == 2
    notifier.fail_next = [DeliveryFailedError("fatal_error")]
    for minutes in (6, 12, 30):
        run(make_uow, notifier, now + timedelta(minutes=minutes))
    keys = notifier.keys()
    assert len(keys) == len(set(keys)), "the posted one was found, not posted again"
    counts = states(engine)
    assert counts[ReminderState.SENDING] == 0
    assert counts[ReminderState.FAILED] == 0
    with engine.connect() as connection:
        sent = set(connection.scalars(select(ReminderRow.key).where(ReminderRow.state == "sent")))
    assert sent == set(keys)


def test_two_workers_at_once_send_each_reminder_once(make_uow, engine) -> None:
    import threading  # noqa: PLC0415

    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    notifier = RecordingNotifier()
    now = datetime(2026, 9, 5, 2, tzinfo=UTC)
    refresh_plan(uow=make_uow(), policy=POLICY, now=now)
    workers = [
        threading.Thread(
            target=send_due,
            kwargs={
                "uow_factory": make_uow,
                "notifier": notifier,
                "now": now,
                "worker": Worker(f"w{i}"),
                "batch": 1,
            },
        )
        for i in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    keys = notifier.keys()
    assert keys
    assert len(keys) == len(set(keys))
    assert states(engine)[ReminderState.SENDING] == 0


@pytest.mark.parametrize("update_from", [True, False], ids=["update-from", "row-by-row"])
def test_marking_sent_touches_only_what_the_worker_holds(
    make_uow, engine, monkeypatch: pytest.MonkeyPatch, *, update_from: bool
) -> None:
    if not update_from:
        if engine.dialect.name != "sqlite":
            pytest.skip("only SQLite before 3.33 marks row by row")
        monkeypatch.setattr(db.reminders.sqlite3, "sqlite_version_info", (3, 31, 1))
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    now = datetime(2026, 9, 5, 2, tzinfo=UTC)
    refresh_plan(uow=make_uow(), policy=POLICY, now=now)
    mine = claim_batch(uow=make_uow(), now=now, worker=Worker("mine"), people=2)
    theirs = claim_batch(uow=make_uow(), now=now, worker=Worker("theirs"), people=1)
    assert mine
    assert theirs
    sent = [(r.key, f"D{r.recipient.handle}", f"1.{n:06d}") for n, r in enumerate(mine)]
    sent += [(r.key, "DX", "9.000000") for r in theirs]  # not held by "mine": left alone

    with make_uow() as uow:
        marked = uow.reminders.mark_sent_many(sent, worker="mine", now=now)
        uow.commit()

    assert marked == len(mine)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ReminderRow.key,
                ReminderRow.state,
                ReminderRow.slack_channel,
                ReminderRow.slack_ts,
                ReminderRow.sent_at,
            ).where(ReminderRow.key.in_([key for key, _, _ in sent]))
        ).all()
    stored = {key: (state, channel, ts, at) for key, state, channel, ts, at in rows}
    for key, channel, ts in sent[: len(mine)]:
        assert stored[key] == ("sent", channel, ts, now)
    for r in theirs:
        assert stored[r.key][:3] == ("sending", None, None)
