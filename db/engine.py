"""Engines and sessions, built from a URL (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

#: Seconds a new PostgreSQL connection may take before it fails.
CONNECT_TIMEOUT = 10


def build_engine(url: str, **kwargs: Any) -> Engine:  # noqa: ANN401
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A restarted server leaves every pooled connection dead: each is tried before use
    # (pool_pre_ping) and replaced, so Focal carries on without a restart. A server that does
    # not answer at all fails a connection within CONNECT_TIMEOUT seconds, not the kernel's
    # minutes (unless the URL says otherwise).
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT} | kwargs.get(
            "connect_args", {}
        )
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin), so a write transaction locks early.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:  # noqa: ANN401
    # A read-only transaction (``read_only`` execution option) takes no lock: in WAL mode it
    # reads its snapshot while a writer works.
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def build_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite they take no write lock (never write through them)."""
    return sessionmaker(bind=engine.execution_options(read_only=True), expire_on_commit=False)


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
