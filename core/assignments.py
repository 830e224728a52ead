"""Who owes what: a deadline's ``assign:`` list expanded through the roster.

Assigning a group assigns each of its members whose role is ``focal``; a handle assigns
that person. The result follows the roster: recompute it whenever either changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.model import Assignment, Role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

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


class AssignedThrough:
    """The groups an assignment came through, asked one assignment at a time.

    ``targets`` maps each deadline's code to what its ``assign:`` names. The answer for
    (deadline, handle) is the ``via`` that ``derive_assignments`` gives that pair: the named
    groups of the roster of which the person is a focal point. Planning needs it only for the
    few assignments whose escalation is near, so nothing is expanded beforehand.
    """

    def __init__(self, targets: Mapping[str, Iterable[str]], roster: Roster) -> None:
        self._targets = {code: tuple(named) for code, named in targets.items()}
        self._roster = roster
        self._focal: dict[str, frozenset[str]] = {}
        self._memo: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}

    def _focal_points(self, code: str) -> frozenset[str]:
        found = self._focal.get(code)
        if found is None:
            group = self._roster.groups.get(code)
            handles = group.handles_with_role(Role.FOCAL) if group is not None else ()
            found = self._focal[code] = frozenset(h for h in handles if h in self._roster.people)
        return found

    def __call__(self, deadline: str, handle: str) -> tuple[str, ...]:
        named = self._targets.get(deadline, ())
        memo = (named, handle)
        found = self._memo.get(memo)
        if found is None:
            found = self._memo[memo] = tuple(
                sorted({code for code in named if handle in self._focal_points(code)})
            )
        return found
