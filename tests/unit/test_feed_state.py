"""What a feed says about a deadline, and its SEQUENCE: rules and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.feed_state import (
    Owed,
    deadline_state,
    deadline_uid,
    fingerprint,
    next_sequence,
    state_changed_at,
    valid_until,
)
from core.feeds import DeadlineState
from core.model import SubmissionStatus

DUE = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
BEFORE, AFTER = DUE - timedelta(seconds=1), DUE + timedelta(seconds=1)
NOTHING = Owed(0, None, None, None)
SENT = Owed(1, SubmissionStatus.RECEIVED, BEFORE, None)
RETURNED = Owed(2, SubmissionStatus.RETURNED, BEFORE, None)
EXCUSED = Owed(0, None, None, BEFORE)


def state(*owed: Owed, now: datetime = BEFORE, cancelled: bool = False) -> DeadlineState:
    return deadline_state(owed, due_at=DUE, meeting_cancelled=cancelled, now=now)


def test_a_persons_input() -> None:
    assert state(NOTHING) is DeadlineState.DUE
    assert state(NOTHING, now=DUE) is DeadlineState.DUE, "due until the instant has passed"
    assert state(NOTHING, now=AFTER) is DeadlineState.OVERDUE
    assert state(SENT, now=AFTER) is DeadlineState.SUBMITTED
    assert state(RETURNED, now=AFTER) is DeadlineState.OVERDUE, "returned: owed again"
    assert state(EXCUSED) is DeadlineState.NOT_APPLICABLE
    assert state(SENT, cancelled=True) is DeadlineState.NOT_APPLICABLE


def test_a_groups_input_is_settled_when_everyone_owing_it_is() -> None:
    assert state(SENT, NOTHING, now=AFTER) is DeadlineState.OVERDUE
    assert state(SENT, EXCUSED) is DeadlineState.SUBMITTED
    assert state(EXCUSED, EXCUSED) is DeadlineState.NOT_APPLICABLE
    assert state() is DeadlineState.DUE, "assigned to nobody yet: still due"


def test_when_it_changed() -> None:
    updated = DUE - timedelta(days=30)
    assert (
        state_changed_at([SENT], state=DeadlineState.SUBMITTED, due_at=DUE, updated_at=updated)
        == BEFORE
    )
    assert (
        state_changed_at([NOTHING], state=DeadlineState.OVERDUE, due_at=DUE, updated_at=updated)
        == DUE
    )
    assert state_changed_at([], state=DeadlineState.DUE, due_at=DUE, updated_at=updated) == updated


def test_uids_are_stable_and_carry_no_code() -> None:
    assert deadline_uid("ASOEN37-WORKPLANS") == deadline_uid("ASOEN37-WORKPLANS")
    assert deadline_uid("ASOEN37-WORKPLANS") != deadline_uid("ASOEN37-POSITION")
    assert "ASOEN" not in deadline_uid("ASOEN37-WORKPLANS")


def test_the_next_change_by_time() -> None:
    later = DUE + timedelta(days=3)
    due = [(DUE, DeadlineState.DUE), (later, DeadlineState.DUE), (BEFORE, DeadlineState.SUBMITTED)]
    assert valid_until(due, now=BEFORE) == DUE
    assert valid_until([(DUE, DeadlineState.OVERDUE)], now=AFTER) is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(list(DeadlineState)), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_a_sequence_never_goes_down_and_rises_on_every_change(
    steps: list[tuple[int, DeadlineState, bool]],
) -> None:
    """Whatever the store's own count of moves does (it only rises) and whatever the state
    does, the served SEQUENCE never falls, and rises whenever the fingerprint changes."""
    base = 0
    stored: int | None = None
    last_print: str | None = None
    for raise_base, new_state, moved in steps:
        base += raise_base
        print_ = fingerprint(DUE + timedelta(days=int(moved)), new_state)
        changed = last_print is not None and print_ != last_print
        sequence = next_sequence(stored, base=base, changed=changed)
        if stored is not None:
            assert sequence >= stored
            if changed:
                assert sequence > stored
        assert sequence >= base
        stored, last_print = sequence, print_
