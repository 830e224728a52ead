"""Who may do what: the rules of SPEC.md, "Slack"."""

from __future__ import annotations

from core.model import Group, Language, Membership, Person, Role, Roster
from core.permissions import Refusal, status_right, submit_right


def person(handle: str) -> Person:
    return Person(handle, handle.title(), f"{handle}@example.org", "Asia/Manila", Language.EN, "PH")


ROSTER = Roster(
    people={h: person(h) for h in ("chair", "focal", "alt", "other", "coord")},
    groups={
        "G": Group(
            "G",
            "Group",
            (
                Membership("chair", Role.CHAIR),
                Membership("focal", Role.FOCAL),
                Membership("alt", Role.ALTERNATE),
            ),
        ),
        "H": Group("H", "Other group", (Membership("other", Role.FOCAL),)),
    },
    coordinators=("coord",),
)


def test_submitting() -> None:
    assert submit_right("focal", "focal", ("G",), ROSTER) is False
    assert submit_right("alt", "focal", ("G",), ROSTER) is True
    assert submit_right("coord", "other", ("H",), ROSTER) is True
    assert submit_right("alt", "other", ("H",), ROSTER) is Refusal.NOT_YOURS
    assert submit_right("chair", "focal", ("G",), ROSTER) is Refusal.NOT_YOURS
    assert submit_right("ghost", "focal", ("G",), ROSTER) is Refusal.UNKNOWN_PERSON


def test_seeing_status() -> None:
    assert status_right("chair", ("G",), ROSTER) is None
    assert status_right("coord", ("H",), ROSTER) is None
    assert status_right("chair", ("H",), ROSTER) is Refusal.NOT_A_CHAIR
    assert status_right("focal", ("G",), ROSTER) is Refusal.NOT_A_CHAIR
    assert status_right("ghost", ("G",), ROSTER) is Refusal.UNKNOWN_PERSON
