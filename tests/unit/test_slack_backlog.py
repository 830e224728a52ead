"""The backlog of work acknowledged to Slack: in order, a few at a time, nothing lost on a
failure, and finished (or counted as dropped) at shutdown."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots.slack.app import opens_modal
from bots.slack.backlog import Backlog


def test_jobs_run_in_order_a_few_at_a_time() -> None:
    started: list[int] = []
    running = 0
    most = 0

    async def job(n: int) -> None:
        nonlocal running, most
        started.append(n)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.001)
        running -= 1

    async def scenario() -> int:
        backlog = Backlog(workers=3)
        for n in range(20):
            backlog.add(job, n)
        assert len(backlog) == 20, "queued, none started before the listener returns"
        return await backlog.finish(timeout=5)

    assert asyncio.run(scenario()) == 0
    assert started == list(range(20))
    assert most == 3


def test_a_failing_job_is_logged_and_the_next_ones_run(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    async def fails() -> None:
        raise ValueError("boom")

    async def works(name: str) -> None:
        done.append(name)

    async def scenario() -> None:
        backlog = Backlog(workers=1)
        backlog.add(fails)
        backlog.add(works, "after")
        assert await backlog.finish(timeout=5) == 0

    with caplog.at_level(logging.ERROR, logger="focal.slack"):
        asyncio.run(scenario())
    assert done == ["after"]
    assert "work after an acknowledgement failed" in caplog.text


def test_finish_waits_for_queued_work_then_takes_no_more() -> None:
    done: list[int] = []

    async def slow(n: int) -> None:
        await asyncio.sleep(0.01)
        done.append(n)

    async def scenario() -> None:
        backlog = Backlog(workers=2)
        for n in range(6):
            backlog.add(slow, n)
        assert await backlog.finish(timeout=5) == 0
        assert len(backlog) == 0
        with pytest.raises(RuntimeError, match="closing"):
            backlog.add(slow, 99)

    asyncio.run(scenario())
    assert sorted(done) == list(range(6))


def test_finish_gives_up_after_its_timeout_and_says_how_many_were_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def stuck() -> None:
        await asyncio.sleep(60)

    async def scenario() -> int:
        backlog = Backlog(workers=1)
        for _ in range(3):
            backlog.add(stuck)
        return await backlog.finish(timeout=0.05)

    with caplog.at_level(logging.WARNING, logger="focal.slack"):
        assert asyncio.run(scenario()) == 3
    assert "3 acknowledged Slack requests not done" in caplog.text


def test_an_unused_backlog_finishes_at_once() -> None:
    assert asyncio.run(Backlog().finish(timeout=1)) == 0


def test_urgent_jobs_go_before_those_waiting() -> None:
    order: list[str] = []

    async def job(name: str) -> None:
        order.append(name)

    async def scenario() -> None:
        backlog = Backlog(workers=1)
        for n in range(3):
            backlog.add(job, f"reply {n}")
        backlog.add(job, "open a modal", urgent=True)
        assert await backlog.finish(timeout=5) == 0

    asyncio.run(scenario())
    assert order == ["open a modal", "reply 0", "reply 1", "reply 2"]


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("submit", True),
        ("submit ASOEN37-WORKPLANS", True),
        ("  SUBMIT   asoen37-workplans ", True),
        ("submit ASOEN37-WORKPLANS our plan", False),
        ("deadlines", False),
        ("", False),
        ("submit " + "x" * 300, False),
    ],
)
def test_commands_that_open_the_submit_modal_are_urgent(text: str, *, urgent: bool) -> None:
    assert opens_modal(text) is urgent
