"""The text of an iCalendar file, line by line: what the parser will not tell us.

``icalendar`` reads the content; this module looks at the lines around it: a byte-order
mark, blank lines, LF endings and unknown properties (survived, with a warning), lone
carriage returns and unbalanced ``BEGIN``/``END`` (refused), and the line number of a
property the parser could not read, so that a refusal can say where the problem is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icalendar.parser import Contentline

BOM = b"\xef\xbb\xbf"
#: Properties of RFC 5545, 5546, 7986, 9073 and 9074 (anything ``X-`` is fine too).
KNOWN_PROPERTIES = frozenset(
    {
        "BEGIN",
        "END",
        "CALSCALE",
        "METHOD",
        "PRODID",
        "VERSION",
        "ATTACH",
        "CATEGORIES",
        "CLASS",
        "COMMENT",
        "DESCRIPTION",
        "GEO",
        "LOCATION",
        "PERCENT-COMPLETE",
        "PRIORITY",
        "RESOURCES",
        "STATUS",
        "SUMMARY",
        "COMPLETED",
        "DTEND",
        "DUE",
        "DTSTART",
        "DURATION",
        "FREEBUSY",
        "TRANSP",
        "TZID",
        "TZNAME",
        "TZOFFSETFROM",
        "TZOFFSETTO",
        "TZURL",
        "ATTENDEE",
        "CONTACT",
        "ORGANIZER",
        "RECURRENCE-ID",
        "RELATED-TO",
        "URL",
        "UID",
        "EXDATE",
        "EXRULE",
        "RDATE",
        "RRULE",
        "ACTION",
        "REPEAT",
        "TRIGGER",
        "CREATED",
        "DTSTAMP",
        "LAST-MODIFIED",
        "SEQUENCE",
        "REQUEST-STATUS",
        "NAME",
        "REFRESH-INTERVAL",
        "SOURCE",
        "COLOR",
        "IMAGE",
        "CONFERENCE",
        "TZUNTIL",
        "TZID-ALIAS-OF",
        "ACKNOWLEDGED",
        "PROXIMITY",
        "STRUCTURED-DATA",
        "STYLED-DESCRIPTION",
        "LOCATION-TYPE",
        "PARTICIPANT-TYPE",
        "CALENDAR-ADDRESS",
        "RESOURCE-TYPE",
    }
)
_NAME = re.compile(r"[^;:]*")


class CalendarTextError(ValueError):
    """The file's text is broken beyond reading: the message names the line and the problem."""


@dataclass(frozen=True, slots=True)
class ContentLine:
    number: int  # the physical line it starts on (1-based)
    name: str  # upper case, as written before the first ``;`` or ``:``
    text: str  # unfolded


@dataclass(frozen=True, slots=True)
class CalendarText:
    data: bytes  # what the parser should read (without a byte-order mark)
    lines: tuple[ContentLine, ...]
    warnings: tuple[str, ...] = field(default=())

    def locate(self, name: str | None, message: str) -> ContentLine | None:
        """The line a parser's complaint is most likely about (its text or value quoted)."""
        candidates = [c for c in self.lines if name is None or c.name == name.upper()]
        for line in candidates:
            if line.text in message:
                return line
        for line in candidates:
            if name is not None and repr(_value(line)) in message:
                return line  # the value as the parser read it (``Got: ''``)
        for line in candidates:
            value = line.text.partition(":")[2]
            if value and value in message:
                return line
        return candidates[0] if candidates and name is not None else None

    def describe(self, name: str | None, message: str) -> str:
        """``line 12: cannot read DTSTART;;VALUE=...: why``."""
        line = self.locate(name, message)
        reason = _short(message)
        if line is None:
            return f"cannot read {name or 'a line'}: {reason}"
        return f"line {line.number}: cannot read {_short(line.text, 80)}: {reason}"


def _value(line: ContentLine) -> str | None:
    try:
        _name, _params, value = Contentline(line.text).parts()  # type: ignore[no-untyped-call]
        return str(value)
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_text(data: bytes) -> CalendarText:
    """Check the lines of ``data``; raise ``CalendarTextError`` if they cannot be read."""
    warnings: list[str] = []
    if data.startswith(BOM):
        data = data[len(BOM) :]
        warnings.append("a byte-order mark before BEGIN:VCALENDAR (ignored)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CalendarTextError(f"line {line}: not UTF-8 text (byte {exc.start})") from None
    lone_cr = re.search(r"\r(?!\n)", text)
    if lone_cr is not None:
        line = text.count("\n", 0, lone_cr.start()) + 1
        raise CalendarTextError(f"line {line}: a lone carriage return (CR without LF)")
    if not text.strip():
        raise CalendarTextError("the file is empty")
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()  # the line break that ends the last line
    if any(not line.endswith("\r") for line in physical):
        warnings.append("lines end with LF instead of CRLF (accepted)")
    lines, blanks = _unfold(physical)
    if blanks:
        where = ", ".join(str(n) for n in blanks[:5]) + ("…" if len(blanks) > 5 else "")  # noqa: PLR2004
        plural = "s" if len(blanks) > 1 else ""
        warnings.append(f"blank line{plural} at line{plural} {where} (ignored)")
    _check_nesting(lines)
    warnings += _unknown_properties(lines)
    return CalendarText(data=data, lines=tuple(lines), warnings=tuple(warnings))


def _unfold(physical: list[str]) -> tuple[list[ContentLine], list[int]]:
    lines: list[ContentLine] = []
    blanks: list[int] = []
    for number, raw in enumerate(physical, start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            blanks.append(number)
            continue
        if line[0] in " \t" and lines:
            last = lines[-1]
            lines[-1] = ContentLine(last.number, last.name, last.text + line[1:])
            continue
        match = _NAME.match(line)
        name = match.group(0).strip().upper() if match else ""
        lines.append(ContentLine(number, name, line))
    return lines, blanks


def _check_nesting(lines: list[ContentLine]) -> None:
    """BEGIN and END must pair up, and the file must hold a VCALENDAR."""
    stack: list[tuple[str, int]] = []
    calendars = 0
    for line in lines:
        if line.name not in {"BEGIN", "END"}:
            continue
        what = line.text.partition(":")[2].strip().upper()
        if line.name == "BEGIN":
            if not stack and what != "VCALENDAR":
                raise CalendarTextError(
                    f"line {line.number}: BEGIN:{what} outside a VCALENDAR "
                    "(the file is not an iCalendar calendar)"
                )
            stack.append((what, line.number))
            continue
        if not stack:
            raise CalendarTextError(f"line {line.number}: END:{what} without a BEGIN")
        opened, at = stack.pop()
        if opened != what:
            raise CalendarTextError(
                f"line {line.number}: END:{what} where BEGIN:{opened} of line {at} should end"
            )
        calendars += not stack
    if stack:
        opened, at = stack[-1]
        raise CalendarTextError(f"line {at}: BEGIN:{opened} is never ended")
    if not calendars:
        raise CalendarTextError("no BEGIN:VCALENDAR: the file is not an iCalendar calendar")


def _unknown_properties(lines: list[ContentLine]) -> list[str]:
    first: dict[str, int] = {}
    for line in lines:
        name = line.name
        if name in KNOWN_PROPERTIES or name.startswith("X-") or name in first:
            continue
        first[name] = line.number
    return [f"line {n}: unknown property {name!r} (ignored)" for name, n in first.items()]
