"""Rich rendering of service results for the terminal."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from core.changes import Action, plain
from core.deadlines import describe_time_left
from core.model import SubmissionStatus
from core.runs import RunOutcome
from core.status import EntryState, describe_duration

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from rich.console import Console

    from core.runs import FlowHealth, FlowRun
    from core.status import Entry, Version
    from services.delivery import DeliveryReport
    from services.loading import LoadReport
    from services.overview import Overview
    from services.queries import Agenda
    from services.reminders import PlanReport
    from services.status import StatusReport

ENTITIES = ("person", "group", "coordinators", "meeting", "deadline", "assignment")
COLUMNS = (
    Action.ADDED,
    Action.CHANGED,
    Action.RESTORED,
    Action.UNCHANGED,
    Action.MISSING,
    Action.REMOVED,
)
MARK = {
    Action.ADDED: "[green]+[/]",
    Action.CHANGED: "[yellow]~[/]",
    Action.RESTORED: "[green]↺[/]",
    Action.REMOVED: "[red]-[/]",
    Action.MISSING: "[red]?[/]",
}

_OUTCOME = {
    RunOutcome.RUNNING: "[cyan]running[/]",
    RunOutcome.SUCCEEDED: "[green]succeeded[/]",
    RunOutcome.PARTIAL: "[yellow]partial[/]",
    RunOutcome.FAILED: "[red]failed[/]",
}


def local(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M")


def render_load_report(
    console: Console, report: LoadReport, *, names: Mapping[str, str], details: bool = True
) -> None:
    table = Table(
        title="Dry run: nothing written" if report.dry_run else "Loaded", title_justify="left"
    )
    table.add_column("")
    for action in COLUMNS:
        table.add_column(action.value, justify="right")
    for entity in ENTITIES:
        counts: Counter[Action] = report.count(entity)
        if counts:
            table.add_row(entity, *(str(counts.get(a, 0) or "") for a in COLUMNS))
    console.print(table)
    for change in report.changes if details else ():
        if change.action is Action.UNCHANGED:
            continue
        detail = "; ".join(
            f"{f.field}: {_short(f.old)} → {_short(f.new)}"
            if f.field != "source"
            else f"now in {names.get(str(f.new), f.new)}"
            for f in change.fields
        )
        note = f" ({change.note})" if change.note else ""
        console.print(
            f" {MARK[change.action]} {change.entity} {change.key}{note}"
            f"{': ' + detail if detail else ''}",
            soft_wrap=True,
        )
    missing = [c for c in report.changes if c.action is Action.MISSING]
    if missing:
        console.print(
            f"[yellow]{len(missing)} item(s) are no longer in their file and were kept; "
            "load again with --prune to remove them.[/]"
        )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if not report.dry_run:
        written = report.written
        console.print(
            f"{written} change{'s' if written != 1 else ''} written."
            if written
            else "Nothing changed."
        )


def _short(value: object) -> str:
    text = str(plain(value))
    return text if len(text) <= 60 else text[:57] + "…"  # noqa: PLR2004


def _review_cell(version: Version) -> str:
    colour = {SubmissionStatus.ACCEPTED: "green", SubmissionStatus.RETURNED: "yellow"}
    text = version.status.value
    if version.reviewed_by_name:
        text += f" by {version.reviewed_by_name}"
    return f"[{colour[version.status]}]{escape(text)}[/]" if version.status in colour else text


def _state_cell(line: Entry, *, overdue: bool) -> str:
    state = line.state
    if state is EntryState.WITHDRAWN:
        return "[dim]withdrawn[/]"
    if state is EntryState.NOT_APPLICABLE:
        return "[yellow]not applicable[/]"
    if state is EntryState.SUBMITTED:
        return "[green]submitted[/]"
    return "[red]missing, overdue[/]" if overdue else "missing"


def render_status(console: Console, report: StatusReport, *, timezone: str, now: datetime) -> None:
    """The submission matrix: who submitted (version, time, late, by whom, review), who has
    not, who is excused and why. Times in the coordinator's ``timezone``."""
    record = report.deadline
    deadline = record.deadline
    meeting = f" for {report.meeting.meeting.code}" if report.meeting else ""
    console.print(f"[bold]{escape(deadline.code)}[/] {escape(deadline.title)}{escape(meeting)}")
    console.print(
        f"due {local(record.due_at, timezone)} ({timezone}), "
        f"{describe_time_left(record.due_at, now)}; rule {deadline.due}"
    )
    table = Table(caption=f"times in {timezone}", caption_justify="left")
    for column in ("person", "name", "state", "version", "submitted", "late", "by", "review"):
        table.add_column(column)
    table.add_column("note or reason", overflow="fold")
    for line in report.lines:
        v = line.latest
        note = ""
        if line.state is EntryState.NOT_APPLICABLE:
            note = line.not_applicable_reason or ""
        elif v is not None and v.reviewer_note:
            note = v.reviewer_note
        late_by = v.late_by(record.due_at) if v is not None else None
        table.add_row(
            Text(line.person),
            Text(line.name),
            _state_cell(line, overdue=report.overdue(now)),
            f"v{v.number}" if v else "",
            local(v.submitted_at, timezone) if v else "",
            ("on time" if late_by is None else f"late by {describe_duration(late_by)}")
            if v
            else "",
            Text(f"{v.submitted_by_name}, on behalf") if v and v.on_behalf else "",
            _review_cell(v) if v else "",
            Text(note),
        )
    console.print(table)
    c = report.counts
    details = [
        f"{n} {what}"
        for n, what in ((c.late, "late"), (c.accepted, "accepted"), (c.returned, "returned"))
        if n
    ]
    submitted = f"{c.submitted} submitted" + (f" ({', '.join(details)})" if details else "")
    withdrawn = f"; {c.withdrawn} withdrawn" if c.withdrawn else ""
    console.print(
        f"{submitted}, {c.not_applicable} not applicable, {c.missing} missing, "
        f"of {c.assigned} assigned{withdrawn}."
    )


