"""A property, on SQLite and PostgreSQL: whatever happens to an input (time passing either way,
versions, "not applicable", its due instant moving), the SEQUENCE its feed event carries never
goes down, and it goes up whenever the event's day or status changes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.feed_state import deadline_uid
from services.feeds import build_person_feed
from services.submissions import (
    Submission,
    SubmissionRefusedError,
    declare_not_applicable,
    record_submission,
)
from tests.integration.test_loading import ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from db.uow import SqlAlchemyUnitOfWork

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
DUE = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # 17:00 in Hanoi
_numbers = itertools.count()

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("at"), st.integers(-72, 72)),  # hours from the current due instant
        st.tuples(st.just("submit"), st.just(0)),
        st.tuples(st.just("na"), st.just(0)),
        st.tuples(st.just("move"), st.integers(-3, 3)),  # days
    ),
    min_size=1,
    max_size=12,
)


def calendar(code: str) -> str:
    return f"""\
deadlines:
  - code: {code}
    title: Input {code}
    kind: report
    due: 2026-09-01
    assign: [minh]
"""


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_a_sequence_never_goes_down(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], steps: list[tuple[str, int]]
) -> None:
    code = f"PROP-{next(_numbers)}"  # each example has an input of its own
    load(make_uow, now=LOADED, roster=ROSTER, calendar=calendar(code))
    with make_uow() as uow:
        owner = uow.feeds.person("minh")
    assert owner is not None
    uid, due, now = deadline_uid(code), DUE, DUE - timedelta(days=1)
    last: tuple[int, Any] | None = None
    for kind, amount in steps:
        if kind == "at":
            now = due + timedelta(hours=amount)
        elif kind == "move":
            due += timedelta(days=amount)
            with make_uow() as uow:
                uow.calendar.set_due(code, due, now=LOADED)
                uow.commit()
        else:
            try:
                if kind == "submit":
                    record_submission(
                        Submission(code, "text", actor="minh"), uow=make_uow(), now=now
                    )
                else:
                    declare_not_applicable(code, actor="minh", reason="r", uow=make_uow(), now=now)
            except SubmissionRefusedError:
                pass  # refused: nothing changed
        feed = build_person_feed(owner, uow=make_uow(), now=now).feed
        [event] = [d for d in feed.deadlines if d.uid == uid]
        shown = (event.due_date, event.state)
        if last is not None:
            assert event.sequence >= last[0]
            if shown != last[1]:
                assert event.sequence > last[0], f"{last[1]} -> {shown}"
        last = (event.sequence, shown)
