"""The feeds from ``focal serve`` as an operator runs it: 200, 304 and 404 from the process."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from db.engine import build_engine, build_session_factory
from db.uow import SqlAlchemyUnitOfWork
from services.feed_access import feed_access
from tests.e2e.test_cli import CALENDAR, ROSTER
from tests.e2e.test_serve import env_for, focal, free_port, start_serve, stop_serve
from tests.integration.test_feed_serving import fetch

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.slow
def test_focal_serve_serves_feeds(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    subprocess.run(focal("init"), env=env, check=True, capture_output=True)
    subprocess.run(
        focal("load", str(CALENDAR), str(ROSTER)), env=env, check=True, capture_output=True
    )
    engine = build_engine(env["FOCAL_DATABASE_URL"])
    try:
        access = feed_access(
            "minh",
            reset=False,
            uow=SqlAlchemyUnitOfWork(build_session_factory(engine)),
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    port = free_port()
    # the HTTP app alone: the flows and their Prefect server are test_serve.py's
    server = start_serve("--no-flows", "--port", str(port), env=env, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        first = fetch(base, f"/feeds/{access.token}.ics")
        assert first.status == 200
        assert first.headers["content-type"] == "text/calendar; charset=utf-8"
        assert first.body.startswith(b"BEGIN:VCALENDAR\r\n")
        again = fetch(base, f"/feeds/{access.token}.ics", {"If-None-Match": first.headers["etag"]})
        assert again.status == 304
        assert fetch(base, "/feeds/" + "x" * 43 + ".ics").status == 404
        group = fetch(base, f"/feeds/groups/AWGESC.ics?token={access.token}")
        assert group.status == 200
    finally:
        output = stop_serve(server)
    assert "feeds at /feeds/" in output
    assert '"GET /feeds/….ics HTTP/1.1" 304' in output
    assert access.token not in output, "keys are kept out of the access log"
