"""``GET /healthz`` over real HTTP: the database, and when each flow last ran and last did its
job; a handful of indexed reads however many runs are kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, event, insert

from bots.web.app import build_web_app
from db.models import FlowRunRow
from flows.runs import recorded
from tests.fakes import HandClock, app_on
from tests.slack_http import serve_asgi

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from config.wiring import App

NOW = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)


def get(base: str, path: str = "/healthz") -> tuple[int, Any]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def failing_run(app: App) -> None:
    with recorded("send-reminders", app):
        raise RuntimeError("Slack is down")


NEVER = {"last_success": None, "last_run": None}


def test_health_before_any_flow_ran(engine: Engine) -> None:
    with serve_asgi(build_web_app(app_on(engine, HandClock(NOW)))) as base:
        assert get(base) == (
            200,
            {
                "status": "ok",
                "database": "ok",
                "flows": {"sync-calendar": NEVER, "send-reminders": NEVER, "send-digest": NEVER},
            },
        )


def test_health_shows_the_last_run_and_the_last_success(engine: Engine) -> None:
    clock = HandClock(NOW)
    app = app_on(engine, clock)
    with recorded("send-reminders", app) as run:
        clock.at += timedelta(seconds=2)
        run.done("0 newly planned, 3 messages sent (4 reminders)")
    clock.at = NOW + timedelta(minutes=1)
    with pytest.raises(RuntimeError):
        failing_run(app)
    with recorded("send-digest", app) as run:
        run.done("the digest was posted")
    with serve_asgi(build_web_app(app)) as base:
        status, body = get(base)
    assert status == 200
    assert body["status"] == "ok"
    assert body["flows"]["sync-calendar"] == NEVER
    assert body["flows"]["send-reminders"] == {
        "last_success": "2026-09-03T03:00:02Z",
        "last_run": {
            "outcome": "failed",
            "started": "2026-09-03T03:01:00Z",
            "finished": "2026-09-03T03:01:00Z",
            "summary": "RuntimeError: Slack is down",
        },
    }
    assert body["flows"]["send-digest"]["last_run"]["outcome"] == "succeeded"
    assert body["flows"]["send-digest"]["last_success"] == "2026-09-03T03:01:00Z"


def test_health_stays_a_few_indexed_reads(engine: Engine) -> None:
    rows = [
        {
            "flow": "send-reminders",
            "started_at": NOW - timedelta(minutes=n),
            "finished_at": NOW - timedelta(minutes=n),
            "outcome": "failed" if n < 5 else "succeeded",
            "summary": "",
        }
        for n in range(20_000)
    ]
    with engine.begin() as connection:
        connection.execute(insert(FlowRunRow), rows)
    statements: list[tuple[str, Any]] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with serve_asgi(build_web_app(app_on(engine, HandClock(NOW)))) as base:
            status, body = get(base)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert status == 200
    assert body["flows"]["send-reminders"]["last_success"] == "2026-09-03T02:55:00Z"
    reads = [(s, p) for s, p in statements if "flow_runs" in s]
    assert len(reads) == 4, "two reads for the flow that ran, one for each of the others"
    assert all("LIMIT" in s.upper() for s, _ in reads)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            for statement, parameters in reads[:2]:
                plan = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                steps = " ".join(str(step) for step in plan)
                assert "USING INDEX ix_flow_runs_flow" in steps, plan
                assert "TEMP B-TREE" not in steps, f"nothing sorted: {plan}"
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE flow_runs")
        for statement, parameters in reads[:2]:
            plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            steps = " ".join(str(step) for step in plan)
            assert "Index Scan Backward using ix_flow_runs_flow" in steps, plan
            assert "Sort" not in steps, f"nothing sorted: {plan}"


def test_health_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/dir/focal.db")
    with serve_asgi(build_web_app(app_on(gone, HandClock(NOW)))) as base:
        status, body = get(base)
    assert status == 503
    assert body == {"status": "unavailable", "database": "unreachable: OperationalError"}
