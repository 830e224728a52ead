"""What planning reads and writes of the store: its inputs, the stored plan, new reminders.

``ReminderPlanRepository`` is the planning half of ``db.reminders.ReminderRepository``
(``uow.reminders``). It reads plain columns, never ORM objects: a plan reads 100,000
assignments and may write 170,000 reminders (``db/bulk.py``). Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from core.model import (
    Assignment,
    Group,
    MeetingStatus,
    Membership,
    ReminderState,
    Role,
    Roster,
)
from core.reminder_store import StoredReminder
from core.reminders import AssignmentState, OpenAssignment, ReminderKind
from db.bulk import UTCReader, insert_ignoring, insert_new, raw
from db.models import (
    AssignmentRow,
    CoordinatorRow,
    DeadlineRow,
    DeadlineTargetRow,
    GroupRow,
    MeetingRow,
    MembershipRow,
    PersonRow,
    ReminderPlanDeadlineRow,
    ReminderPlanRow,
    ReminderRow,
    SubmissionRow,
)
from db.people import PERSON_WIDTH, person_columns, person_from

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from core.reminders import PlannedReminder


_REMINDERS = cast("Table", ReminderRow.__table__)
_NEW_COLUMNS = (
    "key",
    "assignment_id",
    "person_id",
    "kind",
    "planned_at",
    "due_at",
    "days_before",
    "state",
    "attempts",
    "created_at",
    "updated_at",
)
_KINDS = {kind.value: kind for kind in ReminderKind}
_STATES = {state.value: state for state in ReminderState}
_IN = 500  # values per IN (...) list: well under every backend's parameter limit


def _in_parts(items: Collection[Any]) -> Iterator[list[Any]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _IN):
        yield ordered[start : start + _IN]


@dataclass(frozen=True, slots=True)
class PlanningInputs:
    """What planning reads: the roster, what each deadline's ``assign:`` names, the assignments.

    ``assignments`` holds every active assignment of a deadline still on the calendar and a
    person still on the roster; their ``via`` is left empty: ``targets`` (deadline code -> the
    groups its ``assign:`` names) gives it when needed (``core.assignments.AssignedThrough``).
    """

    roster: Roster
    deadlines: dict[str, int]  # code -> id of every deadline still on the calendar
    targets: dict[str, tuple[str, ...]]
    assignments: list[OpenAssignment]


@dataclass(frozen=True, slots=True)
class PlanState:
    stale: bool
    planned_at: datetime | None
    horizon_end: datetime | None


def _rows(
    reminders: Collection[PlannedReminder],
    assignments: Mapping[tuple[str, str], int],
    people: Mapping[str, int],
    *,
    now: datetime,
) -> list[tuple[object, ...]]:
    """The new rows, in ``_NEW_COLUMNS`` order. A StrEnum is a str: the driver stores the
    kind's value."""
    planned = ReminderState.PLANNED.value
    return [
        (
            r.key,
            assignments[r.deadline, r.person],
            people[r.recipient],
            r.kind,
            r.planned_at,
            r.due_at,
            r.days_before,
            planned,
            0,
            now,
            now,
        )
        for r in reminders
    ]


class ReminderPlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # (deadline code, handle) -> assignment id, handle -> person id: read by planning_inputs
        self._ids: tuple[dict[tuple[str, str], int], dict[str, int]] | None = None

    def planning_inputs(self) -> PlanningInputs:
        """Everything planning reads, as plain columns (no ORM objects): see ``PlanningInputs``.

        The ids read here are kept for ``add``, which then needs no look-up of its own.
        """
        connection = self.session.connection()
        utc = UTCReader()
        people = {
            row[PERSON_WIDTH]: person_from(row)
            for row in connection.execute(
                person_columns(PersonRow.id).where(PersonRow.removed_at.is_(None))
            )
        }
        groups: dict[int, tuple[str, str, list[Membership]]] = {
            id_: (code, name, [])
            for id_, code, name in connection.execute(
                select(GroupRow.id, GroupRow.code, GroupRow.name).where(
                    GroupRow.removed_at.is_(None)
                )
            )
        }
        roles = {role.value: role for role in Role}
        for group_id, handle, role in connection.execute(
            select(MembershipRow.group_id, PersonRow.handle, MembershipRow.role).join(
                PersonRow, MembershipRow.person_id == PersonRow.id
            )
        ):
            if group_id in groups:
                groups[group_id][2].append(Membership(handle, roles[role]))
        coordinators = connection.scalars(
            select(PersonRow.handle).join(CoordinatorRow, CoordinatorRow.person_id == PersonRow.id)
        )
        roster = Roster(
            people={p.handle: p for p in people.values()},
            groups={
                code: Group(code, name, tuple(sorted(members, key=lambda m: m.person)))
                for code, name, members in groups.values()
            },
            coordinators=tuple(sorted(coordinators)),
        )
        deadlines = {
            id_: (code, utc[due_at], cancelled)
            for id_, code, due_at, cancelled in connection.execute(
                select(
                    DeadlineRow.id,
                    DeadlineRow.code,
                    raw(DeadlineRow.due_at),
                    func.coalesce(MeetingRow.status, "") == MeetingStatus.CANCELLED.value,
                )
                .outerjoin(MeetingRow, DeadlineRow.meeting_id == MeetingRow.id)
                .where(DeadlineRow.removed_at.is_(None))
            )
        }
        named: dict[str, list[str]] = {}
        for deadline_id, group_id in connection.execute(
            select(DeadlineTargetRow.deadline_id, DeadlineTargetRow.group_id).where(
                DeadlineTargetRow.group_id.is_not(None)
            )
        ):
            if deadline_id in deadlines and group_id in groups:
                named.setdefault(deadlines[deadline_id][0], []).append(groups[group_id][0])
        submitted = set(connection.scalars(select(SubmissionRow.assignment_id).distinct()))
        assignments: list[OpenAssignment] = []
        ids: dict[tuple[str, str], int] = {}
        of, still_open = AssignmentState.of, AssignmentState.OPEN
        for id_, deadline_id, person_id, assigned_at, excused in connection.execute(
            select(
                AssignmentRow.id,
                AssignmentRow.deadline_id,
                AssignmentRow.person_id,
                raw(AssignmentRow.created_at),
                AssignmentRow.not_applicable_reason.is_not(None),
            ).where(AssignmentRow.active.is_(True))
        ).all():
            deadline = deadlines.get(deadline_id)
            person = people.get(person_id)
            if deadline is None or person is None:
                continue  # its deadline was removed, or its person
            code, due_at, cancelled = deadline
            done = id_ in submitted
            state = (
                of(submitted=done, not_applicable=excused, cancelled=cancelled)
                if done or excused or cancelled
                else still_open
            )
            assignments.append(
                OpenAssignment(Assignment(code, person.handle), due_at, utc[assigned_at], state)
            )
            ids[code, person.handle] = id_
        self._ids = ids, {p.handle: id_ for id_, p in people.items()}
        return PlanningInputs(
            roster,
            {code: id_ for id_, (code, _, _) in deadlines.items()},
            {code: tuple(sorted(n)) for code, n in named.items()},
            assignments,
        )

    def plan_record(self) -> dict[str, str | None]:
        """Deadline code -> the fingerprint its reminders were last planned from (None: to be
        planned in full), for each deadline the last plan saw on the calendar."""
        query = select(DeadlineRow.code, ReminderPlanDeadlineRow.fingerprint).join(
            DeadlineRow, ReminderPlanDeadlineRow.deadline_id == DeadlineRow.id
        )
        return dict(self.session.connection().execute(query).tuples().all())

    def record_plan(self, fingerprints: Mapping[int, str | None]) -> None:
        """Deadline id -> fingerprint of this plan, in place of the last one's."""
        connection = self.session.connection()
        connection.execute(delete(ReminderPlanDeadlineRow))
        if fingerprints:
            connection.execute(
                insert(ReminderPlanDeadlineRow),
                [{"deadline_id": id_, "fingerprint": f} for id_, f in fingerprints.items()],
            )

    def changed_outside_planning(self) -> set[str]:
        """The codes of deadlines with unsent reminders that something besides planning has
        touched: being sent, waiting to be tried again, or asked for ("Remind me tomorrow")."""
        query = (
            select(DeadlineRow.code)
            .distinct()
            .join(AssignmentRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(ReminderRow, ReminderRow.assignment_id == AssignmentRow.id)
            .where(
                ReminderRow.state.in_([ReminderState.PLANNED, ReminderState.SENDING]),
                or_(ReminderRow.attempts > 0, ReminderRow.kind == ReminderKind.REQUESTED),
            )
        )
        return set(self.session.connection().scalars(query))

    def relevant(self, deadlines: Collection[str] | None = None) -> list[StoredReminder]:
        """What reconciling needs: the unsent, and the sent whose deadline has moved since,
        of every deadline or of those named (their codes).

        Sent reminders of a deadline that has not moved need no look: a plan never changes
        them, and adding one again is refused by its unique key.
        """
        recipient = aliased(PersonRow)
        owes = aliased(PersonRow)
        moved = ReminderRow.due_at != DeadlineRow.due_at
        query = (
            select(
                ReminderRow.key,
                DeadlineRow.code,
                owes.handle,
                recipient.handle,
                ReminderRow.kind,
                raw(ReminderRow.planned_at),
                raw(ReminderRow.due_at),
                ReminderRow.state,
                ReminderRow.attempts,
            )
            .join(AssignmentRow, ReminderRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(owes, AssignmentRow.person_id == owes.id)
            .join(recipient, ReminderRow.person_id == recipient.id)
            .where(
                or_(
                    ReminderRow.state.in_([ReminderState.PLANNED, ReminderState.SENDING]),
                    and_(ReminderRow.state == ReminderState.SENT, moved),
                    and_(ReminderRow.kind == ReminderKind.CHANGED, ~moved),
                )
            )
        )
        connection = self.session.connection()
        if deadlines is None:
            queries = [query]
        else:
            queries = [query.where(DeadlineRow.code.in_(c)) for c in _in_parts(deadlines)]
        utc = UTCReader()
        return [
            StoredReminder(
                key,
                deadline,
                person,
                to,
                _KINDS[kind],
                utc[planned],
                utc[due],
                _STATES[state],
                attempts,
            )
            for q in queries
            for key, deadline, person, to, kind, planned, due, state, attempts in (
                connection.execute(q).all()
            )
        ]

    def add(self, reminders: Collection[PlannedReminder], *, now: datetime) -> None:
        """Store new reminders; a key already stored is left as it is."""
        if reminders:
            rows = self._rows(reminders, now=now)
            insert_ignoring(self.session.connection(), _REMINDERS, _NEW_COLUMNS, rows, key="key")

    def add_new(self, parts: Iterable[Collection[PlannedReminder]], *, now: datetime) -> int:
        """Store the reminders of deadlines that have none stored (``with_reminders``), a part
        at a time: on PostgreSQL the server stores each part while the next is planned.
        Returns how many. Planning alone adds such keys (plans are made one at a time)."""
        rows = (self._rows(part, now=now) for part in parts)
        return insert_new(self.session.connection(), _REMINDERS, _NEW_COLUMNS, rows, key="key")

    def with_reminders(self, deadlines: Collection[str]) -> set[str]:
        """Those of these deadlines (codes) with reminders stored, in any state."""
        stored = (
            select(AssignmentRow.id)
            .join(ReminderRow, ReminderRow.assignment_id == AssignmentRow.id)
            .where(AssignmentRow.deadline_id == DeadlineRow.id)
            .exists()
        )
        connection = self.session.connection()
        return {
            code
            for chunk in _in_parts(deadlines)
            for code in connection.scalars(
                select(DeadlineRow.code).where(DeadlineRow.code.in_(chunk), stored)
            )
        }

    def _rows(
        self, reminders: Collection[PlannedReminder], *, now: datetime
    ) -> list[tuple[object, ...]]:
        if self._ids is not None:
            try:
                return _rows(reminders, *self._ids, now=now)
            except KeyError:
                pass  # not read by planning_inputs (a request, a removed recipient): look up
        return _rows(reminders, *self._look_up({r.deadline for r in reminders}), now=now)

    def _look_up(
        self, deadlines: Collection[str]
    ) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        people = dict(self.session.execute(select(PersonRow.handle, PersonRow.id)).tuples().all())
        assignments = {
            (code, handle): assignment_id
            for assignment_id, code, handle in self.session.execute(
                select(AssignmentRow.id, DeadlineRow.code, PersonRow.handle)
                .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
                .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
                .where(DeadlineRow.code.in_(deadlines))
            ).tuples()
        }
        return assignments, people

    def retime(self, changes: Iterable[tuple[str, datetime]], *, now: datetime) -> None:
        """Give planned reminders (key, new time): one statement, executed for all at once."""
        values = [{"b_key": key, "b_at": planned_at} for key, planned_at in changes]
        if not values:
            return
        statement = (
            update(_REMINDERS)
            .where(
                _REMINDERS.c.key == bindparam("b_key"),
                _REMINDERS.c.state == ReminderState.PLANNED.value,
            )
            .values(planned_at=bindparam("b_at"), updated_at=now)
        )
        self.session.connection().execute(statement, values)

    def skip(self, keys: Sequence[str], *, now: datetime) -> None:
        """Skip these reminders if they are still planned (any other state is left as is)."""
        for chunk in _in_parts(keys):
            self.session.execute(
                update(ReminderRow)
                .where(ReminderRow.key.in_(chunk), ReminderRow.state == ReminderState.PLANNED)
                .values(state=ReminderState.SKIPPED.value, updated_at=now)
            )

    def plan_state(self, *, lock: bool = False) -> PlanState:
        """The last plan's time and horizon. ``lock``: hold the plan's row until the end of the
        transaction, so that plans made at once are made one after the other."""
        row = self.session.get(ReminderPlanRow, 1, with_for_update=lock, populate_existing=lock)
        if row is None:
            return PlanState(stale=True, planned_at=None, horizon_end=None)
        return PlanState(stale=row.stale, planned_at=row.planned_at, horizon_end=row.horizon_end)

    def mark_planned(self, *, now: datetime, horizon_end: datetime) -> None:
        row = self.session.get(ReminderPlanRow, 1, with_for_update=True)
        if row is None:
            self.session.add(ReminderPlanRow(id=1, planned_at=now, horizon_end=horizon_end))
            row = ReminderPlanRow(id=1)
        row.planned_at, row.horizon_end, row.stale = now, horizon_end, False

    def mark_stale(self) -> None:
        """Something changed who owes what, or when: plan again on the next run."""
        updated = self.session.execute(update(ReminderPlanRow).values(stale=True))
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            self.session.add(ReminderPlanRow(id=1, stale=True))
