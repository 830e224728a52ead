"""Flow runs as the store remembers them: when each ran, how it ended, one line about it. Pure.

Every run of ``sync-calendar``, ``send-reminders`` and ``send-digest`` is recorded, whether
Prefect ran it (a worker, ``focal serve``) or the command line did (``focal remind``), so that
``/healthz`` and ``focal status`` can say when each flow last did its job.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime, timedelta

#: The longest summary kept: one line, for a table cell or a log line.
SUMMARY_LENGTH = 300


class RunOutcome(enum.StrEnum):
    RUNNING = "running"  # started, no end recorded yet
    SUCCEEDED = "succeeded"  # did all of its work
    PARTIAL = "partial"  # ended, but some of its work is left for the next run (the summary says)
    FAILED = "failed"  # raised, was interrupted, or its process ended without a word


@dataclass(frozen=True, slots=True)
class FlowRun:
    """One run of one flow. ``runner``: the host and process that ran it."""

    flow: str
    started_at: datetime
    outcome: RunOutcome
    summary: str = ""
    finished_at: datetime | None = None
    runner: str | None = None
    prefect_run_id: str | None = None

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class FlowHealth:
    """What ``/healthz`` and ``focal status`` say of one flow."""

    flow: str
    last_run: FlowRun | None
    last_success: FlowRun | None


_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` on one line (runs of white space made one space), cut to ``limit`` characters."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_error(error: BaseException) -> str:
    """An exception as the one line a run's record keeps: its type and its message."""
    message = str(error)
    name = type(error).__name__
    return one_line(f"{name}: {message}" if message else name)
