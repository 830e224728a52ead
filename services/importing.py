"""``focal import-ics``: meetings of another calendar into the store, idempotent.

The file is read by the core (``core.ics_import``); a file it refuses writes nothing. Each
event instance is one meeting, found again by its UID and RECURRENCE-ID: a second import of
the same file changes nothing; a moved or cancelled instance updates its meeting (sequence
raised, relative deadlines follow, reminders planned again). A meeting of this source that
is gone from it within the window is cancelled, not deleted: deadlines may hang off it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from core.changes import Action, Change, FieldChange, field_changes
from core.ics_import import ImportWindow, import_code, imported_meeting, read_calendar
from core.meetings import RESCHEDULING_FIELDS, meeting_instants
from core.model import MeetingKind, MeetingStatus
from services.loading import follow_meetings

if TYPE_CHECKING:
    from core.ics_import import ImportedEvent
    from db.imports import ImportedRecord, Key
    from services.loading import LoadOptions
    from services.ports import UnitOfWork


class ImportRefusedError(ValueError):
    """The import cannot be done as asked (an unknown group...); nothing was written."""


@dataclass(frozen=True, slots=True)
class ImportOptions:
    window: ImportWindow
    load: LoadOptions  # the office's timezone and working days (deadlines follow meetings)
    group: str | None = None  # attach the meetings to this group
    kind: MeetingKind | None = None  # None: keep a meeting's kind, ``other`` for new ones


@dataclass(frozen=True, slots=True)
class ImportReport:
    source: str
    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    found: int  # event instances in the window
    dry_run: bool = False
    calendar_name: str | None = None

    def count(self, entity: str = "meeting") -> Counter[Action]:
        return Counter(c.action for c in self.changes if c.entity == entity)

    @property
    def cancelled(self) -> tuple[str, ...]:
        """Meetings cancelled because the source no longer has them."""
        return tuple(c.key for c in self.changes if c.note == GONE)

    @property
    def written(self) -> int:
        return 0 if self.dry_run else sum(1 for c in self.changes if c.writes)


GONE = "gone from its source: cancelled"
_FOCAL_UID = "@focal"


def import_calendar(
    data: bytes,
    *,
    source: str,
    uow: UnitOfWork,
    now: datetime,
    options: ImportOptions,
    actor: str = "import",
    dry_run: bool = False,
) -> ImportReport:
    """Import ``data`` (iCalendar bytes) from ``source`` (a path or URL, as configured).

    Raises ``CalendarRefusedError`` (the file) or ``ImportRefusedError`` (the options);
    nothing is written then.
    """
    contents = read_calendar(
        data, window=options.window, default_timezone=options.load.default_timezone
    )
    warnings = list(contents.warnings)
    events = [e for e in contents.events if not e.uid.endswith(_FOCAL_UID)]
    if len(events) < len(contents.events):
        warnings.append("events of Focal's own feeds are not imported again (UID …@focal)")
    with uow:
        if options.group is not None:
            groups = uow.roster.groups()
            if options.group not in groups or groups[options.group].removed:
                raise ImportRefusedError(
                    f"--group {options.group}: no such group in the roster (load it first)"
                )
        stored = uow.imports.by_uid({e.uid for e in events})
        changes = [
            _apply(e, stored.get(e.key), uow=uow, options=options, source=source, now=now)
            for e in events
        ]
        present = {e.key for e in events} | contents.moved
        changes += _cancel_vanished(uow, present, source=source, options=options, now=now)
        uow.flush()
        if any(c.action in {Action.CHANGED, Action.RESTORED} for c in changes):
            # a meeting that moved or was cancelled: its relative deadlines follow
            changes = follow_meetings(uow, changes, options=options.load, now=now)
            uow.flush()
        for change in changes:
            if change.writes:
                uow.audit.record(
                    actor=actor,
                    action=change.action.value,
                    entity=change.entity,
                    key=change.key,
                    changes={**change.as_json(), "source": source},
                    at=now,
                )
        if dry_run:
            uow.rollback()
        else:
            if any(change.writes for change in changes):
                uow.reminders.mark_stale()  # meetings moved or were cancelled: plan again
            uow.commit()
    return ImportReport(
        source=source,
        changes=tuple(changes),
        warnings=tuple(warnings),
        found=len(events),
        dry_run=dry_run,
        calendar_name=contents.name,
    )


def _apply(
    event: ImportedEvent,
    previous: ImportedRecord | None,
    *,
    uow: UnitOfWork,
    options: ImportOptions,
    source: str,
    now: datetime,
) -> Change:
    groups: tuple[str, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    if previous is None:
        code = import_code(event.uid, event.recurrence_id, prefix=options.group or "ics")
        kind = options.kind or MeetingKind.OTHER
    else:
        code, kind, groups = previous.meeting.code, previous.meeting.kind, previous.meeting.groups
        kind = options.kind or kind
    if options.group is not None:
        groups = (options.group,)
    meeting = imported_meeting(event, code=code, kind=kind, groups=groups)
    if previous is None:
        action = Action.ADDED
    else:
        fields = field_changes(previous.meeting, meeting)
        if previous.source != source:
            fields += (FieldChange("source", previous.source, source),)
        action = (
            Action.RESTORED if previous.removed else Action.CHANGED if fields else Action.UNCHANGED
        )
    if action is not Action.UNCHANGED:
        starts_at, ends_at = meeting_instants(meeting)
        moved = any(f.field in RESCHEDULING_FIELDS for f in fields)
        uow.imports.save(
            meeting,
            uid=event.uid,
            recurrence_id=event.recurrence_id,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            bump_sequence=moved or action is Action.RESTORED,
            now=now,
        )
    return Change("meeting", code, action, fields)


def window_instants(window: ImportWindow) -> tuple[datetime, datetime]:
    """The window as UTC instants, widened by a day each side for every timezone's days."""
    start = datetime.combine(window.first, time(), UTC) - timedelta(days=1)
    end = datetime.combine(window.last, time(), UTC) + timedelta(days=2)
    return start, end


def _cancel_vanished(
    uow: UnitOfWork, keys: set[Key], *, source: str, options: ImportOptions, now: datetime
) -> list[Change]:
    start, end = window_instants(options.window)
    window = options.window
    changes = []
    for key, record in sorted(uow.imports.of_source(source, start=start, end=end).items()):
        meeting = record.meeting
        if key in keys or record.removed or meeting.status is MeetingStatus.CANCELLED:
            continue
        if not window.first <= meeting.start_date <= window.last:
            continue  # outside the window: this import says nothing about it
        uow.imports.cancel(key, now=now)
        field = FieldChange("status", meeting.status, MeetingStatus.CANCELLED)
        changes.append(Change("meeting", meeting.code, Action.CHANGED, (field,), note=GONE))
    return changes
