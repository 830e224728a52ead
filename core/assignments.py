"""Who owes what: a deadline's ``assign:`` list expanded through the roster.

Assigning a group assigns each of its members whose role is ``focal``; a handle assigns
that person. The result follows the roster: recompute it whenever either changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.model import Assignment, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.model import Deadline, Roster


def derive_assignments(
    deadlines: Iterable[Deadline], roster: Roster
) -> dict[tuple[str, str], Assignment]:
    """(deadline code, handle) -> Assignment, with the groups it came through."""
    via: dict[tuple[str, str], set[str]] = {}
    for deadline in deadlines:
        for target in deadline.assign:
            group = roster.groups.get(target)
            if group is not None:
                for handle in group.handles_with_role(Role.FOCAL):
                    if handle in roster.people:
                        via.setdefault((deadline.code, handle), set()).add(group.code)
            elif target in roster.people:
                via.setdefault((deadline.code, target), set())
    return {
        key: Assignment(deadline=key[0], person=key[1], via=tuple(sorted(groups)))
        for key, groups in sorted(via.items())
    }
