"""What the feeds keep in the store, on SQLite and PostgreSQL: the data version and its
triggers, one active token a person, sequences that never go down under concurrent builds."""

from __future__ import annotations

import importlib.util
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

import db
from core.feed_state import deadline_uid
from db.models import FeedEventRow, FeedTokenRow, GroupRow, PersonRow
from services.feeds import build_person_feed, person_scope
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
DUE = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # ASOEN37-WORKPLANS, 17:00 in Hanoi


def watched() -> dict[str, Any]:
    """The tables the 0004 migration watches (a migration is a file, not a package module)."""
    path = Path(db.__file__).parent / "migrations/versions/0004_feeds.py"
    spec = importlib.util.spec_from_file_location("focal_migration_0004", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.WATCHED)


def version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT n FROM data_version WHERE id = 1")) or 0)


def test_every_table_a_feed_reads_has_its_triggers(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            names = set(
                connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
            )
            wanted = {f"data_version_{table}" for table in watched()}
        else:
            names = set(
                connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
            wanted = {
                f"data_version_{table}_{op}"
                for table in watched()
                for op in ("insert", "update", "delete")
            }
    assert wanted <= names


def test_a_change_moves_the_data_version_and_a_delivery_note_does_not(
    engine: Engine, make_uow: Any
) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    loaded = version(engine)
    assert loaded > 0
    with engine.begin() as connection:
        connection.execute(
            update(PersonRow).where(PersonRow.handle == "minh").values(reached_channel="D1")
        )
    assert version(engine) == loaded, "where a reminder landed is not in any feed"
    with engine.begin() as connection:
        connection.execute(
            update(PersonRow).where(PersonRow.handle == "minh").values(language="vi")
        )
    assert version(engine) > loaded
    moved = version(engine)
    with engine.begin() as connection:
        connection.execute(update(GroupRow).where(GroupRow.code == "AWGEE").values(name="x"))
    assert version(engine) > moved
    assert version(engine) == moved + 1
    with engine.connect() as connection:  # a change rolled back moves nothing
        connection.execute(update(GroupRow).values(name="y"))
        connection.rollback()
    assert version(engine) == moved + 1


def test_one_active_token_a_person_is_a_constraint(engine: Engine, make_uow: Any) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    with engine.connect() as connection:
        minh = connection.scalar(select(PersonRow.id).where(PersonRow.handle == "minh"))
    with engine.begin() as connection:
        connection.execute(
            FeedTokenRow.__table__.insert().values(
                person_id=minh, token_hash="a" * 64, created_at=LOADED, revoked_at=LOADED
            )
        )
        connection.execute(
            FeedTokenRow.__table__.insert().values(
                person_id=minh, token_hash="b" * 64, created_at=LOADED
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            FeedTokenRow.__table__.insert().values(
                person_id=minh, token_hash="c" * 64, created_at=LOADED
            )
        )


def test_concurrent_builds_at_different_times_never_lower_a_sequence(
    engine: Engine, make_uow: Any
) -> None:
    """Four threads build minh's feed as of times either side of the due instant: each
    flip of due/overdue raises the SEQUENCE, and no thread ever sees it go down."""
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    with make_uow() as uow:
        owner = uow.feeds.person("minh")
    assert owner is not None
    uid = deadline_uid("ASOEN37-WORKPLANS")
    seen: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        mine = seen.setdefault(n, [])
        try:
            for i in range(12):
                now = DUE + timedelta(minutes=1 if (i + n) % 2 else -1)
                feed = build_person_feed(owner, uow=make_uow(), now=now).feed
                [event] = [d for d in feed.deadlines if d.uid == uid]
                mine.append(event.sequence)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for sequences in seen.values():
        assert sequences == sorted(sequences), "never lower, as each thread saw it"
    with engine.connect() as connection:
        stored = connection.scalar(
            select(FeedEventRow.sequence).where(
                FeedEventRow.scope == person_scope(owner.person_id), FeedEventRow.uid == uid
            )
        )
    assert stored == max(max(s) for s in seen.values())
    assert stored >= 12, "most of the 48 builds flipped the state"
