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
from flows.runs import RunNote, recorded, wait_for_schedule
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
    with recorded("send-reminders", runtime.app, worker=runtime.worker) as run:
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
        run.done(delivery_summary(planned, total), left=_left_over(total))
    return planned, total


def delivery_summary(planned: PlanReport, report: DeliveryReport) -> str:
    """The line the run logs and records: what was planned and sent."""
    return (
        f"{planned.added} newly planned, {report.messages} messages sent "
        f"({report.reminders} reminders)"
    )


def _left_over(report: DeliveryReport) -> str | None:
    """What the run could not deliver, for the next run; None when it delivered everything."""
    parts = []
    if report.retrying:
        parts.append(f"{report.retrying} to be tried again")
    if report.uncertain:
        parts.append(f"{report.uncertain} unclear (the next run checks Slack first)")
    if report.failed:
        parts.append(f"{report.failed} failed for good")
    if not parts:
        return None
    errors = f": {report.errors[0]}" if report.errors else ""
    return ", ".join(parts) + errors


@flow(name="send-reminders", log_prints=False)
def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """Plan what changed, then deliver every reminder due by ``now`` (default: the clock)."""
    runtime = build_runtime()
    try:
        if now is None:
            wait_for_schedule(runtime.app.clock.now)
        planned, report = _send_reminders(runtime, now, plan=plan_task, batch=deliver_batch_task)
    finally:
        runtime.close()
    get_run_logger().info("send-reminders: %s", delivery_summary(planned, report))
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


class DigestNotPostedError(RuntimeError):
    """Slack refused the digest (no such channel, the bot not in it...): the run failed."""


#: What each outcome of a digest run says, in the log, the run's record and ``focal digest``.
DIGEST_SUMMARY = {
    DigestOutcome.SENT: "the digest was posted",
    DigestOutcome.FOUND: "the digest had been posted by an earlier run; now recorded",
    DigestOutcome.EMPTY: "nothing needs action today: no digest posted",
    DigestOutcome.ALREADY_SENT: "today's digest was already posted",
    DigestOutcome.BUSY: "another run is posting today's digest",
    DigestOutcome.UNCERTAIN: "unclear answer from Slack: the next run looks before posting again",
}


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


def _note_digest(run: RunNote, result: DigestResult) -> None:
    if result.outcome is DigestOutcome.FAILED:
        run.done(f"the digest was not posted: {result.error}", failed=True)
    elif result.outcome is DigestOutcome.UNCERTAIN:
        run.done("the digest may not have been posted", left=DIGEST_SUMMARY[result.outcome])
    else:
        run.done(DIGEST_SUMMARY[result.outcome])


@flow(name="send-digest", log_prints=False)
def send_digest_flow(now: datetime | None = None) -> str:
    """Post the coordinators' digest for today, once; nothing on a day off of the country.
    Fails (``DigestNotPostedError``) when Slack refuses it."""
    runtime = build_runtime()
    try:
        if now is None:
            wait_for_schedule(runtime.app.clock.now)
        with recorded("send-digest", runtime.app, worker=runtime.worker) as run:
            at = now or runtime.app.clock.now()
            settings = runtime.app.settings
            today = at.astimezone(ZoneInfo(settings.timezone)).date()
            if not runtime.app.workdays.is_working_day(today):
                run.done(f"{today} is a day off in {settings.country}: no digest")
                get_run_logger().info(
                    "send-digest: %s is a day off in %s: no digest", today, settings.country
                )
                return HOLIDAY
            result = digest_task(runtime, at)
            _note_digest(run, result)
            if result.outcome is DigestOutcome.FAILED:
                raise DigestNotPostedError(f"the digest was not posted: {result.error}")
    finally:
        runtime.close()
    get_run_logger().info("send-digest: %s", result.outcome.value)
    return result.outcome.value


def run_send_digest(runtime: Runtime, now: datetime | None = None) -> DigestResult:
    """The digest posted in this process (``focal digest``), recorded as a run of the flow.
    Unlike the scheduled flow it posts on a day off too: someone asked for it."""
    with recorded("send-digest", runtime.app, worker=runtime.worker) as run:
        result = _digest(runtime, now or runtime.app.clock.now())
        _note_digest(run, result)
    return result
