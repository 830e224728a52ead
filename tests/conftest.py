"""Shared fixtures: no network beyond loopback, and migrated databases on SQLite and PostgreSQL.

Database tests take the ``database_url`` fixture; it runs each test on a fresh SQLite
file and, when ``FOCAL_TEST_DATABASE_URL`` is set, on PostgreSQL too (a database of its own,
created for the session and dropped after it; tables emptied between tests).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.engine import build_engine, build_session_factory
from db.migrate import upgrade
from db.models import Base
from db.uow import SqlAlchemyUnitOfWork
from tests.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

PG_ENV = "FOCAL_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Prefect, when a test starts it, stays on loopback and quiet."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.pop("PREFECT_API_URL", None)


# ------------------------------------------------------------------ network


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets
    host = address[0]
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that reaches beyond loopback is a bug: fail it at connect()."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address: Any) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


# ----------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "focal.sqlite"
    engine = build_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
        )
    name = f"focal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "focal.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_uow(engine: Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    factory = build_session_factory(engine)
    return lambda: SqlAlchemyUnitOfWork(factory)


# --------------------------------------------------------------------- Slack


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """A local Slack on 127.0.0.1 that the real slack_sdk WebClient talks to over HTTP."""
    with SlackStandIn() as standin:
        yield standin


def set_terminal_width(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """``focal``'s consoles ``columns`` wide for this test. Rich fixes a console's width when
    ``COLUMNS`` is set as it is made (on import of the command modules, whichever test came
    first), so the width it may have kept is cleared as well: ``COLUMNS`` is read at print."""
    from bots.cli import context  # noqa: PLC0415 - the CLI only where a test runs it

    monkeypatch.setenv("COLUMNS", str(columns))
    for console in (context.out, context.err):
        monkeypatch.setattr(console, "_width", None)
