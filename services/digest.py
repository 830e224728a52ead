"""The coordinators' digest: build it from the store, post it once per local day."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from core.digest import DeadlineProgress, build_digest
from core.model import Language, MeetingStatus
from core.notices import Titled
from db.digests import DigestClaim, DigestTurn
from services.delivery import LEASE
from services.ports import DeliveryFailedError, DeliveryUncertainError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from core.notices import Digest
    from services.delivery import Worker
    from services.ports import Delivery, Notifier, UnitOfWork


class DigestOutcome(enum.StrEnum):
    SENT = "sent"
    FOUND = "found"  # an earlier run had posted it; now recorded
    EMPTY = "empty"  # nothing needs action: nothing posted
    ALREADY_SENT = "already-sent"
    BUSY = "busy"  # another run is posting it
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # may have been posted; the next run looks first


@dataclass(frozen=True, slots=True)
class DigestResult:
    outcome: DigestOutcome
    digest: Digest
    delivery: Delivery | None = None
    error: str | None = None


def current_digest(
    *, uow: UnitOfWork, now: datetime, timezone: str, window_days: int = 14
) -> Digest:
    """The digest as of ``now``, in the first coordinator's timezone and language."""
    with uow:
        roster = uow.roster.roster()
        language = Language.EN
        for handle in roster.coordinators:
            if (person := roster.people.get(handle)) is not None:
                timezone, language = person.timezone, person.language
                break
        meetings = {code: s.value for code, s in uow.calendar.meetings().items()}
        progress = []
        for stored in uow.calendar.deadlines().values():
            record = stored.value
            if stored.removed or record.due_at > now + timedelta(days=window_days):
                continue
            deadline = record.deadline
            meeting = meetings.get(deadline.meeting) if deadline.meeting else None
            rows = [r for r in uow.assignments.status(deadline.code) if r.active]
            excused = [r for r in rows if r.not_applicable_reason]
            done = [r for r in rows if r.versions and not r.not_applicable_reason]
            missing = [r.name for r in rows if not r.versions and not r.not_applicable_reason]
            progress.append(
                DeadlineProgress(
                    deadline=Titled(deadline.code, deadline.title, dict(deadline.titles)),
                    meeting=(
                        Titled(meeting.meeting.code, meeting.meeting.title, meeting.meeting.titles)
                        if meeting
                        else None
                    ),
                    due_at=record.due_at,
                    meeting_ends_at=meeting.ends_at if meeting else None,
                    cancelled=meeting is not None
                    and meeting.meeting.status is MeetingStatus.CANCELLED,
                    assigned=len(rows),
                    submitted=len(done),
                    not_applicable=len(excused),
                    missing=tuple(sorted(missing)),
                )
            )
    return build_digest(
        progress, now=now, timezone=timezone, language=language, window_days=window_days
    )


def _post(
    digest: Digest, claim: DigestClaim, notifier: Notifier
) -> tuple[DigestOutcome, Delivery | None, str | None]:
    try:
        if claim.turn is DigestTurn.RECOVER and claim.since is not None:
            found = notifier.find_sent(digest, since=claim.since - timedelta(minutes=2))
            if digest.key in found:
                return DigestOutcome.FOUND, found[digest.key], None
        return DigestOutcome.SENT, notifier.send(digest), None
    except DeliveryUncertainError as exc:
        return DigestOutcome.UNCERTAIN, None, str(exc)
    except DeliveryFailedError as exc:
        return DigestOutcome.FAILED, None, str(exc)


def send_digest(
    *,
    uow_factory: Callable[[], UnitOfWork],
    notifier: Notifier,
    now: datetime,
    worker: Worker,
    timezone: str,
    window_days: int = 14,
    lease: timedelta = LEASE,
) -> DigestResult:
    """Post today's digest unless it was posted already; exactly once, like a reminder."""
    digest = current_digest(uow=uow_factory(), now=now, timezone=timezone, window_days=window_days)
    if digest.empty:
        return DigestResult(DigestOutcome.EMPTY, digest)

    def abandoned(holder: str | None, since: datetime) -> bool:
        return holder is None or since < now - lease or worker.is_gone(holder)

    with uow_factory() as uow:
        try:
            claim = uow.digests.claim(digest.key, worker=worker.name, now=now, abandoned=abandoned)
            uow.commit()
        except IntegrityError:
            return DigestResult(DigestOutcome.BUSY, digest)
    if claim.turn is DigestTurn.SENT:
        return DigestResult(DigestOutcome.ALREADY_SENT, digest)
    if claim.turn is DigestTurn.BUSY:
        return DigestResult(DigestOutcome.BUSY, digest)
    outcome, delivery, error = _post(digest, claim, notifier)
    with uow_factory() as uow:
        if delivery is not None:
            uow.digests.mark_sent(
                digest.key, worker=worker.name, channel=delivery.channel, ts=delivery.ts, now=now
            )
        else:
            uow.digests.release(
                digest.key,
                worker=worker.name,
                error=error or "",
                uncertain=outcome is DigestOutcome.UNCERTAIN,
            )
        uow.commit()
    return DigestResult(outcome, digest, delivery, error)
