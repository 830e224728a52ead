"""The end-to-end tests' shared Prefect server (started once, for the tests that need it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bots.cli.processes import SERVER_STOP_SECONDS, start_prefect_server
from tests.e2e.prefect_world import SERVER_ENV, forget_everything

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``prefect server start`` on loopback, its own home and SQLite; its API URL."""
    server, url = start_prefect_server(
        tmp_path_factory.mktemp("prefect-server"), settings=SERVER_ENV
    )
    try:
        yield url
    finally:
        server.stop(SERVER_STOP_SECONDS)


@pytest.fixture
def prefect_api(prefect_server: str) -> str:
    """The shared Prefect server, with nothing left on it by an earlier test."""
    forget_everything(prefect_server)
    return prefect_server
