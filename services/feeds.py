"""A person's or a group's feed, built from the store as of ``now``.

A person's feed: the meetings of their groups (and of the inputs they owe) and their own
deadlines, in their language, due days in their timezone. A group's feed: its meetings and the
deadlines assigned to it, with the state of its members' inputs, due days in each deadline's
timezone. Each build brings the store's record of the feed up to date in one short transaction:
an event whose time or status changed gets a higher SEQUENCE, and the feed a later stamp.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.feed_state import (
    deadline_state,
    deadline_uid,
    fingerprint,
    next_sequence,
    state_changed_at,
    valid_until,
    whole_seconds,
)
from core.feeds import Feed, FeedDeadline, FeedMeeting, render_feed
from core.model import MeetingStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from db.feeds import DeadlineEntry, FeedGroup, FeedOwner, MeetingEntry
    from services.ports import UnitOfWork

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedNotFoundError(LookupError):
    """No such feed for this token: unknown, revoked, or not the token owner's to see."""


class FeedStoreConflictError(RuntimeError):
    """Other writers kept moving the feed's record on; the caller may try again."""


@dataclass(frozen=True, slots=True)
class BuiltFeed:
    feed: Feed
    valid_until: datetime | None  # when a due deadline turns overdue: build again after it
    digest: str  # of the content without the stamp: equal digests and stamps, equal feeds


def person_scope(person_id: int) -> str:
    return f"person:{person_id}"


def group_scope(group_id: int) -> str:
    return f"group:{group_id}"


def _meeting(entry: MeetingEntry, language: str) -> FeedMeeting:
    return FeedMeeting(
        uid=entry.uid,
        recurrence_id=entry.recurrence_id,
        title=entry.titles.get(language, entry.title),
        start=entry.start,
        end=entry.end,
        timezone=entry.timezone,
        all_day=entry.all_day,
        cancelled=entry.status is MeetingStatus.CANCELLED,
        tentative=entry.status in {MeetingStatus.TENTATIVE, MeetingStatus.POSTPONED},
        sequence=entry.sequence,
        venue=entry.venue,
        description=entry.code,
    )


@dataclass(frozen=True, slots=True)
class _Event:
    entry: DeadlineEntry
    uid: str
    zone: str
    fingerprint: str
    changed_at: datetime


def _sync_sequences(uow: UnitOfWork, scope: str, events: Sequence[_Event]) -> dict[str, int]:
    """Each event's SEQUENCE in this feed; raised (in the store) where its fingerprint moved.

    Read without locks first (nothing changed: nothing written); if anything moved, the
    feed's rows are read again locked, so that two builders raise each change once, in turn.
    """
    stored = uow.feeds.events(scope)
    if any(e.uid not in stored for e in events):
        fresh = [e for e in events if e.uid not in stored]
        uow.feeds.add_events(
            scope, [(e.uid, e.fingerprint, e.entry.sequence, e.changed_at) for e in fresh]
        )
    if any(e.uid not in stored or stored[e.uid].fingerprint != e.fingerprint for e in events):
        stored = uow.feeds.events(scope, lock=True)
    sequences: dict[str, int] = {}
    for event in events:
        have = stored[event.uid]
        changed = have.fingerprint != event.fingerprint
        sequences[event.uid] = next_sequence(
            have.sequence, base=event.entry.sequence, changed=changed
        )
        if changed and not uow.feeds.change_event(
            scope,
            event.uid,
            was=have.fingerprint,
            now_is=event.fingerprint,
            sequence=sequences[event.uid],
            changed_at=event.changed_at,
        ):
            raise FeedStoreConflictError(scope)  # cannot happen while the rows are locked
    return sequences


def _sync_stamp(uow: UnitOfWork, key: str, digest: str, data_stamp: datetime) -> datetime:
    """The feed's stamp: the data's last change, and later than the last one whenever the
    content (``digest``) differs from what the store last recorded for this feed."""
    stored = uow.feeds.stamp(key)
    if stored is not None and stored.digest == digest:
        return stored.stamp
    if stored is None and uow.feeds.save_stamp(key, was=None, digest=digest, stamp=data_stamp):
        return data_stamp
    stored = uow.feeds.stamp(key, lock=True)  # someone else's, or changed: in turn
    if stored is None:
        raise FeedStoreConflictError(key)
    if stored.digest == digest:
        return stored.stamp
    stamp = max(data_stamp, stored.stamp + timedelta(seconds=1))
    if not uow.feeds.save_stamp(key, was=stored.digest, digest=digest, stamp=stamp):
        raise FeedStoreConflictError(key)
    return stamp


