"""Where each input of a deadline stands, what gets exported, and what a review changes. Pure.

An ``Entry`` is one assignment with every version submitted for it (oldest first). Its state
follows the rule the reminders use (``core.reminders.AssignmentState``): a submission settles
an input first, then a "not applicable"; a withdrawn assignment is shown apart. A returned
version still counts as submitted for the status, but is never exported: the export takes the
latest version that was not returned.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.assignments import derive_assignments
from core.model import Role, SubmissionStatus
from core.permissions import Refusal, status_right
from core.reminders import AssignmentState

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta

    from core.model import Deadline, Roster


class EntryState(enum.StrEnum):
    SUBMITTED = "submitted"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"
    WITHDRAWN = "withdrawn"  # no longer assigned (the roster moved on); kept, never deleted


@dataclass(frozen=True, slots=True)
class Version:
    """One numbered version of an input. ``text`` and ``links`` are empty unless asked for."""

    number: int
    submitted_at: datetime  # aware UTC
    late: bool
    submitted_by: str  # handle
    submitted_by_name: str
    on_behalf: bool
    status: SubmissionStatus
    reviewer_note: str | None = None
    reviewed_by: str | None = None  # handle; None: not reviewed, or by the operator
    reviewed_by_name: str | None = None
    reviewed_at: datetime | None = None
    text: str = ""
    links: tuple[str, ...] = ()

    def late_by(self, due_at: datetime) -> timedelta | None:
        return self.submitted_at - due_at if self.late else None


@dataclass(frozen=True, slots=True)
class Entry:
    """One person's assignment to one deadline, with its versions oldest first."""

    person: str
    name: str
    organization: str | None
    active: bool
    not_applicable_reason: str | None
    versions: tuple[Version, ...] = ()

    @property
    def state(self) -> EntryState:
        if not self.active:
            return EntryState.WITHDRAWN
        settled = AssignmentState.of(
            submitted=bool(self.versions),
            not_applicable=self.not_applicable_reason is not None,
            cancelled=False,
        )
        return {
            AssignmentState.SUBMITTED: EntryState.SUBMITTED,
            AssignmentState.NOT_APPLICABLE: EntryState.NOT_APPLICABLE,
        }.get(settled, EntryState.MISSING)

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def usable(self) -> Version | None:
        """The latest version that was not returned: what the office consolidates."""
        return next(
            (v for v in reversed(self.versions) if v.status is not SubmissionStatus.RETURNED),
            None,
        )

    def version(self, number: int) -> Version | None:
        return next((v for v in self.versions if v.number == number), None)


@dataclass(frozen=True, slots=True)
class StatusCounts:
    assigned: int  # active assignments
    submitted: int
    missing: int
    not_applicable: int
    withdrawn: int
    late: int  # of the submitted, those whose latest version was late
    accepted: int  # of the submitted, by the review of their latest version
    returned: int


def count_entries(entries: Iterable[Entry]) -> StatusCounts:
    states: dict[EntryState, int] = dict.fromkeys(EntryState, 0)
    late = accepted = returned = 0
    for entry in entries:
        states[entry.state] += 1
        latest = entry.latest
        if entry.state is EntryState.SUBMITTED and latest is not None:
            late += latest.late
            accepted += latest.status is SubmissionStatus.ACCEPTED
            returned += latest.status is SubmissionStatus.RETURNED
    return StatusCounts(
        assigned=sum(n for s, n in states.items() if s is not EntryState.WITHDRAWN),
        submitted=states[EntryState.SUBMITTED],
        missing=states[EntryState.MISSING],
        not_applicable=states[EntryState.NOT_APPLICABLE],
        withdrawn=states[EntryState.WITHDRAWN],
        late=late,
        accepted=accepted,
        returned=returned,
    )


# ------------------------------------------------------------------ order


def status_order(entry: Entry) -> tuple[bool, str]:
    """The status matrix: current assignments first, then by handle."""
    return (not entry.active, entry.person)


def export_order(entry: Entry) -> tuple[str, str, str]:
    """The consolidated document: by organization, then name (people without one last)."""
    organization = entry.organization.casefold() if entry.organization else "\uffff"
    return (organization, entry.name.casefold(), entry.person)


# ------------------------------------------------------------------ who sees


@dataclass(frozen=True, slots=True)
class StatusView:
    """Whose lines a reader sees: everyone's (coordinators, the operator) or some handles'."""

    everyone: bool
    handles: frozenset[str] = frozenset()

    def shows(self, handle: str) -> bool:
        return self.everyone or handle in self.handles


EVERYONE = StatusView(everyone=True)


def deadline_groups(deadline: Deadline, roster: Roster) -> tuple[str, ...]:
    return tuple(sorted(code for code in deadline.assign if code in roster.groups))


def status_view(actor: str | None, deadline: Deadline, roster: Roster) -> StatusView | Refusal:
    """What ``actor`` may see of ``deadline``'s status; None is the operator (everything).

    Coordinators see every line; a chair of one of the deadline's groups sees the people
    assigned through the groups they chair; anyone else is refused.
    """
    if actor is None:
        return EVERYONE
    refusal = status_right(actor, deadline_groups(deadline, roster), roster)
    if refusal is not None:
        return refusal
    if actor in roster.coordinators:
        return EVERYONE
    chaired = {
        code
        for code, group in roster.groups.items()
        if any(m.person == actor and m.role is Role.CHAIR for m in group.members)
    }
    assignments = derive_assignments([deadline], roster).values()
    return StatusView(
        everyone=False,
        handles=frozenset(a.person for a in assignments if chaired.intersection(a.via)),
    )


# ------------------------------------------------------------------ review


class ReviewProblem(enum.StrEnum):
    NO_SUBMISSION = "no-submission"
    NO_SUCH_VERSION = "no-such-version"


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """What a review does to one version. ``changed`` False: it is already so (a no-op)."""

    version: Version
    status: SubmissionStatus
    note: str | None
    changed: bool


def plan_review(
    entry: Entry, *, accept: bool, note: str | None, version: int | None = None
) -> ReviewChange | ReviewProblem:
    """Accept or return ``version`` of ``entry`` (default: the latest).

    Deciding the same again is a no-op unless a different note is given. A new decision
    without a note clears the old decision's note (it was about something else).
    """
    chosen = entry.latest if version is None else entry.version(version)
    if chosen is None:
        return ReviewProblem.NO_SUBMISSION if not entry.versions else ReviewProblem.NO_SUCH_VERSION
    status = SubmissionStatus.ACCEPTED if accept else SubmissionStatus.RETURNED
    note = note.strip() if note is not None else None
    if status is chosen.status and (not note or note == chosen.reviewer_note):
        return ReviewChange(chosen, status, chosen.reviewer_note, changed=False)
    return ReviewChange(chosen, status, note or None, changed=True)


# ------------------------------------------------------------------ words


def describe_duration(span: timedelta) -> str:
    """``3 days 4 hours``, ``5 hours``, ``12 minutes``: the largest unit and the next one."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    amounts = ((days, "day"), (hours, "hour"), (minutes, "minute"))
    first = next((i for i, (amount, _) in enumerate(amounts) if amount), None)
    if first is None:
        return "less than a minute"
    return " ".join(
        f"{amount} {unit}{'' if amount == 1 else 's'}"
        for amount, unit in amounts[first : first + 2]
        if amount
    )
