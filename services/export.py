"""``focal export CODE``: the inputs of one deadline in one document, for the office to consolidate.

Each input is its latest version that was not returned (accepted or received); a person whose
every version was returned, or who sent nothing, is listed as missing, and an excused one with
the reason. Withdrawn assignments appear only when they left something to consolidate.
Markdown (one section per person) or CSV (one row per input, RFC 4180, UTF-8, a header row);
the same data always gives the same bytes.
"""

from __future__ import annotations

import csv
import enum
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.model import SubmissionStatus
from core.status import EntryState, describe_duration, export_order
from services.status import find_deadline, load_entries, require_coordinator

if TYPE_CHECKING:
    from datetime import datetime

    from core.status import Entry, Version
    from db.repositories import DeadlineRecord, MeetingRecord
    from services.ports import UnitOfWork


class ExportFormat(enum.StrEnum):
    MD = "md"
    CSV = "csv"


class InputState(enum.StrEnum):
    SUBMITTED = "submitted"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True)
class ExportedInput:
    entry: Entry
    version: Version | None  # the latest version not returned; None: nothing to consolidate

    @property
    def state(self) -> InputState:
        if self.version is not None:
            return InputState.SUBMITTED
        if self.entry.state is EntryState.NOT_APPLICABLE:
            return InputState.NOT_APPLICABLE
        return InputState.MISSING

    @property
    def returned(self) -> tuple[int, ...]:
        """Versions returned after the exported one (or all of them, when none is exported)."""
        after = self.version.number if self.version is not None else 0
        return tuple(
            v.number
            for v in self.entry.versions
            if v.number > after and v.status is SubmissionStatus.RETURNED
        )


@dataclass(frozen=True, slots=True)
class Consolidation:
    deadline: DeadlineRecord
    meeting: MeetingRecord | None
    inputs: tuple[ExportedInput, ...]

    def count(self, state: InputState) -> int:
        return sum(1 for i in self.inputs if i.state is state)


def consolidate_inputs(code: str, *, uow: UnitOfWork, actor: str | None = None) -> Consolidation:
    """The inputs of ``code``; ``actor`` a roster handle (coordinators only) or None, the operator.

    Raises ``UnknownDeadlineError`` and ``AccessRefusedError``.
    """
    with uow:
        record, meeting = find_deadline(uow, code)
        require_coordinator(actor, record.deadline.code, uow.roster.roster())
        entries = load_entries(uow, record.deadline.code, with_text=True)
    inputs = [
        ExportedInput(entry, entry.usable)
        for entry in sorted(entries, key=export_order)
        if entry.active or entry.usable is not None
    ]
    return Consolidation(record, meeting, tuple(inputs))


# ------------------------------------------------------------------ shared


def _local(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M")


def _iso(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).isoformat(timespec="minutes")


def _late(item: ExportedInput, due_at: datetime) -> str:
    late_by = item.version.late_by(due_at) if item.version is not None else None
    return "" if late_by is None else describe_duration(late_by)


def _meeting_line(meeting: MeetingRecord) -> str:
    m = meeting.meeting
    days = f"{m.start:%Y-%m-%d}"
    if m.end.date() != m.start.date():
        days += f" – {m.end:%Y-%m-%d}"
    where = f", {m.venue}" if m.venue else ""
    return f"{m.code} — {m.title} ({days}{where})"


# ------------------------------------------------------------------ Markdown


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _section(item: ExportedInput, *, due_at: datetime, timezone: str) -> list[str]:
    entry, version = item.entry, item.version
    who = f"{_one_line(entry.name)} ({entry.person})"
    heading = f"{_one_line(entry.organization)} — {who}" if entry.organization else who
    if not entry.active:
        heading += " — no longer assigned"
    lines = [f"## {heading}", ""]
    returned = ", ".join(f"v{n}" for n in item.returned)
    if version is None:
        if item.state is InputState.NOT_APPLICABLE:
            reason = _one_line(entry.not_applicable_reason or "")
            lines.append(f"_Not applicable: {reason}_")
        else:
            lines.append("_No input received._" if not returned else f"_Returned: {returned}._")
        return [*lines, ""]
    facts = [
        f"Version {version.number}",
        f"submitted {_local(version.submitted_at, timezone)} ({timezone})",
        f"late by {_late(item, due_at)}" if version.late else "on time",
        version.status.value,
    ]
    if version.on_behalf:
        facts.append(f"by {_one_line(version.submitted_by_name)} on behalf of {entry.name}")
    if version.reviewer_note:
        facts.append(f"note: {_one_line(version.reviewer_note)}")
    if returned:
        facts.append(f"later returned: {returned}")
    lines += [" · ".join(facts), "", version.text.replace("\r\n", "\n").strip("\n"), ""]
    if version.links:
        lines += ["Links:", "", *(f"- {link}" for link in version.links), ""]
    return lines


def render_markdown(doc: Consolidation, *, timezone: str) -> str:
    """One document: title, meeting, due time, then one section per person."""
    deadline = doc.deadline.deadline
    lines = [f"# {deadline.code} — {_one_line(deadline.title)}", ""]
    if doc.meeting is not None:
        lines.append(f"- Meeting: {_meeting_line(doc.meeting)}")
    lines.append(f"- Due: {_local(doc.deadline.due_at, timezone)} ({timezone})")
    lines.append(
        f"- Inputs: {doc.count(InputState.SUBMITTED)} received, "
        f"{doc.count(InputState.MISSING)} missing, "
        f"{doc.count(InputState.NOT_APPLICABLE)} not applicable"
    )
    lines.append("")
    for item in doc.inputs:
        lines += _section(item, due_at=doc.deadline.due_at, timezone=timezone)
    return "\n".join(lines).rstrip("\n") + "\n"


# ------------------------------------------------------------------ CSV

CSV_COLUMNS = (
    "deadline",
    "meeting",
    "due",
    "person",
    "name",
    "organization",
    "assigned",
    "state",
    "version",
    "submitted_at",
    "late",
    "late_by",
    "submitted_by",
    "on_behalf",
    "review",
    "reviewer_note",
    "not_applicable_reason",
    "links",
    "text",
)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Typed text, made safe to open in a spreadsheet: one that would start a formula gets a
    leading apostrophe (OWASP's advice against CSV injection); anything else is as typed."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def render_csv(doc: Consolidation, *, timezone: str) -> str:
    """One row per input after a header row; fields quoted as RFC 4180 says, CRLF rows."""
    deadline = doc.deadline.deadline
    due = _iso(doc.deadline.due_at, timezone)
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in doc.inputs:
        entry, v = item.entry, item.version
        excused = item.state is InputState.NOT_APPLICABLE
        writer.writerow(
            (
                deadline.code,
                deadline.meeting or "",
                due,
                entry.person,
                entry.name,
                entry.organization or "",
                _yes(entry.active),
                item.state.value,
                v.number if v else "",
                _iso(v.submitted_at, timezone) if v else "",
                _yes(v.late) if v else "",
                _late(item, doc.deadline.due_at),
                v.submitted_by if v else "",
                _yes(v.on_behalf) if v else "",
                v.status.value if v else "",
                _cell(v.reviewer_note or "") if v else "",
                _cell(entry.not_applicable_reason or "") if excused else "",
                _cell("\n".join(v.links)) if v else "",
                _cell(v.text) if v else "",
            )
        )
    return out.getvalue()


def render_export(doc: Consolidation, *, fmt: ExportFormat, timezone: str) -> str:
    if fmt is ExportFormat.CSV:
        return render_csv(doc, timezone=timezone)
    return render_markdown(doc, timezone=timezone)
