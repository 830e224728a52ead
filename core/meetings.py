"""Meeting instants and identities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.deadlines import to_utc

if TYPE_CHECKING:
    from core.model import Meeting

_UID_NAMESPACE = uuid.UUID("5b0c8f5e-4a8e-4d8c-9a62-6f3b1f0c2a11")
#: Fields whose change raises a meeting's SEQUENCE in the feeds (RFC 5545: time or status).
RESCHEDULING_FIELDS = frozenset({"start", "end", "timezone", "all_day", "status"})


def meeting_uid(code: str) -> str:
    """A stable UID for a meeting defined in a calendar file: the same code, the same UID."""
    return f"{uuid.uuid5(_UID_NAMESPACE, 'meeting:' + code)}@focal"


def meeting_instants(meeting: Meeting) -> tuple[datetime, datetime]:
    """Start and end as aware UTC; an all-day meeting ends at midnight after its last day."""
    zone = ZoneInfo(meeting.timezone)
    if meeting.all_day:
        end_local = datetime.combine(meeting.end_exclusive_date(), datetime.min.time())
        return to_utc(meeting.start, zone), to_utc(end_local, zone)
    return to_utc(meeting.start, zone), to_utc(meeting.end, zone)