def render_agenda(console: Console, agenda: Agenda, *, timezone: str, now: datetime) -> None:
    meetings = Table(
        box=box.SIMPLE_HEAD,
        title=f"Coming meetings (as of {local(now, timezone)}, {timezone})",
        title_justify="left",
    )
    meetings.add_column("code", no_wrap=True)
    meetings.add_column("meeting", no_wrap=True)
    meetings.add_column("when (local)", no_wrap=True)
    meetings.add_column("status", no_wrap=True)
    for record in agenda.meetings:
        m = record.meeting
        when = f"{m.start:%Y-%m-%d} – {m.end:%m-%d}" if m.all_day else f"{m.start:%Y-%m-%d %H:%M}"
        meetings.add_row(m.code, _clip(m.title, 26), when, m.status.value)
    console.print(meetings)
    deadlines = Table(
        box=box.SIMPLE_HEAD,
        title=f"Coming deadlines (due times in {timezone})",
        title_justify="left",
    )
    deadlines.add_column("code", no_wrap=True)
    deadlines.add_column("input", no_wrap=True)
    deadlines.add_column("due", no_wrap=True)
    deadlines.add_column("time left", no_wrap=True)
    deadlines.add_column("people", no_wrap=True)
    for due, assigned in agenda.deadlines:
        d = due.deadline
        deadlines.add_row(
            d.code,
            _clip(d.title, 24),
            due.due_at.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M"),
            describe_time_left(due.due_at, now),
            str(assigned),
        )
    console.print(deadlines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_delivery(console: Console, planned: PlanReport, report: DeliveryReport) -> None:
    """What a reminder run did, in a sentence or two."""
    if planned.planned:
        console.print(
            f"Planned: {planned.assignments} assignments looked at, {planned.added} reminders "
            f"added, {planned.retimed} moved, {planned.skipped} dropped, "
            f"{planned.notices} 'deadline changed' notices."
        )
    console.print(
        f"Sent {report.messages} messages covering {report.reminders} reminders"
        + (f" ({report.recovered} found already posted)" if report.recovered else "")
        + (f"; {report.skipped} no longer needed" if report.skipped else "")
        + "."
    )
    if report.retrying:
        console.print(f"{report.retrying} reminders could not be sent; they will be tried again.")
    if report.failed:
        console.print(f"[red]{report.failed} reminders failed for good[/]; the reasons follow.")
    if report.uncertain:
        console.print(
            f"[yellow]{report.uncertain} reminders had an unclear answer from Slack[/]: the next "
            "run checks Slack before sending them again."
        )
    for error in report.errors[:10]:
        console.print(f"  {error}", markup=False)


def _took(run: FlowRun) -> str:
    took = run.duration
    if took is None:
        return ""
    return (
        f"{took.total_seconds():.1f} s" if took < timedelta(minutes=1) else describe_duration(took)
    )


def _day_time(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%d %b %Y %H:%M")


def render_overview(console: Console, overview: Overview, *, timezone: str, now: datetime) -> None:
    """``focal status`` without a code: the next deadlines with their counts, then each flow's
    last run and last success; times in the coordinator's ``timezone``."""
    _render_next_deadlines(console, overview, timezone=timezone, now=now)
    _render_flow_runs(console, overview.flows, timezone=timezone)


def _render_next_deadlines(
    console: Console, overview: Overview, *, timezone: str, now: datetime
) -> None:
    deadlines = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        title=f"Next deadlines (as of {local(now, timezone)}, due times in {timezone})",
        title_justify="left",
    )
    # fits 80 columns: the due time wraps (day, then hour) before a code or a count is cut
    deadlines.add_column("code", no_wrap=True)
    deadlines.add_column("due", min_width=11)
    deadlines.add_column("time left", no_wrap=True)
    for column in ("submitted", "n/a", "missing"):
        deadlines.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for line in overview.deadlines:
        due_at = line.record.due_at
        deadlines.add_row(
            line.record.deadline.code,
            _day_time(due_at, timezone),
            describe_time_left(due_at, now),
            f"{line.submitted} of {line.assigned}",
            str(line.not_applicable),
            f"[red]{line.missing}[/]" if line.missing else "0",
        )
    if overview.deadlines:
        console.print(deadlines)
    else:
        console.print("No deadline is still to come.")
    if overview.more:
        console.print(f"… and {overview.more} more (focal agenda lists them all).")


def _render_flow_runs(console: Console, flows: Sequence[FlowHealth], *, timezone: str) -> None:
    runs = Table(
        box=box.SIMPLE_HEAD, title=f"Flow runs (times in {timezone})", title_justify="left"
    )
    for column in ("flow", "last run", "outcome", "took", "last success"):
        runs.add_column(column, no_wrap=True)
    said = []
    for health in flows:
        last, success = health.last_run, health.last_success
        if last is None:
            runs.add_row(health.flow, "never", "", "", "never")
            continue
        when = success.finished_at if success else None
        runs.add_row(
            health.flow,
            _day_time(last.started_at, timezone),
            _OUTCOME.get(last.outcome, last.outcome.value),
            _took(last),
            "never" if when is None else _day_time(when, timezone),
        )
        if last.summary:
            said.append(f"  {health.flow}: {last.summary}")
    console.print(runs)
    for summary in said:
        console.print(summary, markup=False, soft_wrap=True)
