"""The digests in the store: one per local day, claimed before it is posted, like a reminder."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.model import ReminderState
from db.models import DigestRow

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.orm import Session


class DigestTurn(enum.StrEnum):
    MINE = "mine"  # claimed: post it
    RECOVER = "recover"  # an earlier claim may have posted it: look first
    SENT = "sent"  # already sent today
    BUSY = "busy"  # another run holds it


@dataclass(frozen=True, slots=True)
class DigestClaim:
    turn: DigestTurn
    since: datetime | None = None  # for RECOVER: when the earlier claim was made


class DigestRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(
        self,
        key: str,
        *,
        worker: str,
        now: datetime,
        abandoned: Callable[[str | None, datetime], bool],
    ) -> DigestClaim:
        """Claim the digest ``key``; a race on a new key is settled by its unique constraint."""
        row = self.session.scalar(select(DigestRow).where(DigestRow.key == key).with_for_update())
        if row is None:
            self.session.add(
                DigestRow(
                    key=key,
                    state=ReminderState.SENDING.value,
                    attempts=1,
                    claimed_by=worker,
                    claimed_at=now,
                    created_at=now,
                )
            )
            self.session.flush()  # IntegrityError: someone else claimed it first
            return DigestClaim(DigestTurn.MINE)
        if row.state == ReminderState.SENT:
            return DigestClaim(DigestTurn.SENT)
        turn = DigestTurn.MINE
        since = None
        if row.state == ReminderState.SENDING:
            held_since = row.claimed_at or row.created_at
            if not abandoned(row.claimed_by, held_since):
                return DigestClaim(DigestTurn.BUSY)
            turn, since = DigestTurn.RECOVER, held_since
        row.state, row.claimed_by, row.claimed_at = ReminderState.SENDING.value, worker, now
        row.attempts += 1
        return DigestClaim(turn, since)

    def _row(self, key: str, worker: str) -> DigestRow | None:
        return self.session.scalar(
            select(DigestRow).where(
                DigestRow.key == key,
                DigestRow.claimed_by == worker,
                DigestRow.state == ReminderState.SENDING,
            )
        )

    def mark_sent(self, key: str, *, worker: str, channel: str, ts: str, now: datetime) -> None:
        row = self._row(key, worker)
        if row is not None:
            row.state, row.sent_at, row.slack_channel, row.slack_ts = "sent", now, channel, ts
            row.last_error = None

    def release(self, key: str, *, worker: str, error: str, uncertain: bool) -> None:
        """Unclear: left ``sending`` with no holder (looked up next time); else ``failed``."""
        row = self._row(key, worker)
        if row is not None:
            row.claimed_by = None
            row.last_error = error[:2000]
            if not uncertain:
                row.state = ReminderState.FAILED.value
