"""The ``send-reminders`` and ``send-digest`` flows: thin shells over the services.

One task plans; each delivery task delivers up to ``BATCHES`` batches of ``BATCH`` people
(never one task per message), the next batch claimed and the last recorded while one is posted.
Only the delivery task retries, and only when Slack could not be reached. ``run_*`` runs the same
steps without Prefect's engine, for ``focal remind`` when no Prefect server is configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - Prefect reads the flows' annotations at run time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from bots.slack.notifier import SlackNotifier, build_notifier
from config.settings import Settings
from config.wiring import App, build_app, local_worker
from services.delivery import DeliveryReport, Worker, send_due
from services.digest import DigestOutcome, DigestResult, send_digest
from services.reminders import PlanReport, refresh_plan

if TYPE_CHECKING:
    from collections.abc import Callable

    from prefect import Task
    from prefect.client.schemas.objects import State, TaskRun

    from services.ports import Notifier

log = logging.getLogger("focal.flows")

#: What ``send-digest`` returns on a weekend or public holiday of ``FOCAL_COUNTRY``.
HOLIDAY = "day-off"

#: People per delivery batch: one claim, one commit of results.
BATCH = 200
#: Batches per delivery task run (5,000 people): the flow runs as many as it takes.
BATCHES = 25


class SlackUnreachableError(RuntimeError):
    """Some messages of a batch could not be delivered for network reasons: worth a retry."""


@dataclass
class Runtime:
    """What one run needs, built from the settings."""

    app: App
    notifier: Notifier
    worker: Worker

    def close(self) -> None:
        if isinstance(self.notifier, SlackNotifier):  # its kept-alive connections to Slack
            self.notifier.close()
        self.app.close()


def build_runtime(
    settings: Settings | None = None, *, echo: Callable[[str], None] | None = None
) -> Runtime:
    app = build_app(settings or Settings())
    notifier = build_notifier(
        app.settings, app.session_factory, app.clock.now, echo=echo or log.info
    )
    return Runtime(app=app, notifier=notifier, worker=local_worker())


def _network_only(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry a delivery batch only when Slack was out of reach."""
    try:
        state.result()
    except SlackUnreachableError:
        return True
    except Exception:  # noqa: BLE001 - anything else is a bug or a database problem: no retry
        return False
    return False


@task(name="plan-reminders", cache_policy=NO_CACHE)
def plan_task(runtime: Runtime, now: datetime, *, force: bool = False) -> PlanReport:
    return refresh_plan(uow=runtime.app.uow(), policy=runtime.app.policy(), now=now, force=force)


@task(
    name="deliver-reminders",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=_network_only,
)
def deliver_batch_task(runtime: Runtime, now: datetime) -> DeliveryReport | None:
    """Deliver the due reminders of up to ``BATCHES`` batches of ``BATCH`` people; None:
    nothing was due."""
    app = runtime.app
    report = send_due(
        uow_factory=app.uow,
        notifier=runtime.notifier,
        now=now,
        worker=runtime.worker,
        batch=BATCH,
        batches=BATCHES,
        concurrency=app.settings.send_concurrency,
    )
    if report == DeliveryReport():
        return None
    log.info(
        "delivered %d messages (%d reminders, %d recovered, %d skipped, %d retrying, "
        "%d failed, %d unclear)",
        report.messages,
        report.reminders,
        report.recovered,
        report.skipped,
        report.retrying,
        report.failed,
        report.uncertain,
    )
    if report.uncertain:
        raise SlackUnreachableError("; ".join(report.errors[:5]))
    return report


def _send_reminders(
    runtime: Runtime,
    now: datetime | None,
    *,
    plan: Callable[..., PlanReport],
    batch: Callable[..., DeliveryReport | None],
) -> tuple[PlanReport, DeliveryReport]:
    at = now or runtime.app.clock.now()
    planned = plan(runtime, at)
    total = DeliveryReport()
    while True:
        try:
            report = batch(runtime, now or runtime.app.clock.now())
        except SlackUnreachableError as exc:  # retries spent: the next run looks them up
            log.warning("Slack could not be reached for some messages: %s", exc)
            total.uncertain += 1
            break
        if report is None:
            break
        total.add(report)
        if not (report.messages or report.reminders or report.skipped or report.retrying):
            break  # nothing moved on: never loop on rows that cannot be settled
    return planned, total


@flow(name="send-reminders", log_prints=False)
def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """Plan what changed, then deliver every reminder due by ``now`` (default: the clock)."""
    runtime = build_runtime()
    try:
        planned, report = _send_reminders(runtime, now, plan=plan_task, batch=deliver_batch_task)
    finally:
        runtime.close()
    get_run_logger().info(
        "send-reminders: %d newly planned, %d messages sent (%d reminders)",
        planned.added,
        report.messages,
        report.reminders,
    )
    return {"planned": planned.added, "messages": report.messages, "reminders": report.reminders}


def run_send_reminders(
    runtime: Runtime, now: datetime | None = None
) -> tuple[PlanReport, DeliveryReport]:
    """The same steps as the flow, run in this process without Prefect's engine."""
    return _send_reminders(runtime, now, plan=plan_task.fn, batch=_deliver_batch_direct)


def _deliver_batch_direct(runtime: Runtime, now: datetime) -> DeliveryReport | None:
    return deliver_batch_task.fn(runtime, now)


@task(name="post-digest", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[30, 120])
def digest_task(runtime: Runtime, now: datetime) -> DigestResult:
    result = _digest(runtime, now)
    if result.outcome is DigestOutcome.UNCERTAIN:
        raise SlackUnreachableError(result.error or "unclear answer from Slack")
    return result


def _digest(runtime: Runtime, now: datetime) -> DigestResult:
    app = runtime.app
    return send_digest(
        uow_factory=app.uow,
        notifier=runtime.notifier,
        now=now,
        worker=runtime.worker,
        timezone=app.settings.timezone,
        window_days=app.settings.digest_window_days,
    )


@flow(name="send-digest", log_prints=False)
def send_digest_flow(now: datetime | None = None) -> str:
    """Post the coordinators' digest for today, once; nothing on a day off of the country."""
    runtime = build_runtime()
    try:
        at = now or runtime.app.clock.now()
        settings = runtime.app.settings
        today = at.astimezone(ZoneInfo(settings.timezone)).date()
        if not runtime.app.workdays.is_working_day(today):
            get_run_logger().info(
                "send-digest: %s is a day off in %s: no digest", today, settings.country
            )
            return HOLIDAY
        result = digest_task(runtime, at)
    finally:
        runtime.close()
    get_run_logger().info("send-digest: %s", result.outcome.value)
    return result.outcome.value


def run_send_digest(runtime: Runtime, now: datetime | None = None) -> DigestResult:
    return _digest(runtime, now or runtime.app.clock.now())
