"""The worker processes that run the /focal services: what crosses to them and back (results,
refusals, a database that cannot be reached), their lower priority, Ctrl-C left to the app,
and a worker that dies replaced. On SQLite and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bots.slack.workers import WORKER_NICENESS, DatabaseUnavailableError, ProcessWorkers
from config.settings import Settings
from db.models import PersonRow
from services.submissions import Problem, SubmissionRefusedError

if TYPE_CHECKING:
    from pathlib import Path

    from services.ports import UnitOfWork


# Services as the workers run them: module-level (pickled by name), ``uow=`` added.


def identity(*, uow: UnitOfWork) -> tuple[int, int]:
    """The worker's process id and CPU priority."""
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def people(prefix: str, *, uow: UnitOfWork) -> tuple[str, int]:
    with uow:
        count = uow.session.scalar(select(func.count()).select_from(PersonRow))
    return prefix, int(count or 0)


def refuse(code: str, *, uow: UnitOfWork) -> None:
    raise SubmissionRefusedError(Problem.CLOSED, code)


def test_calls_cross_to_a_worker_process_and_back(database_url: str) -> None:
    workers = ProcessWorkers(Settings(_env_file=None, database_url=database_url), processes=1)

    async def scenario() -> None:
        await workers.start()
        try:
            pid, priority = await workers.call(identity)
            assert pid != os.getpid()
            assert priority == os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS
            assert await workers.call(people, "roster") == ("roster", 0)
            with pytest.raises(SubmissionRefusedError) as refused:
                await workers.call(refuse, "ASOEN37-X")
            assert (refused.value.problem, refused.value.detail) == (Problem.CLOSED, "ASOEN37-X")
            os.kill(pid, signal.SIGINT)  # Ctrl-C in a terminal: for the app, not its workers
            await asyncio.sleep(0.2)
            assert (await workers.call(identity))[0] == pid
        finally:
            await workers.close()

    asyncio.run(scenario())


def test_a_worker_that_dies_is_replaced(database_url: str) -> None:
    workers = ProcessWorkers(Settings(_env_file=None, database_url=database_url), processes=1)

    async def scenario() -> None:
        try:
            pid, _ = await workers.call(identity)
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            with pytest.raises(BrokenProcessPool):  # the call that met the dead pool is lost
                await workers.call(identity)
            new_pid, _ = await workers.call(identity)
            assert new_pid not in {pid, os.getpid()}
            assert await workers.call(people, "after") == ("after", 0)
        finally:
            await workers.close()

    asyncio.run(scenario())


def test_a_database_that_cannot_be_opened_is_said_to_be_down(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    url = f"sqlite:///{tmp_path}/file/focal.sqlite"  # below a file: neither made nor opened
    workers = ProcessWorkers(Settings(_env_file=None, database_url=url), processes=1)

    async def scenario() -> None:
        await workers.start()  # says so in the log, and the app serves on
        try:
            with pytest.raises(DatabaseUnavailableError, match="cannot open the database"):
                await workers.call(people, "x")
        finally:
            await workers.close()

    asyncio.run(scenario())
