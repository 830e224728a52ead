"""Who may do what (SPEC.md, "Slack"). Pure.

A focal point submits for their own assignments; an alternate of a group the assignment came
through submits on the focal point's behalf (recorded as such); coordinators may do anything,
on anyone's behalf; chairs see their groups' status; coordinators see and export everything.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from core.model import Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.model import Roster


class Refusal(enum.StrEnum):
    UNKNOWN_PERSON = "unknown-person"  # not in the roster
    NOT_YOURS = "not-yours"  # someone else's input, and not their alternate
    NOT_A_CHAIR = "not-a-chair"  # status of a group one does not chair


def _roles(roster: Roster, handle: str, groups: Iterable[str]) -> set[Role]:
    return {
        m.role
        for code in groups
        if (group := roster.groups.get(code)) is not None
        for m in group.members
        if m.person == handle
    }


def submit_right(actor: str, owner: str, via: tuple[str, ...], roster: Roster) -> bool | Refusal:
    """May ``actor`` act on ``owner``'s input? True: on their behalf; False: their own."""
    if actor not in roster.people:
        return Refusal.UNKNOWN_PERSON
    if actor == owner:
        return False
    if actor in roster.coordinators or Role.ALTERNATE in _roles(roster, actor, via):
        return True
    return Refusal.NOT_YOURS


def status_right(actor: str, groups: Iterable[str], roster: Roster) -> Refusal | None:
    """May ``actor`` see who has submitted an input assigned through ``groups``? None: yes."""
    if actor not in roster.people:
        return Refusal.UNKNOWN_PERSON
    if actor in roster.coordinators or Role.CHAIR in _roles(roster, actor, groups):
        return None
    return Refusal.NOT_A_CHAIR
