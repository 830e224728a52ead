"""Planning only what changed, pure: the window's move, the groups asked for lazily, the
fingerprints that say which deadlines changed, and a retried reminder keeping its time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.assignments import AssignedThrough, derive_assignments
from core.model import (
    AbsoluteDue,
    Assignment,
    Deadline,
    DeadlineKind,
    Group,
    Language,
    Membership,
    Person,
    ReminderState,
    Role,
    Roster,
)
from core.reminder_plan import (
    plan_reminders,
    plan_window,
    plan_window_changes,
    plan_window_parts,
)
from core.reminder_store import StoredReminder, reconcile
from core.reminders import AssignmentState, OpenAssignment, ReminderPolicy
from core.replanning import plan_fingerprints

POLICY = ReminderPolicy()
ZONES = (
    ("Asia/Ho_Chi_Minh", "VN"),
    ("Asia/Manila", "PH"),
    ("Asia/Yangon", "MM"),
    ("Asia/Tokyo", "JP"),
    ("Asia/Jakarta", "ID"),
)
HANDLES = ("an", "binh", "chi", "dung", "em", "giang")
GROUPS = ("G1", "G2", "G3")
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def person(handle: str, zone: int = 0, *, name: str | None = None) -> Person:
    return Person(
        handle=handle,
        name=name or handle.title(),
        email=f"{handle}@example.org",
        timezone=ZONES[zone][0],
        language=Language.EN,
        country=ZONES[zone][1],
    )


# --------------------------------------------------------------- a random world

rosters = st.builds(
    lambda zones, members, coordinators, gone: Roster(
        people={h: person(h, z) for h, z in zip(HANDLES, zones, strict=True) if h not in gone},
        groups={
            code: Group(code, code, tuple(Membership(h, role) for h, role in sorted(ms.items())))
            for code, ms in zip(GROUPS, members, strict=True)
        },
        coordinators=tuple(sorted(coordinators)),
    ),
    st.lists(st.integers(0, len(ZONES) - 1), min_size=len(HANDLES), max_size=len(HANDLES)),
    st.lists(
        st.dictionaries(st.sampled_from(HANDLES), st.sampled_from([Role.FOCAL, Role.CHAIR])),
        min_size=len(GROUPS),
        max_size=len(GROUPS),
    ),
    st.sets(st.sampled_from(HANDLES), max_size=2),
    st.sets(st.sampled_from(HANDLES), max_size=1),  # someone no longer on the roster
)
targets = st.dictionaries(
    st.sampled_from(("D1", "D2", "D3")),
    st.lists(st.sampled_from((*GROUPS, "G9", "an", "chi")), min_size=1, max_size=3, unique=True),
    min_size=1,
)


def deadlines_of(named: dict[str, list[str]]) -> list[Deadline]:
    return [
        Deadline(
            code, code, DeadlineKind.REPORT, AbsoluteDue(datetime(2026, 9, 1)), assign=tuple(a)
        )
        for code, a in named.items()
    ]


@settings(max_examples=200, deadline=None)
@given(roster=rosters, named=targets)
def test_the_groups_asked_for_are_those_derive_assignments_gives(
    roster: Roster, named: dict[str, list[str]]
) -> None:
    derived = derive_assignments(deadlines_of(named), roster)
    through = AssignedThrough(named, roster)
    for (code, handle), assignment in derived.items():
        assert through(code, handle) == assignment.via
    assert through("NOT-A-DEADLINE", "an") == ()


def items_of(
    roster: Roster, named: dict[str, list[str]], dues: list[int], late: list[int]
) -> list[OpenAssignment]:
    """The assignments of ``named``, due some hours after T0, some assigned late; no via."""
    derived = derive_assignments(deadlines_of(named), roster)
    out = []
    for i, (code, handle) in enumerate(derived):
        due = T0 + timedelta(hours=dues[i % len(dues)])
        assigned = due - timedelta(days=late[i % len(late)])
        out.append(OpenAssignment(Assignment(code, handle), due, assigned))
    return out


windows = st.tuples(st.integers(-40 * 24, 40 * 24), st.integers(0, 72))  # start (h), length (h)


@settings(max_examples=150, deadline=None)
@given(
    roster=rosters,
    named=targets,
    dues=st.lists(st.integers(0, 30 * 24), min_size=1, max_size=3),
    late=st.lists(st.integers(0, 30), min_size=1, max_size=3),
    before=windows,
    after=windows,
)
def test_the_window_moving_changes_the_plan_as_planning_both_windows_would(  # noqa: PLR0917
    roster: Roster,
    named: dict[str, list[str]],
    dues: list[int],
    late: list[int],
    before: tuple[int, int],
    after: tuple[int, int],
) -> None:
    items = items_of(roster, named, dues, late)
    through = AssignedThrough(named, roster)
    derived = derive_assignments(deadlines_of(named), roster)
    with_via = [
        replace(i, assignment=derived[i.assignment.deadline, i.assignment.person]) for i in items
    ]

    def window(start: int, length: int) -> tuple[datetime, datetime]:
        now = T0 + timedelta(hours=start)
        return now, now + timedelta(hours=length)

    (now0, until0), (now1, until1) = window(*before), window(*after)
    old = plan_window(items, roster=roster, policy=POLICY, now=now0, until=until0, via=through)
    new = plan_window(items, roster=roster, policy=POLICY, now=now1, until=until1, via=through)
    # the groups asked for lazily plan what the groups given with each assignment plan
    assert new == plan_window(with_via, roster=roster, policy=POLICY, now=now1, until=until1)
    entered, left = plan_window_changes(
        items,
        roster=roster,
        policy=POLICY,
        before=(now0, until0),
        now=now1,
        until=until1,
        via=through,
    )
    assert entered == sorted(set(new) - set(old))
    assert left == sorted({r.key for r in old} - {r.key for r in new})
    # planned a part at a time, the same reminders, each part in key order
    parts = list(
        plan_window_parts(
            [items[::2], items[1::2]],
            roster=roster,
            policy=POLICY,
            now=now1,
            until=until1,
            via=through,
        )
    )
    assert all(part == sorted(part) for part in parts)
    assert sorted(r for part in parts for r in part) == new


# ----------------------------------------------------------------- fingerprints

ROSTER = Roster(
    people={p.handle: p for p in (person("an"), person("binh", 1), person("chi"), person("dung"))},
    groups={
        "G1": Group("G1", "G1", (Membership("an", Role.FOCAL), Membership("chi", Role.CHAIR))),
        "G2": Group("G2", "G2", (Membership("binh", Role.FOCAL), Membership("dung", Role.CHAIR))),
    },
    coordinators=("dung",),
)
NAMED = {"D1": ("G1",), "D2": ("G2",)}
ITEMS = [
    OpenAssignment(Assignment("D1", "an"), T0, T0 - timedelta(days=30)),
    OpenAssignment(Assignment("D2", "binh"), T0, T0 - timedelta(days=30)),
]


def fingerprints(
    items: list[OpenAssignment] = ITEMS,
    roster: Roster = ROSTER,
    policy: ReminderPolicy = POLICY,
    named: dict[str, tuple[str, ...]] = NAMED,
) -> dict[str, str]:
    return plan_fingerprints(
        items, deadlines=("D1", "D2", "D3"), targets=named, roster=roster, policy=policy
    )


def with_person(roster: Roster, changed: Person) -> Roster:
    return replace(roster, people={**roster.people, changed.handle: changed})


def with_group(roster: Roster, group: Group) -> Roster:
    return replace(roster, groups={**roster.groups, group.code: group})


FIRST = replace(ITEMS[0], due_at=T0 + timedelta(hours=1))
CHANGES_OF_D1 = {
    "its due instant": {"items": [FIRST, ITEMS[1]]},
    "when its person was assigned": {"items": [replace(ITEMS[0], assigned_at=T0), ITEMS[1]]},
    "its state": {"items": [replace(ITEMS[0], state=AssignmentState.SUBMITTED), ITEMS[1]]},
    "one more assignment": {
        "items": [*ITEMS, OpenAssignment(Assignment("D1", "chi"), T0, T0 - timedelta(days=30))]
    },
    "one assignment less": {"items": ITEMS[1:]},
    "its person's zone": {"roster": with_person(ROSTER, person("an", 2))},
    "its chair's zone": {"roster": with_person(ROSTER, person("chi", 3))},
    "its group's chair": {
        "roster": with_group(
            ROSTER,
            Group("G1", "G1", (Membership("an", Role.FOCAL), Membership("dung", Role.CHAIR))),
        )
    },
    "its group's focal points": {
        "roster": with_group(
            ROSTER,
            Group("G1", "G1", (Membership("an", Role.FOCAL), Membership("binh", Role.FOCAL))),
        )
    },
    "what it names": {"named": {"D1": ("G1", "G2"), "D2": ("G2",)}},
}


@pytest.mark.parametrize("change", sorted(CHANGES_OF_D1))
def test_a_change_to_what_a_deadline_is_planned_from_changes_its_fingerprint(change: str) -> None:
    before, after = fingerprints(), fingerprints(**CHANGES_OF_D1[change])
    assert after["D1"] != before["D1"]
    assert after["D3"] == before["D3"]  # no assignments: nothing changed for it


@pytest.mark.parametrize(
    "changes",
    [
        {"policy": ReminderPolicy(hour=10)},
        {"roster": replace(ROSTER, coordinators=("dung", "chi"))},
        {"roster": with_person(ROSTER, person("dung", 4))},  # the coordinator's zone
    ],
)
def test_a_change_every_deadline_depends_on_changes_every_fingerprint(
    changes: dict[str, object],
) -> None:
    before, after = fingerprints(), fingerprints(**changes)
    assert all(after[code] != before[code] for code in ("D1", "D2", "D3"))


def test_what_planning_does_not_read_leaves_the_fingerprints_alone() -> None:
    renamed = with_person(ROSTER, replace(person("an", name="An Nguyen"), language=Language.VI))
    elsewhere = with_group(ROSTER, Group("G3", "G3", (Membership("an", Role.CHAIR),)))
    assert fingerprints(roster=renamed) == fingerprints()
    assert fingerprints(roster=elsewhere) == fingerprints()
    assert fingerprints(items=ITEMS[::-1]) == fingerprints()
    assert fingerprints()["D2"] == fingerprints(items=[FIRST, ITEMS[1]])["D2"]


# ----------------------------------------------------------------- the store


def test_a_reminder_waiting_to_be_tried_again_keeps_its_time() -> None:
    planned = plan_reminders(ITEMS[:1], roster=ROSTER, policy=POLICY)[0]
    retry = planned.planned_at + timedelta(minutes=5)

    def stored(attempts: int) -> StoredReminder:
        return StoredReminder(
            planned.key,
            planned.deadline,
            planned.person,
            planned.recipient,
            planned.kind,
            retry,
            planned.due_at,
            ReminderState.PLANNED,
            attempts,
        )

    assert reconcile([planned], [stored(1)], now=T0).empty
    assert reconcile([planned], [stored(0)], now=T0).retime == ((planned.key, planned.planned_at),)
