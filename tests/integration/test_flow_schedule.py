"""A flow run that Prefect starts before its scheduled time waits for it: Prefect's runner and
workers take runs up to 10 s early, and a ``send-reminders`` run that read the clock then would
leave the minute's reminders to the next run, a minute late."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from flows import runs
from flows.runs import MOST_EARLY, seconds_early, wait_for_schedule

NINE = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi


@pytest.mark.parametrize(
    ("scheduled", "now", "expected"),
    [
        (NINE, NINE - timedelta(seconds=8.5), 8.5),  # taken early: wait
        (NINE, NINE, 0.0),  # on time
        (NINE, NINE + timedelta(seconds=3), 0.0),  # late: at once
        (NINE, NINE - MOST_EARLY, MOST_EARLY.total_seconds()),
        (NINE, NINE - MOST_EARLY - timedelta(seconds=1), 0.0),  # far too early: no waiting
        (None, NINE, 0.0),  # not a scheduled run
    ],
)
def test_how_early_a_run_is(scheduled: datetime | None, now: datetime, expected: float) -> None:
    assert seconds_early(scheduled, now) == pytest.approx(expected)


def _in_flow_run(monkeypatch: pytest.MonkeyPatch, expected_start: datetime | None) -> None:
    context = SimpleNamespace(flow_run=SimpleNamespace(expected_start_time=expected_start))
    monkeypatch.setattr(runs.FlowRunContext, "get", classmethod(lambda _cls: context))
    monkeypatch.setattr(runs, "_logger", lambda: runs.log)  # Prefect's wants a real run


def test_a_run_started_early_waits_for_its_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _in_flow_run(monkeypatch, NINE)
    slept: list[float] = []
    with caplog.at_level(logging.INFO, logger="focal.flows"):
        waited = wait_for_schedule(lambda: NINE - timedelta(seconds=7), slept.append)
    assert waited == pytest.approx(7.0)
    assert slept == [pytest.approx(7.0)]
    assert "started 7.0 s before its scheduled time: waiting for it" in caplog.text


def test_a_run_on_time_or_outside_prefect_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    assert wait_for_schedule(lambda: NINE, slept.append) == 0  # no flow run at all
    _in_flow_run(monkeypatch, NINE)
    assert wait_for_schedule(lambda: NINE + timedelta(seconds=1), slept.append) == 0
    assert slept == []
