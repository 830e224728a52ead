"""The reminders in the store: planned, claimed, sent. Speaks ``core.reminders``; never commits.

What planning reads and writes is in ``db/reminder_plans.py``; this module is delivery's.

Delivery is exactly once because every step is a conditional update on one row's state:
a reminder is claimed (``planned`` -> ``sending``, stamped with the worker) before anyone
posts it, and marked ``sent`` only by the worker that claimed it. Two workers can never
both claim a row; a crashed worker's claims are recovered by the next run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, bindparam, exists, func, or_, select, update

from core.model import MeetingStatus, Person, ReminderState
from core.notices import Titled
from core.reminders import ReminderKind
from db.models import (
    AssignmentRow,
    DeadlineRow,
    MeetingRow,
    PersonRow,
    ReminderRow,
    SubmissionRow,
)
from db.people import PERSON_WIDTH, person_columns, person_from
from db.reminder_plans import ReminderPlanRepository

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Table
    from sqlalchemy.sql import ColumnElement

_REMINDERS = cast("Table", ReminderRow.__table__)
_CHUNK = 500  # rows per IN (...) list: well under every backend's parameter limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """A reminder this worker holds, with what its message needs."""

    key: str
    kind: ReminderKind
    recipient: Person
    person: str
    person_name: str
    deadline: Titled
    meeting: Titled | None
    due_at: datetime
    attempts: int
    claimed_at: datetime | None  # before this claim: set when it is being recovered
    recovering: bool
    still_open: bool  # no submission, not excused, deadline and meeting still on
    address: str | None = None  # where the recipient's last message landed, still theirs


def reached_as(person: Person) -> str:
    """Who a remembered address belongs to: it is dropped when the e-mail or Slack id changes."""
    return f"{person.email.strip().lower()}|{person.slack_user_id or ''}"


#: Kinds planned outside the policy's steps: they lapse when their deadline moves.
_FOLLOWS_DUE = frozenset({ReminderKind.CHANGED.value, ReminderKind.REQUESTED.value})


def _submitted() -> ColumnElement[bool]:
    return exists().where(SubmissionRow.assignment_id == AssignmentRow.id)


class ReminderRepository(ReminderPlanRepository):
    """The reminders: planning's side (``db/reminder_plans.py``) and delivery's."""

    # ------------------------------------------------------------- delivery

    def due_recipients(self, *, now: datetime, limit: int | None) -> list[int]:
        """People with planned reminders due by ``now``, longest waiting first (all of them
        when ``limit`` is None)."""
        query = (
            select(ReminderRow.person_id)
            .where(ReminderRow.state == ReminderState.PLANNED, ReminderRow.planned_at <= now)
            .group_by(ReminderRow.person_id)
            .order_by(func.min(ReminderRow.planned_at), ReminderRow.person_id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def claim(self, recipients: Sequence[int], *, now: datetime, worker: str) -> int:
        """Take the due reminders of these people: only rows still ``planned`` are taken."""
        claimed = 0
        for chunk in _chunks(recipients):
            result = self.session.execute(
                update(ReminderRow)
                .where(
                    ReminderRow.person_id.in_(chunk),
                    ReminderRow.state == ReminderState.PLANNED,
                    ReminderRow.planned_at <= now,
                )
                .values(
                    state=ReminderState.SENDING.value,
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=ReminderRow.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            claimed += result.rowcount  # type: ignore[attr-defined]
        return claimed

    def holders(self) -> dict[str | None, datetime]:
        """Who holds reminders in ``sending`` (None: released after an unclear answer),
        with the time of their oldest claim."""
        query = (
            select(ReminderRow.claimed_by, func.min(ReminderRow.claimed_at))
            .where(ReminderRow.state == ReminderState.SENDING)
            .group_by(ReminderRow.claimed_by)
        )
        return {by: at for by, at in self.session.execute(query).tuples() if at is not None}

    def take_over(self, holders: Collection[str | None], *, now: datetime, worker: str) -> int:
        """Claim the ``sending`` rows of dead or released claims made before ``now``.

        The first claim's time is kept: Slack's history is searched from there.
        """
        named = [h for h in holders if h is not None]
        held: list[ColumnElement[bool]] = [ReminderRow.claimed_by.in_(named)] if named else []
        if None in holders:
            held.append(ReminderRow.claimed_by.is_(None))
        if not held:
            return 0
        result = self.session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.state == ReminderState.SENDING,
                or_(*held),
                func.coalesce(ReminderRow.claimed_at, ReminderRow.updated_at) < now,
            )
            .values(
                claimed_by=worker,
                recovered_from=func.coalesce(
                    ReminderRow.recovered_from, ReminderRow.claimed_at, ReminderRow.updated_at
                ),
                claimed_at=now,
                attempts=ReminderRow.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    def claimed(self, worker: str) -> list[ClaimedReminder]:
        """The reminders ``worker`` holds, with everything their messages need."""
        return self._details(
            ReminderRow.claimed_by == worker, ReminderRow.state == ReminderState.SENDING
        )

    def due(self, now: datetime) -> list[ClaimedReminder]:
        """The planned reminders due by ``now`` (what a run would claim), unclaimed."""
        return self._details(
            ReminderRow.state == ReminderState.PLANNED, ReminderRow.planned_at <= now
        )

    def _details(self, *where: ColumnElement[bool]) -> list[ClaimedReminder]:
        still_open = and_(
            AssignmentRow.active.is_(True),
            AssignmentRow.not_applicable_reason.is_(None),
            ~_submitted(),
            DeadlineRow.removed_at.is_(None),
            func.coalesce(MeetingRow.status, "") != MeetingStatus.CANCELLED.value,
        )
        query = (
            select(
                ReminderRow.key,
                ReminderRow.kind,
                ReminderRow.person_id,
                AssignmentRow.person_id,
                AssignmentRow.deadline_id,
                DeadlineRow.meeting_id,
                ReminderRow.due_at,
                ReminderRow.due_at == DeadlineRow.due_at,  # compared here: one instant less to read
                ReminderRow.attempts,
                ReminderRow.recovered_from,
                still_open,
            )
            .join(AssignmentRow, ReminderRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .outerjoin(MeetingRow, DeadlineRow.meeting_id == MeetingRow.id)
            .where(*where)
            .order_by(ReminderRow.person_id, ReminderRow.due_at, ReminderRow.key)
        )
        rows = self.session.execute(query).tuples().all()
        people = self._people({r[2] for r in rows} | {r[3] for r in rows})
        deadlines = self._titles(DeadlineRow, {r[4] for r in rows})
        meetings = self._titles(MeetingRow, {r[5] for r in rows if r[5] is not None})
        kinds = {kind.value: kind for kind in ReminderKind}
        out = []
        for row in rows:
            key, kind, to, owes, deadline_id, meeting_id, due_at, unmoved, attempts, since, ok = row
            recipient, address = people[to]
            person = people[owes][0]
            out.append(
                ClaimedReminder(
                    key=key,
                    kind=kinds[kind],
                    recipient=recipient,
                    person=person.handle,
                    person_name=person.name,
                    deadline=deadlines[deadline_id],
                    meeting=meetings[meeting_id] if meeting_id is not None else None,
                    due_at=due_at,
                    attempts=attempts,
                    claimed_at=since,
                    recovering=since is not None,
                    still_open=bool(ok) and (kind not in _FOLLOWS_DUE or bool(unmoved)),
                    address=address,
                )
            )
        return out

    def _people(self, ids: Collection[int]) -> dict[int, tuple[Person, str | None]]:
        """Each person, with the address their last message went to while it is still theirs."""
        found: dict[int, tuple[Person, str | None]] = {}
        query = person_columns(PersonRow.id, PersonRow.reached_channel, PersonRow.reached_as)
        for chunk in _chunks(sorted(ids)):
            for row in self.session.execute(query.where(PersonRow.id.in_(chunk))).tuples():
                person = person_from(row)
                id_, at, as_ = row[PERSON_WIDTH:]
                found[id_] = (person, at if at and as_ == reached_as(person) else None)
        return found

    def _titles(
        self, table: type[DeadlineRow | MeetingRow], ids: Collection[int]
    ) -> dict[int, Titled]:
        found: dict[int, Titled] = {}
        query = select(table.id, table.code, table.title, table.titles)
        for chunk in _chunks(sorted(ids)):
            for id_, code, title, titles in self.session.execute(query.where(table.id.in_(chunk))):
                found[id_] = Titled(code, title, dict(titles or {}))
        return found

    def remember_addresses(self, addresses: Mapping[str, tuple[Person, str]]) -> None:
        """Keep where each person's message landed (handle -> (person as addressed, address))."""
        if not addresses:
            return
        table = cast("Table", PersonRow.__table__)
        statement = (
            update(table)
            .where(table.c.handle == bindparam("b_handle"))
            .values(reached_channel=bindparam("b_channel"), reached_as=bindparam("b_as"))
        )
        self.session.connection().execute(
            statement,
            [
                {"b_handle": handle, "b_channel": address, "b_as": reached_as(person)}
                for handle, (person, address) in addresses.items()
            ],
        )

    def _finish(self, keys: Sequence[str], *, worker: str, **values: object) -> int:
        done = 0
        for chunk in _chunks(keys):
            result = self.session.execute(
                update(ReminderRow)
                .where(
                    ReminderRow.key.in_(chunk),
                    ReminderRow.claimed_by == worker,
                    ReminderRow.state == ReminderState.SENDING,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            done += result.rowcount  # type: ignore[attr-defined]
        return done

    def mark_sent(
        self, keys: Sequence[str], *, worker: str, channel: str, ts: str, now: datetime
    ) -> int:
        return self.mark_sent_many([(key, channel, ts) for key in keys], worker=worker, now=now)

    def mark_sent_many(
        self, sent: Sequence[tuple[str, str, str]], *, worker: str, now: datetime
    ) -> int:
        """Mark each (key, channel, ts) sent, if ``worker`` still holds it.

        A few statements of ``UPDATE ... FROM (VALUES ...)``, the rows handed to the driver as
        they are (``now`` converted once, by the column's own type): row by row, SQLAlchemy's
        parameter processing cost more than the update itself, and on SQLite each row gave the
        interpreter lock away and waited to get it back from the threads posting meanwhile.
        SQLite before 3.33 has no ``UPDATE ... FROM``: it gets one statement per row.
        """
        if not sent:
            return 0
        connection = self.session.connection()
        dialect = connection.dialect
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        stamp = _REMINDERS.c.updated_at.type.bind_processor(dialect)
        at = stamp(now) if stamp is not None else now
        table, key = quote(_REMINDERS.name), quote("key")
        values = f"state = {mark}, sent_at = {mark}, last_error = NULL, recovered_from = NULL, "
        values += f"updated_at = {mark}"
        held = f"claimed_by = {mark} AND state = {mark}"
        common = (ReminderState.SENT.value, at, at)
        holder = (worker, ReminderState.SENDING.value)
        cursor = connection.connection.cursor()  # the driver's, in this session's transaction
        done = 0
        try:
            if dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
                statement = (  # identifiers from the table's metadata, quoted
                    f"UPDATE {table} SET {values}, slack_channel = {mark}, slack_ts = {mark} "  # noqa: S608
                    f"WHERE {key} = {mark} AND {held}"
                )
                cursor.executemany(statement, [(*common, c, t, k, *holder) for k, c, t in sent])
                return int(cursor.rowcount)
            for chunk in _chunks(sent):
                triples = ", ".join(f"({mark}, {mark}, {mark})" for _ in chunk)
                statement = (  # identifiers from the table's metadata, quoted
                    f"UPDATE {table} SET {values}, slack_channel = v.column2, "  # noqa: S608
                    f"slack_ts = v.column3 FROM (VALUES {triples}) AS v "
                    f"WHERE {table}.{key} = v.column1 AND {held}"
                )
                flat = [value for row in chunk for value in row]
                cursor.execute(statement, (*common, *flat, *holder))
                done += cursor.rowcount
        finally:
            cursor.close()
        return done

    def mark_skipped(self, keys: Sequence[str], *, worker: str, now: datetime) -> int:
        return self._finish(
            keys,
            worker=worker,
            state=ReminderState.SKIPPED.value,
            recovered_from=None,
            updated_at=now,
        )

    def release_uncertain(
        self, keys: Sequence[str], *, worker: str, error: str, now: datetime
    ) -> int:
        """It may have been posted: left in ``sending`` with no holder; the next run looks in
        Slack's history before it posts again."""
        return self._finish(
            keys, worker=worker, claimed_by=None, last_error=error[:2000], updated_at=now
        )

    def release_failed(
        self,
        keys: Sequence[str],
        *,
        worker: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
    ) -> int:
        """Nothing was posted: planned again for ``retry_at``, or ``failed`` when None."""
        common: dict[str, object] = {
            "claimed_by": None,
            "claimed_at": None,
            "recovered_from": None,
            "last_error": error[:2000],
            "updated_at": now,
        }
        if retry_at is None:
            return self._finish(keys, worker=worker, state=ReminderState.FAILED.value, **common)
        return self._finish(
            keys, worker=worker, state=ReminderState.PLANNED.value, planned_at=retry_at, **common
        )
