"""The reminder planner: examples across timezones and holidays, and its properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.model import Assignment, Group, Language, Membership, Person, ReminderState, Role, Roster
from core.reminder_plan import plan_reminders, plan_window
from core.reminder_store import StoredReminder, reconcile
from core.reminders import (
    CATCH_UP,
    AssignmentState,
    OpenAssignment,
    PlannedReminder,
    ReminderKind,
    ReminderPolicy,
)
from core.workdays import WorkingCalendar

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ZONES = {
    "Asia/Ho_Chi_Minh": "VN",
    "Asia/Manila": "PH",
    "Asia/Tokyo": "JP",
    "Asia/Yangon": "MM",
    "Asia/Jakarta": "ID",
    "Asia/Bangkok": "TH",
    "Asia/Kuala_Lumpur": "MY",
    "Asia/Singapore": "SG",
    "Asia/Brunei": "BN",
    "Asia/Phnom_Penh": "KH",
    "Asia/Vientiane": "LA",
}
POLICY = ReminderPolicy()


def person(handle: str, zone: str = "Asia/Ho_Chi_Minh") -> Person:
    return Person(
        handle=handle,
        name=handle.title(),
        email=f"{handle}@example.org",
        timezone=zone,
        language=Language.EN,
        country=ZONES[zone],
    )


ROSTER = Roster(
    people={
        p.handle: p
        for p in (
            person("minh"),
            person("aye", "Asia/Yangon"),
            person("maria", "Asia/Manila"),
            person("cuong"),
            person("lan"),
            person("haruka", "Asia/Tokyo"),
        )
    },
    groups={
        "AWGESC": Group(
            "AWGESC",
            "Cities",
            (
                Membership("cuong", Role.CHAIR),
                Membership("minh", Role.FOCAL),
                Membership("maria", Role.FOCAL),
                Membership("haruka", Role.ALTERNATE),
            ),
        )
    },
    coordinators=("lan",),
)


def hanoi(*args: int) -> datetime:
    return datetime(*args, tzinfo=HANOI).astimezone(UTC)


def open_assignment(
    handle: str = "minh",
    due_at: datetime | None = None,
    *,
    assigned_at: datetime | None = None,
    via: tuple[str, ...] = ("AWGESC",),
    state: AssignmentState = AssignmentState.OPEN,
) -> OpenAssignment:
    due_at = due_at or hanoi(2026, 9, 25, 17, 0)
    return OpenAssignment(
        Assignment("ASOEN37-WORKPLANS", handle, via),
        due_at,
        assigned_at or due_at - timedelta(days=90),
        state,
    )


def local_plan(reminders: list[PlannedReminder], recipient: str) -> list[tuple[str, str, int]]:
    zone = ZoneInfo(ROSTER.people[recipient].timezone)
    return [
        (r.planned_at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"), r.kind.value, r.days_before)
        for r in reminders
        if r.recipient == recipient
    ]


# ------------------------------------------------------------------ examples


def test_the_default_plan_in_hanoi() -> None:
    plan = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    assert local_plan(plan, "minh") == [
        ("Fri 2026-09-11 09:00", "before", 14),
        ("Fri 2026-09-18 09:00", "before", 7),
        ("Tue 2026-09-22 09:00", "before", 3),
        ("Thu 2026-09-24 09:00", "before", 1),
        ("Fri 2026-09-25 09:00", "due", 0),
        # 1 day after is Saturday, 3 days after Monday: both Monday, merged into one
        ("Mon 2026-09-28 09:00", "overdue", -1),
    ]


def test_yangon_gets_its_reminders_at_nine_yangon_time() -> None:
    plan = plan_reminders([open_assignment("aye")], roster=ROSTER, policy=POLICY)
    times = [r.planned_at for r in plan if r.recipient == "aye"]
    assert {t.astimezone(UTC).strftime("%H:%M") for t in times} == {"02:30"}  # UTC+06:30
    assert local_plan(plan, "aye")[4] == ("Fri 2026-09-25 09:00", "due", 0)


def test_tet_moves_reminders_earlier_before_the_due_date_and_merges_them() -> None:
    due = hanoi(2026, 2, 23, 17, 0)  # Monday after Tết (16-20 February)
    plan = plan_reminders([open_assignment(due_at=due)], roster=ROSTER, policy=POLICY)
    assert local_plan(plan, "minh") == [
        ("Mon 2026-02-09 09:00", "before", 14),
        # 7, 3 and 1 days before fall in Tết or on the weekend: all on Friday 13, one message
        ("Fri 2026-02-13 09:00", "before", 1),
        ("Mon 2026-02-23 09:00", "due", 0),
        ("Tue 2026-02-24 09:00", "overdue", -1),
        ("Thu 2026-02-26 09:00", "overdue", -3),
    ]


def test_each_recipient_counts_in_their_own_country() -> None:
    # 1 September 2026 is a holiday in Viet Nam, not in the Philippines
    due = hanoi(2026, 9, 2, 17, 0)
    plan = plan_reminders(
        [open_assignment("minh", due), open_assignment("maria", due)], roster=ROSTER, policy=POLICY
    )
    assert local_plan(plan, "minh") == [
        ("Wed 2026-08-19 09:00", "before", 14),
        ("Wed 2026-08-26 09:00", "before", 7),
        # 3 and 1 days before and the due day itself (31 Aug - 2 Sep are off): one on Friday
        ("Fri 2026-08-28 09:00", "due", 0),
        ("Thu 2026-09-03 09:00", "overdue", -1),
        ("Mon 2026-09-07 09:00", "overdue", -3),
    ]
    assert local_plan(plan, "maria") == [
        ("Wed 2026-08-19 09:00", "before", 14),
        ("Wed 2026-08-26 09:00", "before", 7),
        ("Fri 2026-08-28 09:00", "before", 3),  # Sunday 30 Aug, moved earlier
        ("Tue 2026-09-01 09:00", "before", 1),
        ("Wed 2026-09-02 09:00", "due", 0),
        ("Thu 2026-09-03 09:00", "overdue", -1),
        ("Mon 2026-09-07 09:00", "overdue", -3),
    ]


def test_a_morning_deadline_gets_its_due_day_reminder_the_day_before() -> None:
    due = hanoi(2026, 9, 25, 8, 0)  # before the 09:00 reminder hour
    plan = plan_reminders([open_assignment(due_at=due)], roster=ROSTER, policy=POLICY)
    pre = [r for r in plan if r.days_before >= 0]
    assert all(r.planned_at <= due for r in pre)
    assert ("Thu 2026-09-24 09:00", "due", 0) in local_plan(plan, "minh")


@pytest.mark.parametrize(
    "state", [AssignmentState.SUBMITTED, AssignmentState.NOT_APPLICABLE, AssignmentState.CANCELLED]
)
def test_nothing_for_closed_inputs(state: AssignmentState) -> None:
    assert plan_reminders([open_assignment(state=state)], roster=ROSTER, policy=POLICY) == []


def test_a_late_assignment_gets_one_notice_instead_of_the_missed_reminders() -> None:
    assigned = hanoi(2026, 9, 21, 15, 30)
    plan = plan_reminders([open_assignment(assigned_at=assigned)], roster=ROSTER, policy=POLICY)
    assert local_plan(plan, "minh") == [
        ("Mon 2026-09-21 15:30", "assigned", 0),
        ("Tue 2026-09-22 09:00", "before", 3),
        ("Thu 2026-09-24 09:00", "before", 1),
        ("Fri 2026-09-25 09:00", "due", 0),
        ("Mon 2026-09-28 09:00", "overdue", -1),
    ]


def test_escalation_goes_to_the_chair_and_the_coordinators_in_their_zones() -> None:
    plan = plan_reminders([open_assignment("maria")], roster=ROSTER, policy=POLICY)
    escalations = [r for r in plan if r.kind is ReminderKind.ESCALATION]
    assert {r.recipient for r in escalations} == {"cuong", "lan"}
    assert {r.person for r in escalations} == {"maria"}
    # 3 days after Fri 25 Sep is Mon 28 Sep, a working day in Viet Nam
    assert local_plan(plan, "cuong") == [("Mon 2026-09-28 09:00", "escalation", -3)]


def test_assigned_by_name_escalates_to_the_coordinators_only() -> None:
    plan = plan_reminders([open_assignment("minh", via=())], roster=ROSTER, policy=POLICY)
    assert {r.recipient for r in plan if r.kind is ReminderKind.ESCALATION} == {"lan"}


def test_keys_are_stable_and_name_the_due_instant() -> None:
    first = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    assert first == plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    assert first[0].key == "ASOEN37-WORKPLANS/minh/before+14/20260925T1000Z"
    moved = plan_reminders(
        [open_assignment(due_at=hanoi(2026, 10, 2, 17, 0))], roster=ROSTER, policy=POLICY
    )
    assert not {r.key for r in first} & {r.key for r in moved}


def test_the_policy_is_data() -> None:
    policy = ReminderPolicy(days_before=(2, 0), hour=14, escalate_after_days=1)
    plan = plan_reminders([open_assignment()], roster=ROSTER, policy=policy)
    assert local_plan(plan, "minh") == [
        ("Wed 2026-09-23 14:00", "before", 2),
        ("Fri 2026-09-25 14:00", "due", 0),
    ]
    assert local_plan(plan, "lan") == [("Mon 2026-09-28 14:00", "escalation", -1)]
    with pytest.raises(ValueError, match="0 to 23"):
        ReminderPolicy(hour=24)


# ------------------------------------------------------------------ reconcile


def stored(reminder: PlannedReminder, state: ReminderState) -> StoredReminder:
    return StoredReminder(
        reminder.key,
        reminder.deadline,
        reminder.person,
        reminder.recipient,
        reminder.kind,
        reminder.planned_at,
        reminder.due_at,
        state,
    )


def test_reconcile_adds_what_is_new_and_never_touches_what_was_sent() -> None:
    now = hanoi(2026, 9, 12, 10, 0)
    plan = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    changes = reconcile(plan, [], now=now)
    assert changes.add == tuple(plan)
    store = [stored(plan[0], ReminderState.SENT)] + [
        stored(r, ReminderState.PLANNED) for r in plan[1:]
    ]
    assert reconcile(plan, store, now=now).empty

    submitted = plan_reminders(
        [open_assignment(state=AssignmentState.SUBMITTED)], roster=ROSTER, policy=POLICY
    )
    changes = reconcile(submitted, store, now=now)
    assert set(changes.skip) == {r.key for r in plan[1:]}
    assert plan[0].key not in changes.skip
    assert changes.notices == ()


def test_a_moved_deadline_is_replanned_and_the_reminded_are_told_once() -> None:
    now = hanoi(2026, 9, 12, 10, 0)
    before = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    store = [stored(before[0], ReminderState.SENT)] + [
        stored(r, ReminderState.PLANNED) for r in before[1:]
    ]
    after = plan_reminders(
        [open_assignment(due_at=hanoi(2026, 10, 2, 17, 0))], roster=ROSTER, policy=POLICY
    )
    changes = reconcile(after, store, now=now)
    assert set(changes.skip) == {r.key for r in before[1:]}
    assert {r.key for r in changes.add} == {r.key for r in after}
    assert [(n.recipient, n.kind, n.planned_at) for n in changes.notices] == [
        ("minh", ReminderKind.CHANGED, now)
    ]
    notice = changes.notices[0]
    store += [stored(notice, ReminderState.SENT)]
    store += [stored(r, ReminderState.PLANNED) for r in changes.add]
    assert reconcile(after, store, now=now + timedelta(hours=1)).notices == ()


def test_an_unsent_change_notice_is_dropped_once_it_is_stale() -> None:
    now = hanoi(2026, 9, 12, 10, 0)
    before = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    store = [stored(before[0], ReminderState.SENT)]
    moved = plan_reminders(
        [open_assignment(due_at=hanoi(2026, 10, 2, 17, 0))], roster=ROSTER, policy=POLICY
    )
    notice = reconcile(moved, store, now=now).notices[0]
    store += [stored(notice, ReminderState.PLANNED)] + [
        stored(r, ReminderState.PLANNED) for r in moved
    ]
    # still current: kept
    assert notice.key not in reconcile(moved, store, now=now).skip
    # submitted before it went out: skipped
    done = plan_reminders(
        [open_assignment(state=AssignmentState.SUBMITTED)], roster=ROSTER, policy=POLICY
    )
    assert notice.key in reconcile(done, store, now=now).skip
    # moved again: the old notice is skipped and a new one planned
    again = plan_reminders(
        [open_assignment(due_at=hanoi(2026, 10, 9, 17, 0))], roster=ROSTER, policy=POLICY
    )
    changes = reconcile(again, store, now=now)
    assert notice.key in changes.skip
    assert [n.due_at for n in changes.notices] == [hanoi(2026, 10, 9, 17, 0)]


def test_a_new_reminder_hour_retimes_the_unsent_ones() -> None:
    now = hanoi(2026, 9, 12, 10, 0)
    plan = plan_reminders([open_assignment()], roster=ROSTER, policy=POLICY)
    store = [stored(r, ReminderState.PLANNED) for r in plan]
    later = plan_reminders([open_assignment()], roster=ROSTER, policy=replace(POLICY, hour=10))
    changes = reconcile(later, store, now=now)
    assert len(changes.retime) == len(plan)
    assert changes.add == ()
    assert changes.skip == ()


# ---------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(sorted(ZONES))


@settings(max_examples=80, deadline=None)
@given(due=instants, zone=zones, hour=st.integers(0, 23), lead=st.integers(0, 40))
def test_planner_properties(due: datetime, zone: str, hour: int, lead: int) -> None:
    roster = Roster(
        people={"p": person("p", zone), "c": person("c", "Asia/Yangon")},
        groups={},
        coordinators=("c",),
    )
    policy = ReminderPolicy(hour=hour)
    item = OpenAssignment(Assignment("D", "p"), due, due - timedelta(days=lead))
    plan = plan_reminders([item], roster=roster, policy=policy)

    # planning is deterministic and idempotent against its own store
    assert plan == plan_reminders([item], roster=roster, policy=policy)
    store = [stored(r, ReminderState.PLANNED) for r in plan]
    assert reconcile(plan, store, now=due).empty
    # keys are unique: one reminder per key
    assert len({r.key for r in plan}) == len(plan)
    for r in plan:
        if r.kind is ReminderKind.ASSIGNED:
            assert r.planned_at == item.assigned_at
            continue
        recipient = roster.people[r.recipient]
        local = r.planned_at.astimezone(ZoneInfo(recipient.timezone))
        # every reminder is at the hour, on a working day of the recipient's country
        assert (local.hour, local.minute) == (hour, 0)
        assert WorkingCalendar(recipient.country).is_working_day(local.date())
        # never a reminder before the due date after the due instant; overdue ones after it
        if r.days_before >= 0:
            assert r.planned_at <= due
        else:
            assert r.planned_at > due or local.date() > due.astimezone(local.tzinfo).date()
        assert r.planned_at >= item.assigned_at
    # one message per recipient and local day
    days = [
        (r.recipient, r.planned_at.astimezone(ZoneInfo(roster.people[r.recipient].timezone)).date())
        for r in plan
        if r.kind is not ReminderKind.ASSIGNED
    ]
    assert len(days) == len(set(days))


@settings(max_examples=40, deadline=None)
@given(due=instants, shift=st.integers(-20, 20).filter(bool))
def test_moving_a_deadline_never_loses_a_sent_reminder(due: datetime, shift: int) -> None:
    item = open_assignment(due_at=due)
    plan = plan_reminders([item], roster=ROSTER, policy=POLICY)
    store = [
        stored(r, ReminderState.SENT if i % 2 else ReminderState.PLANNED)
        for i, r in enumerate(plan)
    ]
    moved = plan_reminders(
        [replace(item, due_at=due + timedelta(days=shift))], roster=ROSTER, policy=POLICY
    )
    changes = reconcile(moved, store, now=due)
    sent = {s.key for s in store if s.state is ReminderState.SENT}
    assert not sent & set(changes.skip)
    assert not sent & {key for key, _ in changes.retime}
    assert {n.recipient for n in changes.notices} <= {
        s.recipient for s in store if s.state is ReminderState.SENT
    }


@settings(max_examples=60, deadline=None)
@given(
    due=instants,
    zone=zones,
    lead=st.integers(0, 40),
    offset=st.integers(-30 * 24, 30 * 24),
)
def test_the_window_is_the_current_part_of_the_plan(
    due: datetime, zone: str, lead: int, offset: int
) -> None:
    roster = Roster(
        people={"p": person("p", zone), "c": person("c", "Asia/Tokyo")},
        groups={},
        coordinators=("c",),
    )
    item = OpenAssignment(Assignment("D", "p"), due, due - timedelta(days=lead))
    now = due + timedelta(hours=offset)
    until = now + timedelta(hours=36)
    full = plan_reminders([item], roster=roster, policy=POLICY)
    window = plan_window([item], roster=roster, policy=POLICY, now=now, until=until)
    assert window == plan_window([item], roster=roster, policy=POLICY, now=now, until=until)
    assert set(window) <= set(full)
    # everything in the horizon is there; of what is due, only the latest per recipient
    assert {r for r in full if now < r.planned_at <= until} <= set(window)
    due_now = [r for r in window if r.planned_at <= now]
    assert len({r.recipient for r in due_now}) == len(due_now)
    for r in due_now:
        assert r.planned_at >= now - CATCH_UP
        later = [
            x for x in full if x.recipient == r.recipient and r.planned_at < x.planned_at <= now
        ]
        assert later == []
