"""Planning only what changed leaves the store exactly as planning everything would.

A property, on SQLite and PostgreSQL: whatever happens between two plans (time passing
either way, reminders sent, failing and waiting to be tried again, a meeting moving, a
submission or an excuse, "Remind me tomorrow", the roster changing, a deadline added or
removed),
the plan ``refresh_plan`` makes deadline by deadline writes the same reminders as a plan of
every deadline in full from the same store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.reminders import ReminderPolicy
from db.models import Base, ReminderRow
from db.uow import SqlAlchemyUnitOfWork
from services.delivery import Worker, send_due
from services.ports import DeliveryFailedError
from services.reminders import refresh_plan, remind_tomorrow
from services.submissions import (
    Submission,
    SubmissionRefusedError,
    declare_not_applicable,
    record_submission,
)
from tests.fakes import RecordingNotifier
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

POLICY = ReminderPolicy()
LOADED = datetime(2026, 7, 1, tzinfo=UTC)
START = datetime(2026, 8, 17, 2, tzinfo=UTC)  # minh's first reminders of ASOEN37-WORKPLANS
#: What the store holds of a reminder; the id is left out (rows are added in another order).
COLUMNS = tuple(c for c in ReminderRow.__table__.columns if c.name != "id")

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("later"), st.integers(1, 80)),  # hours
        st.tuples(st.just("earlier"), st.integers(1, 30)),
        st.tuples(st.just("send"), st.just(0)),
        st.tuples(st.just("fail"), st.just(0)),  # nothing posted: tried again later
        st.tuples(st.just("move"), st.integers(-10, 10).filter(bool)),  # days
        st.tuples(st.just("submit"), st.sampled_from(["minh", "aye"])),
        st.tuples(st.just("excuse"), st.sampled_from(["minh", "aye"])),
        st.tuples(st.just("tomorrow"), st.sampled_from(["minh", "aye"])),
        st.tuples(st.just("roster"), st.integers(0, 2)),
        st.tuples(st.just("remove"), st.just(0)),
        st.tuples(st.just("new"), st.integers(-20, 20)),  # a new deadline, due days from now
    ),
    min_size=1,
    max_size=8,
)


class _PeekingUnitOfWork(SqlAlchemyUnitOfWork):
    """Commits nothing: ``commit`` reads the reminders as they would be, then rolls back."""

    rows: set[tuple[Any, ...]]

    def commit(self) -> None:
        self.session.flush()
        self.rows = _rows(self.session)
        self.session.rollback()


def _rows(session: Session) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in session.execute(select(*COLUMNS))}


def _plan_both_ways(
    factory: sessionmaker[Session], make_uow: Callable[[], SqlAlchemyUnitOfWork], now: datetime
) -> None:
    full = _PeekingUnitOfWork(factory)
    refresh_plan(uow=full, policy=POLICY, now=now, force=True, full=True)
    refresh_plan(uow=make_uow(), policy=POLICY, now=now, force=True)
    with make_uow() as uow:
        assert _rows(uow.session) == full.rows


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def _moved(days: int) -> str:
    start = datetime(2026, 9, 22) + timedelta(days=days)
    end = start + timedelta(days=2)
    return CALENDAR.replace("start: 2026-09-22T09:00", f"start: {start:%Y-%m-%dT09:00}").replace(
        "end: 2026-09-24T17:00", f"end: {end:%Y-%m-%dT17:00}"
    )


def _new_deadline(number: int, due: datetime) -> str:
    return f"""\
  - code: NEW-{number}
    title: A new input
    kind: report
    due: {due:%Y-%m-%dT%H:00}
    assign: [AWGESC, AWGEE, lan]
"""


def _roster(variant: int) -> str:
    if variant == 0:  # minh moves to Manila
        return ROSTER.replace(
            "{handle: minh, name: Le Minh, email: minh@example.gov.vn, timezone: Asia/Ho_Chi_Minh}",
            "{handle: minh, name: Le Minh, email: minh@example.gov.vn, timezone: Asia/Manila,"
            " country: PH}",
        )
    if variant == 1:  # the chair of AWGESC steps down: hoa takes over
        return ROSTER.replace("{person: cuong, role: chair}", "{person: cuong, role: member}")
    return ROSTER.replace(  # hoa becomes a focal point of AWGEE too
        "      - {person: aye, role: focal}",
        "      - {person: aye, role: focal}\n      - {person: hoa, role: focal}",
    )


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    from db.engine import build_session_factory  # noqa: PLC0415 - the conftest builds the same

    return build_session_factory(engine)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_planning_what_changed_gives_the_store_a_full_plan_gives(
    engine: Engine,
    factory: sessionmaker[Session],
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
    steps: list[tuple[str, Any]],
) -> None:
    _empty(engine)
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    now, calendar, roster = START, CALENDAR, ROSTER
    notifier = RecordingNotifier()
    _plan_both_ways(factory, make_uow, now)
    for number, (kind, value) in enumerate(steps):
        if kind == "later":
            now += timedelta(hours=value)
        elif kind == "earlier":
            now -= timedelta(hours=value)
        elif kind in {"send", "fail"}:
            if kind == "fail":
                notifier.fail_next = [DeliveryFailedError("internal_error")] * 3
            send_due(uow_factory=make_uow, notifier=notifier, now=now, worker=Worker("w"))
            notifier.fail_next = []
        elif kind == "move":
            calendar = _moved(value)
            load(make_uow, now=now, roster=roster, calendar=calendar)
        elif kind == "roster":
            roster = _roster(value)
            load(make_uow, now=now, roster=roster, calendar=calendar)
        elif kind == "remove":
            calendar = calendar.split("  - code: ANNUAL-REPORT")[0]
            load(make_uow, now=now, roster=roster, calendar=calendar, prune=True)
        elif kind == "new":
            calendar += _new_deadline(number, now + timedelta(days=value))
            load(make_uow, now=now, roster=roster, calendar=calendar)
        else:
            _act(make_uow, kind, value, now)
        _plan_both_ways(factory, make_uow, now)


def _act(make_uow: Callable[[], SqlAlchemyUnitOfWork], kind: str, who: str, now: datetime) -> None:
    code = "ASOEN37-WORKPLANS"
    try:
        if kind == "submit":
            record_submission(Submission(code, "done", actor=who), uow=make_uow(), now=now)
        elif kind == "excuse":
            declare_not_applicable(code, actor=who, reason="n/a", uow=make_uow(), now=now)
        else:
            remind_tomorrow(code, handle=who, uow=make_uow(), policy=POLICY, now=now)
    except SubmissionRefusedError:
        pass  # already settled, or the deadline is gone: nothing changed