def _assemble(
    uow: UnitOfWork,
    *,
    scope: str,
    name: str,
    language: str,
    zone_of: Sequence[str],
    meetings: Sequence[MeetingEntry],
    deadlines: Sequence[DeadlineEntry],
    since: datetime,
    now: datetime,
) -> BuiltFeed:
    """``zone_of[i]``: the zone whose calendar day is deadline ``i``'s due day."""
    events: list[_Event] = []
    states = []
    for entry, zone in zip(deadlines, zone_of, strict=True):
        state = deadline_state(
            entry.owed, due_at=entry.due_at, meeting_cancelled=entry.meeting_cancelled, now=now
        )
        states.append(state)
        due_day = entry.due_at.astimezone(ZoneInfo(zone)).date()
        events.append(
            _Event(
                entry=entry,
                uid=deadline_uid(entry.code),
                zone=zone,
                fingerprint=fingerprint(entry.due_at, due_day, state),
                changed_at=state_changed_at(
                    entry.owed, state=state, due_at=entry.due_at, updated_at=entry.updated_at
                ),
            )
        )
    sequences = _sync_sequences(uow, scope, events)
    feed_deadlines = []
    for event, state in zip(events, states, strict=True):
        entry = event.entry
        local = entry.due_at.astimezone(ZoneInfo(event.zone))
        about = f"{entry.code} · {local:%Y-%m-%d %H:%M} ({event.zone})"
        if entry.meeting_code:
            about += f" · {entry.meeting_code}"
        feed_deadlines.append(
            FeedDeadline(
                uid=event.uid,
                title=entry.titles.get(language, entry.title),
                due_date=local.date(),
                state=state,
                sequence=sequences[event.uid],
                description=about,
            )
        )
    content = Feed(
        name=name,
        language=language,
        stamp=_EPOCH,
        meetings=tuple(_meeting(m, language) for m in meetings),
        deadlines=tuple(feed_deadlines),
    )
    data_stamp = whole_seconds(
        max([since, *(m.updated_at for m in meetings), *(e.changed_at for e in events)])
    )
    digest = hashlib.sha256(repr(content).encode()).hexdigest()
    stamp = _sync_stamp(uow, f"{scope}:{language}", digest, data_stamp)
    due = [(d.due_at, s) for d, s in zip(deadlines, states, strict=True)]
    return BuiltFeed(replace(content, stamp=stamp), valid_until(due, now=now), digest)


def build_person_feed(owner: FeedOwner, *, uow: UnitOfWork, now: datetime) -> BuiltFeed:
    """``owner``'s own feed as of ``now``."""
    with uow:
        meetings = uow.feeds.person_meetings(owner.person_id)
        deadlines = uow.feeds.person_deadlines(owner.person_id)
        built = _assemble(
            uow,
            scope=person_scope(owner.person_id),
            name=f"Focal — {owner.name}",
            language=owner.language,
            zone_of=[owner.timezone] * len(deadlines),
            meetings=meetings,
            deadlines=deadlines,
            since=owner.updated_at,
            now=now,
        )
        uow.commit()
    return built


def build_group_feed(
    group: FeedGroup, *, language: str, office_timezone: str, uow: UnitOfWork, now: datetime
) -> BuiltFeed:
    """``group``'s feed in ``language`` as of ``now``."""
    with uow:
        meetings = uow.feeds.group_meetings(group.group_id)
        deadlines = uow.feeds.group_deadlines(group.group_id)
        built = _assemble(
            uow,
            scope=group_scope(group.group_id),
            name=f"Focal — {group.code}: {group.name}",
            language=language,
            zone_of=[d.timezone or office_timezone for d in deadlines],
            meetings=meetings,
            deadlines=deadlines,
            since=group.updated_at,
            now=now,
        )
        uow.commit()
    return built


def person_feed_bytes(handle: str, *, uow: UnitOfWork, now: datetime) -> bytes:
    """``focal feed --person``: the bytes ``GET /feeds/{token}.ics`` serves for the same data."""
    with uow:
        owner = uow.feeds.person(handle)
    if owner is None:
        raise FeedNotFoundError(f"no person {handle!r} in the roster")
    return render_feed(build_person_feed(owner, uow=uow, now=now).feed)


def group_feed_bytes(
    code: str, *, language: str, office_timezone: str, uow: UnitOfWork, now: datetime
) -> bytes:
    """``focal feed --group``: what a member reading ``language`` is served."""
    with uow:
        group = uow.feeds.group(code)
    if group is None:
        raise FeedNotFoundError(f"no group {code!r} in the roster")
    built = build_group_feed(
        group, language=language, office_timezone=office_timezone, uow=uow, now=now
    )
    return render_feed(built.feed)


def feed_names(*, uow: UnitOfWork) -> tuple[list[str], list[str]]:
    """Every person's handle and every group's code (``focal feed --all``)."""
    with uow:
        return uow.feeds.handles(), uow.feeds.group_codes()
