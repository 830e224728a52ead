"""Work that Slack has been told is under way: what each acknowledged request still has to do.

A listener acknowledges, adds one small job (a coroutine function and the request's body) and
returns, so the HTTP answer leaves at once. A few tasks take the jobs in order. Two things follow
from keeping the waiting jobs this small, and their number in progress this low:

* a burst of commands waits as plain data (a tuple and the body's dict of strings), not as
  hundreds of suspended requests with their frames, clients and contexts that the garbage
  collector would walk through on every full pass (each pass stops the event loop, and so the
  acknowledgements);
* the service workers never have more than ``WORKERS`` calls queued, so a modal's
  submission, whose answer must wait for its write, never waits behind a whole burst.

A job added ``urgent`` goes before the others: one that opens a modal must use its trigger id
within Slack's 3 seconds, however long the queue.

On shutdown, ``finish`` lets the jobs already accepted run to their end (within a time limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger("focal.slack")

#: Jobs in progress at once: enough to overlap Slack's network round trips, few enough that
#: the service workers' queue stays short.
WORKERS = 8

#: (urgency: 0 before 1, order of arrival, the coroutine function, its arguments)
Job = tuple[int, int, "Callable[..., Awaitable[None]]", tuple[Any, ...]]


class Backlog:
    """Jobs done in order of arrival (urgent ones first) by ``workers`` tasks on the running
    event loop (started on first use)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._queue: asyncio.PriorityQueue[Job] = asyncio.PriorityQueue()
        self._arrived = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._pending = 0
        self._closing = False

    def __len__(self) -> int:
        """Jobs waiting or in progress."""
        return self._pending

    def add(
        self,
        job: Callable[..., Awaitable[None]],
        *args: Any,  # noqa: ANN401
        urgent: bool = False,
    ) -> None:
        """Queue ``await job(*args)`` (``urgent``: before the jobs not urgent); call from the
        event loop."""
        if self._closing:
            raise RuntimeError("the backlog is closing: no new work")
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(), name=f"focal-backlog-{n}")
                for n in range(self.workers)
            ]
        self._queue.put_nowait((0 if urgent else 1, next(self._arrived), job, args))
        self._pending += 1

    async def _work(self) -> None:
        while True:
            _, _, job, args = await self._queue.get()
            try:
                await job(*args)
            except Exception:
                log.exception("work after an acknowledgement failed")
            finally:
                self._pending -= 1
                self._queue.task_done()
                del job, args  # nothing of a done job stays alive while the next one waits

    async def finish(self, timeout: float) -> int:  # noqa: ASYNC109 - a deadline, not a cancel scope
        """Take no more work; let the queued jobs run out for at most ``timeout`` seconds.
        Returns how many were left undone (dropped)."""
        self._closing = True
        if not self._tasks:
            return 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)
        left = len(self)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if left:
            log.warning("stopped with %d acknowledged Slack requests not done", left)
        return left
