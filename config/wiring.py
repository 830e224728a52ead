"""Build everything from the settings, in one place (one ``build_*`` per process)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from core.reminders import ReminderPolicy
from core.workdays import WorkingCalendar
from db.engine import build_engine, build_session_factory
from db.uow import SqlAlchemyUnitOfWork
from services.delivery import Worker
from services.loading import LoadOptions

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from config.settings import Settings


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The one place that reads the wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The wall clock set to ``start`` when made, running on from there: ``focal demo``'s office
    lives on a day of the sample calendar, and its running app must agree."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


@dataclass
class App:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory)

    @property
    def workdays(self) -> WorkingCalendar:
        return WorkingCalendar(self.settings.country)

    def load_options(self) -> LoadOptions:
        return LoadOptions(
            default_timezone=self.settings.timezone,
            country=self.settings.country,
            workdays=self.workdays,
        )

    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            days_before=self.settings.reminder_days,
            hour=self.settings.reminder_hour,
            escalate_after_days=self.settings.escalate_after_days,
        )

    def close(self) -> None:
        self.engine.dispose()


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    engine = build_engine(settings.database_url)
    return App(
        settings=settings,
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=clock or SystemClock(),
    )


def local_worker() -> Worker:
    """A name for this sending run (host, process, run), and a test for dead holders.

    A claim made by a process of this machine that no longer exists is taken over at once;
    any other claim waits out its lease (the holder may be alive on another machine).
    """
    host, pid = socket.gethostname(), os.getpid()

    def is_gone(holder: str) -> bool:
        their_host, _, rest = holder.partition("|")
        their_pid, _, _ = rest.partition("|")
        if their_host != host or not their_pid.isdigit() or int(their_pid) == pid:
            return False
        try:
            os.kill(int(their_pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, someone else's
            return False
        return False

    return Worker(name=f"{host}|{pid}|{uuid.uuid4().hex[:12]}", is_gone=is_gone)
