"""The ``sync-calendar`` flow through Prefect's engine (a temporary local API).

Slow (Prefect starts a server of its own): the steps are tested below the flow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import Settings
from config.wiring import build_app
from db.migrate import upgrade
from db.models import MeetingRow, ReminderPlanRow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml"]
NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
PARTNER = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:partner@example.org\r\nSUMMARY:Partner consultation\r\n"
    b"DTSTART;TZID=Asia/Singapore:20260810T090000\r\nDTEND;TZID=Asia/Singapore:20260810T170000\r\n"
    b"RRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)

pytestmark = pytest.mark.slow


def test_sync_calendar_loads_files_imports_calendars_and_replans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import (  # noqa: PLC0415 - Prefect takes a second to import
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    from flows.calendar import sync_calendar  # noqa: PLC0415

    partner = tmp_path / "partner.ics"
    partner.write_bytes(PARTNER)
    url = f"sqlite:///{tmp_path / 'focal.sqlite'}"
    sources = [*map(str, SAMPLE), f"{partner}#group=AWGESC&kind=consultation", "missing.ics"]
    monkeypatch.setenv("FOCAL_DATABASE_URL", url)
    monkeypatch.setenv("FOCAL_SOURCES", ",".join(sources))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    app = build_app(Settings())
    upgrade(app.engine)
    app.close()

    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        state = sync_calendar(now=NOW, return_state=True)
        assert state.is_completed(), state
        result = state.result()
        again = sync_calendar(now=NOW, return_state=True).result()

    assert result["files_loaded"] == 2
    assert result["imported"] == {str(partner): 2}
    assert result["problems"] == ["missing.ics: no such file"]
    assert result["replanned"]
    assert again["imported"] == {str(partner): 0}
    app = build_app(Settings())
    try:
        with app.engine.connect() as connection:
            imported = connection.execute(
                select(MeetingRow).where(MeetingRow.source == str(partner))
            ).all()
            stale = connection.scalar(select(ReminderPlanRow.stale))
    finally:
        app.close()
    assert [(r.kind, r.start_local) for r in imported] == [
        ("consultation", datetime(2026, 8, 10, 9)),
        ("consultation", datetime(2026, 8, 17, 9)),
    ]
    assert stale is False, "the plan was made again after the sync"
