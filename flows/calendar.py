"""The ``sync-calendar`` flow: read the configured sources again, then plan reminders again.

``FOCAL_SOURCES`` lists calendar and roster YAML files and iCalendar files or URLs. The YAML
files are loaded together (a calendar refers to the roster's groups), then each iCalendar
source is imported; one failing source is reported and does not stop the others. Only the
fetch of a URL retries, and only when the failure may pass (no answer, HTTP 5xx or 429).
``run_sync_calendar`` runs the same steps without Prefect's engine, for ``focal sync``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime  # noqa: TC003 - Prefect reads the flows' annotations at run time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config.settings import Settings
from config.sources import Source, SourceError, SourceType, parse_source, read_source
from config.wiring import App, build_app
from config.yaml_source import read_documents
from core.ics_import import CalendarRefusedError, ImportWindow
from core.source import LoadErrors
from flows.runs import recorded, wait_for_schedule
from services.importing import ImportOptions, ImportRefusedError, ImportReport, import_calendar
from services.loading import LoadReport, load_configuration
from services.reminders import PlanReport, refresh_plan

if TYPE_CHECKING:
    from collections.abc import Callable

    from prefect import Task
    from prefect.client.schemas.objects import State, TaskRun

log = logging.getLogger("focal.flows")
ACTOR = "flow:sync-calendar"


@dataclass
class SyncReport:
    """What one run did with each source; ``problems`` are one line each."""

    loaded: LoadReport | None = None
    imported: list[ImportReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    plan: PlanReport | None = None

    def line(self) -> str:
        """One line: what was read and written."""
        loaded = self.loaded
        files = f"{len(loaded.files)} files loaded ({loaded.written} changes)" if loaded else ""
        calendars = (
            f"{len(self.imported)} calendars imported "
            f"({sum(r.written for r in self.imported)} changes)"
        )
        replanned = "reminders planned again" if self.plan and self.plan.planned else ""
        return ", ".join(part for part in (files, calendars, replanned) if part)

    def summary(self) -> dict[str, Any]:
        return {
            "files_loaded": len(self.loaded.files) if self.loaded else 0,
            "imported": {r.source: r.written for r in self.imported},
            "problems": list(self.problems),
            "replanned": bool(self.plan and self.plan.planned),
        }


def _transient_only(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry a fetch only when the failure may pass."""
    try:
        state.result()
    except SourceError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything else will not pass by waiting
        return False
    return False


@task(name="load-files", cache_policy=NO_CACHE)
def load_files_task(app: App, paths: list[str], now: datetime) -> LoadReport:
    documents, errors = read_documents([Path(p) for p in paths])
    if errors:
        raise LoadErrors(errors)
    return load_configuration(
        documents, uow=app.uow(), options=app.load_options(), actor=ACTOR, now=now
    )


@task(
    name="fetch-source",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[30, 120],
    retry_condition_fn=_transient_only,
)
def fetch_task(location: str) -> bytes:
    return read_source(location)


@task(name="import-source", cache_policy=NO_CACHE)
def import_task(app: App, source: Source, data: bytes, now: datetime) -> ImportReport:
    options = ImportOptions(
        window=ImportWindow.around(now),
        load=app.load_options(),
        group=source.group,
        kind=source.kind,
    )
    return import_calendar(
        data, source=source.location, uow=app.uow(), now=now, options=options, actor=ACTOR
    )


@task(name="plan-reminders", cache_policy=NO_CACHE)
def replan_task(app: App, now: datetime) -> PlanReport:
    return refresh_plan(uow=app.uow(), policy=app.policy(), now=now)


def _sync(
    app: App,
    now: datetime,
    *,
    load: Callable[..., LoadReport],
    fetch: Callable[..., bytes],
    import_: Callable[..., ImportReport],
    plan: Callable[..., PlanReport],
) -> SyncReport:
    with recorded("sync-calendar", app) as run:
        report = _sync_sources(app, now, load=load, fetch=fetch, import_=import_, plan=plan)
        left = None
        if report.problems:
            count = len(report.problems)
            left = f"{count} problem{'s' if count != 1 else ''}: {report.problems[0]}"
        run.done(report.line(), left=left)
    return report


def _sync_sources(
    app: App,
    now: datetime,
    *,
    load: Callable[..., LoadReport],
    fetch: Callable[..., bytes],
    import_: Callable[..., ImportReport],
    plan: Callable[..., PlanReport],
) -> SyncReport:
    report = SyncReport()
    sources: list[Source] = []
    for entry in app.settings.sources:
        try:
            sources.append(parse_source(entry))
        except SourceError as exc:
            report.problems.append(str(exc))
    files = [s.location for s in sources if s.type is SourceType.YAML]
    if files:
        try:
            report.loaded = load(app, files, now)
        except LoadErrors as exc:
            shown = "; ".join(str(e) for e in exc.errors[:3])
            more = f" (and {len(exc.errors) - 3} more)" if len(exc.errors) > 3 else ""  # noqa: PLR2004
            report.problems.append(f"the calendar and roster files were not loaded: {shown}{more}")
    for source in sources:
        if source.type is SourceType.YAML:
            continue
        try:
            data = fetch(source.location)
            report.imported.append(import_(app, source, data, now))
        except SourceError as exc:
            report.problems.append(str(exc))
        except (CalendarRefusedError, ImportRefusedError) as exc:
            report.problems.append(f"{source.location}: {exc}; nothing was imported")
    for problem in report.problems:
        log.warning("sync-calendar: %s", problem)
    report.plan = plan(app, now)
    return report


@flow(name="sync-calendar", log_prints=False)
def sync_calendar(now: datetime | None = None) -> dict[str, Any]:
    """Load the configured files, import the configured calendars, plan reminders again."""
    app = build_app(Settings())
    try:
        if now is None:
            wait_for_schedule(app.clock.now)
        report = _sync(
            app,
            now or app.clock.now(),
            load=load_files_task,
            fetch=fetch_task,
            import_=import_task,
            plan=replan_task,
        )
    finally:
        app.close()
    summary = report.summary()
    get_run_logger().info(
        "sync-calendar: %d files loaded, %d calendars imported, %d problems, replanned: %s",
        summary["files_loaded"],
        len(summary["imported"]),
        len(summary["problems"]),
        "yes" if summary["replanned"] else "no",
    )
    return summary


def run_sync_calendar(app: App, now: datetime | None = None) -> SyncReport:
    """The same steps as the flow, in this process without Prefect's engine."""
    return _sync(
        app,
        now or app.clock.now(),
        load=load_files_task.fn,
        fetch=fetch_task.fn,
        import_=import_task.fn,
        plan=replan_task.fn,
    )
