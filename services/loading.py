"""``focal load``: calendar and roster files into the store, all or nothing.

Every file is validated first and every error reported; only a load with none is applied,
in one transaction, with an audit entry for each change. Loading the same files again
changes nothing. Relative deadlines are resolved again after every load, so they follow
their meetings; assignments are derived again, so they follow the roster.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from core.assignments import derive_assignments
from core.changes import Action, Change, FieldChange, Stored, diff
from core.config_files import FileContents, Known, check_contents, parse_file
from core.deadlines import resolve_due
from core.meetings import RESCHEDULING_FIELDS, meeting_instants, meeting_uid
from core.source import LoadErrors

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from datetime import datetime

    from core.model import Deadline, Group, Meeting, Person
    from core.source import LoadError, Node
    from core.workdays import WorkingCalendar
    from services.ports import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    default_timezone: str
    country: str
    workdays: WorkingCalendar


@dataclass(frozen=True, slots=True)
class LoadReport:
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    files: tuple[str, ...] = field(default_factory=tuple)

    def count(self, entity: str) -> Counter[Action]:
        return Counter(c.action for c in self.changes if c.entity == entity)

    @property
    def written(self) -> int:
        return 0 if self.dry_run else sum(1 for c in self.changes if c.writes)


def read_documents(
    documents: Sequence[tuple[str, Node]], *, options: LoadOptions
) -> tuple[FileContents, list[LoadError]]:
    contents, errors = FileContents(), []
    for source, root in documents:
        parsed, found = parse_file(
            root, source, default_timezone=options.default_timezone, default_country=options.country
        )
        contents.extend(parsed)
        errors += found
    return contents, errors


def _still_known(
    stored: Mapping[str, Stored[T]], in_files: set[str], loaded: Collection[str], *, prune: bool
) -> frozenset[str]:
    """Codes the store keeps after this load (those being pruned do not count)."""
    return frozenset(
        code
        for code, s in stored.items()
        if not s.removed and not (prune and s.source in loaded and code not in in_files)
    )


def load_configuration(
    documents: Sequence[tuple[str, Node]],
    *,
    uow: UnitOfWork,
    options: LoadOptions,
    actor: str,
    now: datetime,
    prune: bool = False,
    dry_run: bool = False,
) -> LoadReport:
    """Validate every document, then apply them in one transaction (or roll back on dry run).

    Raises ``LoadErrors`` with every problem found; nothing is written then.
    """
    contents, errors = read_documents(documents, options=options)
    loaded = tuple(source for source, _ in documents)
    with uow:
        people = uow.roster.people()
        groups = uow.roster.groups()
        meetings = {
            k: Stored(s.value.meeting, s.source, s.removed)
            for k, s in uow.calendar.meetings().items()
        }
        deadlines = {
            k: Stored(s.value.deadline, s.source, s.removed)
            for k, s in uow.calendar.deadlines().items()
        }
        known = Known(
            meetings=_still_known(
                meetings, {e.value.code for e in contents.meetings}, loaded, prune=prune
            ),
            groups=_still_known(
                groups, {e.value.code for e in contents.groups}, loaded, prune=prune
            ),
            people=_still_known(
                people, {e.value.handle for e in contents.people}, loaded, prune=prune
            ),
        )
        errors += check_contents(contents, known)
        if errors:
            raise LoadErrors(errors)

        changes: list[Change] = []
        changes += _apply_people(uow, contents, people, loaded, prune=prune, now=now)
        uow.flush()
        changes += _apply_groups(uow, contents, groups, loaded, prune=prune, now=now)
        changes += _apply_coordinators(uow, contents)
        uow.flush()
        changes += _apply_meetings(uow, contents, meetings, loaded, prune=prune, now=now)
        uow.flush()
        deadline_changes, warnings = _apply_deadlines(
            uow, contents, deadlines, loaded, options=options, prune=prune, now=now
        )
        changes += deadline_changes
        uow.flush()
        changes = follow_meetings(uow, changes, options=options, now=now)
        uow.flush()
        changes += sync_assignments(uow, now=now)
        for change in changes:
            if change.writes:
                uow.audit.record(
                    actor=actor,
                    action=change.action.value,
                    entity=change.entity,
                    key=change.key,
                    changes=change.as_json(),
                    at=now,
                )
        if dry_run:
            uow.rollback()
        else:
            if any(change.writes for change in changes):
                uow.reminders.mark_stale()  # who owes what, or when, may have changed
            uow.commit()
    return LoadReport(tuple(changes), tuple(warnings), dry_run, loaded)


_WRITES = frozenset({Action.ADDED, Action.CHANGED, Action.RESTORED})


def _apply(
    entity: str,
    desired: Mapping[str, tuple[T, str]],
    stored: Mapping[str, Stored[T]],
    loaded: Collection[str],
    *,
    prune: bool,
    save: Callable[[T, str, Change], None],
    remove: Callable[[str], None],
) -> list[Change]:
    """Diff one kind of entity, then save what is new or changed and remove what is pruned."""
    changes = diff(entity, desired, stored, loaded_sources=loaded, prune=prune)
    for change in changes:
        if change.action in _WRITES:
            value, source = desired[change.key]
            save(value, source, change)
        elif change.action is Action.REMOVED:
            remove(change.key)
    return changes


def _apply_people(
    uow: UnitOfWork,
    contents: FileContents,
    stored: Mapping[str, Stored[Person]],
    loaded: Collection[str],
    *,
    prune: bool,
    now: datetime,
) -> list[Change]:
    desired: dict[str, tuple[Person, str]] = {}
    for entry in contents.people:
        person = entry.value
        previous = stored.get(person.handle)
        if person.slack_user_id is None and previous and previous.value.slack_user_id:
            # an id found through Slack is kept when the roster gives none
            person = dataclasses.replace(person, slack_user_id=previous.value.slack_user_id)
        desired[person.handle] = (person, entry.file)
    return _apply(
        "person",
        desired,
        stored,
        loaded,
        prune=prune,
        save=lambda p, source, _: uow.roster.save_person(p, source=source, now=now),
        remove=lambda key: uow.roster.remove_person(key, now=now),
    )


def _apply_groups(
    uow: UnitOfWork,
    contents: FileContents,
    stored: Mapping[str, Stored[Group]],
    loaded: Collection[str],
    *,
    prune: bool,
    now: datetime,
) -> list[Change]:
    desired = {e.value.code: (e.value, e.file) for e in contents.groups}
    return _apply(
        "group",
        desired,
        stored,
        loaded,
        prune=prune,
        save=lambda g, source, _: uow.roster.save_group(g, source=source, now=now),
        remove=lambda key: uow.roster.remove_group(key, now=now),
    )


def _apply_coordinators(uow: UnitOfWork, contents: FileContents) -> list[Change]:
    if contents.coordinators is None:
        return []
    current = uow.roster.coordinators()
    wanted = tuple(sorted({e.value for e in contents.coordinators}))
    if current == wanted:
        return [Change("coordinators", "coordinators", Action.UNCHANGED)]
    uow.roster.set_coordinators(wanted)
    field = FieldChange("handles", current, wanted)
    return [Change("coordinators", "coordinators", Action.CHANGED, (field,))]


def _apply_meetings(
    uow: UnitOfWork,
    contents: FileContents,
    stored: Mapping[str, Stored[Meeting]],
    loaded: Collection[str],
    *,
    prune: bool,
    now: datetime,
) -> list[Change]:
    def save(meeting: Meeting, source: str, change: Change) -> None:
        starts_at, ends_at = meeting_instants(meeting)
        moved = any(f.field in RESCHEDULING_FIELDS for f in change.fields)
        uow.calendar.save_meeting(
            meeting,
            uid=meeting_uid(meeting.code),
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            now=now,
            bump_sequence=moved or change.action is Action.RESTORED,
        )

    desired = {e.value.code: (e.value, e.file) for e in contents.meetings}
    return _apply(
        "meeting",
        desired,
        stored,
        loaded,
        prune=prune,
        save=save,
        remove=lambda key: uow.calendar.remove_meeting(key, now=now),
    )


def _apply_deadlines(
    uow: UnitOfWork,
    contents: FileContents,
    stored: Mapping[str, Stored[Deadline]],
    loaded: Collection[str],
    *,
    options: LoadOptions,
    prune: bool,
    now: datetime,
) -> tuple[list[Change], list[str]]:
    meetings = {k: s.value.meeting for k, s in uow.calendar.meetings().items()}
    records = uow.calendar.deadlines()
    warnings: list[str] = []

    def save(deadline: Deadline, source: str, _change: Change) -> None:
        meeting = meetings.get(deadline.meeting) if deadline.meeting else None
        due_at = resolve_due(
            deadline, meeting, default_timezone=options.default_timezone, workdays=options.workdays
        )
        previous = records.get(deadline.code)
        uow.calendar.save_deadline(
            deadline,
            due_at=due_at,
            source=source,
            now=now,
            bump_sequence=previous is not None and previous.value.due_at != due_at,
        )
        warnings.extend(_due_warnings(deadline, due_at, options))

    desired = {e.value.code: (e.value, e.file) for e in contents.deadlines}
    changes = _apply(
        "deadline",
        desired,
        stored,
        loaded,
        prune=prune,
        save=save,
        remove=lambda key: uow.calendar.remove_deadline(key, now=now),
    )
    return changes, warnings


def _due_warnings(deadline: Deadline, due_at: datetime, options: LoadOptions) -> list[str]:
    zone = ZoneInfo(deadline.timezone or options.default_timezone)
    day = due_at.astimezone(zone).date()
    if options.workdays.is_working_day(day):
        return []
    holiday = options.workdays.holiday_name(day)
    why = f"a public holiday ({holiday})" if holiday else "not a working day"
    return [f"{deadline.code} is due on {day:%a %Y-%m-%d}, {why} in {options.workdays.country}"]


def follow_meetings(
    uow: UnitOfWork, changes: list[Change], *, options: LoadOptions, now: datetime
) -> list[Change]:
    """Resolve every deadline again: a relative deadline moves when its meeting moves."""
    meetings = {k: s.value.meeting for k, s in uow.calendar.meetings().items()}
    by_key = {(c.entity, c.key): i for i, c in enumerate(changes)}
    out = list(changes)
    for code, stored in uow.calendar.deadlines().items():
        if stored.removed:
            continue
        record = stored.value
        meeting = meetings.get(record.deadline.meeting) if record.deadline.meeting else None
        due_at = resolve_due(
            record.deadline,
            meeting,
            default_timezone=options.default_timezone,
            workdays=options.workdays,
        )
        if due_at == record.due_at:
            continue
        uow.calendar.set_due(code, due_at, now=now)
        moved = FieldChange("due_at", record.due_at, due_at)
        index = by_key.get(("deadline", code))
        if index is None:
            out.append(
                Change(
                    "deadline",
                    code,
                    Action.CHANGED,
                    (moved,),
                    note=f"follows meeting {record.deadline.meeting}",
                )
            )
        else:
            old = out[index]
            action = Action.CHANGED if old.action is Action.UNCHANGED else old.action
            out[index] = dataclasses.replace(
                old,
                action=action,
                fields=(*old.fields, moved),
                note=f"follows meeting {record.deadline.meeting}",
            )
    return out


def sync_assignments(uow: UnitOfWork, *, now: datetime) -> list[Change]:
    """Bring assignments in line with the deadlines and the roster (withdrawn, never deleted)."""
    roster = uow.roster.roster()
    active = [s.value.deadline for s in uow.calendar.deadlines().values() if not s.removed]
    desired = derive_assignments(active, roster)
    current = uow.assignments.active()
    changes = []
    for key, assignment in desired.items():
        if key not in current:
            uow.assignments.assign(*key, now=now)
            via = ", ".join(assignment.via) or "by name"
            changes.append(Change("assignment", "/".join(key), Action.ADDED, note=f"via {via}"))
    for key in sorted(current - desired.keys()):
        uow.assignments.withdraw(*key, now=now)
        changes.append(
            Change(
                "assignment",
                "/".join(key),
                Action.REMOVED,
                note="no longer assigned by the calendar or the roster",
            )
        )
    return changes
