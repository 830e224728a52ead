"""Planning again only what changed: a fingerprint of what each deadline's reminders depend on.

A deadline's reminders in a window follow from the policy and the catch-up; its due instant;
for each of its assignments, the person, their zone and country, when they were assigned and
the assignment's state; and, for escalations, the groups its ``assign:`` names (their focal
points, and their chairs with zones and countries) and the coordinators (with theirs). The
fingerprint is a digest of exactly these. Two deadlines with the same fingerprint get the same
reminders in any window, so a deadline whose fingerprint is the one it was last planned with
needs only the window's move (``core.reminder_plan.plan_window_changes``); any other is
planned and reconciled with the store in full.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from core.model import Role
from core.reminders import CATCH_UP, AssignmentState

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime, timedelta

    from core.model import Roster
    from core.reminders import OpenAssignment, ReminderPolicy

#: Changed whenever the planner's rules change, so that every deadline is planned again.
RULES = "focal-reminders-1"


def plan_fingerprints(
    assignments: Iterable[OpenAssignment],
    *,
    deadlines: Iterable[str],
    targets: Mapping[str, Iterable[str]],
    roster: Roster,
    policy: ReminderPolicy,
    catch_up: timedelta = CATCH_UP,
) -> dict[str, str]:
    """Deadline code -> the fingerprint of its planning inputs, for each of ``deadlines`` and
    each deadline of ``assignments``; ``targets`` maps a deadline to what its ``assign:`` names.
    """
    people = roster.people
    stamps: dict[datetime, str] = {}
    whoms: dict[str, str] = {}

    def stamp(at: datetime) -> str:
        found = stamps.get(at)
        if found is None:
            found = stamps[at] = at.isoformat()
        return found

    def whom(handle: str) -> str:
        found = whoms.get(handle)
        if found is None:
            person = people.get(handle)
            found = f"{handle}@{person.timezone}@{person.country}" if person else f"{handle}@-"
            whoms[handle] = found
        return found

    groups: dict[str, str] = {}

    def group(code: str) -> str:
        found = groups.get(code)
        if found is None:
            found = f"{code}:-"
            if (g := roster.groups.get(code)) is not None:
                focal = sorted(h for h in g.handles_with_role(Role.FOCAL) if h in people)
                chairs = sorted(whom(h) for h in g.handles_with_role(Role.CHAIR) if h in people)
                found = f"{code}:{','.join(focal)}:{';'.join(chairs)}"
            groups[code] = found
        return found

    common = "\n".join(
        (
            RULES,
            f"{policy.days_before}|{policy.hour}|{policy.escalate_after_days}|{catch_up}",
            ";".join(whom(h) for h in sorted(roster.coordinators) if h in people),
        )
    )
    lines: dict[str, list[str]] = {code: [] for code in deadlines}
    still_open = AssignmentState.OPEN
    for item in assignments:
        assignment = item.assignment
        state = "" if item.state is still_open else item.state.value
        lines.setdefault(assignment.deadline, []).append(
            f"{whom(assignment.person)}|{stamp(item.due_at)}|{stamp(item.assigned_at)}"
            f"|{state}|{','.join(assignment.via)}"
        )
    out = {}
    for code, owed in lines.items():
        owed.sort()
        named = "\n".join(group(g) for g in sorted(targets.get(code, ())))
        text = f"{common}\n{code}\n{named}\n--\n" + "\n".join(owed)
        out[code] = hashlib.sha256(text.encode()).hexdigest()
    return out
