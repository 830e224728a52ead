"""Timezones of imported events: IANA names for what calendars write, and instants kept exact.

IANA TZIDs are kept as they are; Windows and "globally unique" names are mapped to IANA when
the mapping agrees with the file; anything else is converted to UTC through the file's own
VTIMEZONE, with a warning. Floating times are read in a zone the caller chooses.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar.timezone.tzid import tzid_from_tzinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

if TYPE_CHECKING:
    from collections.abc import Callable


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def iana_zone(name: str) -> str | None:
    """An IANA name for a TZID: as is (any case), a Windows name, or ``/vendor/Zone``."""
    cleaned = name.strip().strip('"').strip("/")
    zones = _zones_by_lower_name()
    if cleaned.lower() in zones:
        return zones[cleaned.lower()]
    if cleaned in WINDOWS_TO_OLSON:
        return str(WINDOWS_TO_OLSON[cleaned])
    parts = cleaned.split("/")
    for start in range(1, len(parts)):
        candidate = "/".join(parts[start:]).lower()
        if candidate in zones:
            return zones[candidate]
    return None


def localize(
    value: datetime, tzid: str | None, fallback: str, warn: Callable[[str], None]
) -> tuple[str, datetime]:
    """The IANA zone a start is in, and its wall-clock time there."""
    if value.tzinfo is None:
        zone = iana_zone(tzid) if tzid else None
        if zone is not None:
            return zone, value
        if tzid:
            warn(
                f"TZID {tzid!r} is neither an IANA name nor defined in the file: "
                f"its times are read as {fallback} times"
            )
        else:
            warn(f"times without a timezone are read as {fallback} times")
        return fallback, value
    if isinstance(value.tzinfo, ZoneInfo):
        return value.tzinfo.key, value.replace(tzinfo=None)
    if value.utcoffset() == timedelta(0) and str(value.tzname()).upper() in {"UTC", "Z"}:
        return "UTC", value.replace(tzinfo=None)
    tzid = tzid_from_tzinfo(value.tzinfo) or str(value.tzname())
    candidate = iana_zone(tzid)
    naive = value.replace(tzinfo=None)
    if candidate is not None and ZoneInfo(candidate).utcoffset(naive) == value.utcoffset():
        return candidate, naive
    why = (
        "is not an IANA timezone"
        if candidate is None
        else f"has a VTIMEZONE that disagrees with the IANA zone {candidate}"
    )
    warn(f"TZID {tzid!r} {why}: its times are converted to UTC through the file's VTIMEZONE")
    return "UTC", value.astimezone(UTC).replace(tzinfo=None)


def in_zone(value: datetime, zone: str) -> datetime:
    if value.tzinfo is None:
        return value  # a floating end: wall-clock time, like its start
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def recurrence_id(value: date, *, all_day: bool, zone: str) -> str:
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    if all_day:
        return value.strftime("%Y%m%d")  # the day as the source wrote it
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
