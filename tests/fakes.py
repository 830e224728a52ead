"""Fakes named by what they do (STYLE.md): a notifier that records, one that fails on cue; a clock
moved by hand, and an application on a test's engine that reads it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from config.wiring import App
from core.notices import Digest, ReminderMessage, ReviewNotice
from db.engine import build_session_factory
from services.ports import Delivery, DeliveryFailedError, DeliveryUncertainError

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Engine


class HandClock:
    """A clock the test moves by hand (``clock.at = ...``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def app_on(engine: Engine, clock: HandClock, **settings: Any) -> App:
    """The application on ``engine`` (its URL in the settings, with ``settings``), on ``clock``."""
    url = engine.url.render_as_string(hide_password=False)
    return App(
        settings=Settings(_env_file=None, database_url=url, **settings),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=clock,
    )


@dataclass
class RecordingNotifier:
    """Keeps every message it is given; ``fail_next`` / ``unclear_next`` program faults."""

    sent: list[ReminderMessage | Digest | ReviewNotice] = field(default_factory=list)
    fail_next: list[DeliveryFailedError] = field(default_factory=list)
    unclear_next: list[bool] = field(default_factory=list)  # True: posted, then unclear
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: ReminderMessage | Digest | ReviewNotice) -> Delivery:
        with self._lock:
            if self.fail_next:
                raise self.fail_next.pop(0)
            if self.unclear_next:
                posted = self.unclear_next.pop(0)
                if posted:
                    self.sent.append(message)
                raise DeliveryUncertainError("connection dropped")
            self.sent.append(message)
            return Delivery("D-test", f"{len(self.sent)}.000000")

    def find_sent(
        self, message: ReminderMessage | Digest | ReviewNotice, *, since: datetime
    ) -> dict[str, Delivery]:
        found = {}
        with self._lock:
            for number, earlier in enumerate(self.sent, start=1):
                for key in set(earlier.keys) & set(message.keys):
                    found[key] = Delivery("D-test", f"{number}.000000")
        return found

    def reminders(self) -> list[ReminderMessage]:
        return [m for m in self.sent if isinstance(m, ReminderMessage)]

    def reviews(self) -> list[ReviewNotice]:
        return [m for m in self.sent if isinstance(m, ReviewNotice)]

    def keys(self) -> list[str]:
        return [key for m in self.sent for key in m.keys]
