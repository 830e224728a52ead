"""Build everything from the settings, in one place (one ``build_*`` per process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.workdays import WorkingCalendar
from db.engine import build_engine, build_session_factory
from db.uow import SqlAlchemyUnitOfWork
from services.loading import LoadOptions

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from config.settings import Settings


class SystemClock:
    """The one place that reads the wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: SystemClock

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

    def close(self) -> None:
        self.engine.dispose()


def build_app(settings: Settings) -> App:
    engine = build_engine(settings.database_url)
    return App(
        settings=settings,
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=SystemClock(),
    )
