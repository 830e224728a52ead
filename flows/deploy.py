"""``python -m flows.deploy --all``: Prefect's own ``prefect deploy`` for ``prefect.yaml``.

Prefect 3.8.8's ``prefect deploy`` asks the server for the work pool's workers after each
deployment it creates, sending ``limit`` and ``offset`` as null, and its own server refuses
that (HTTP 422): the command stops with a traceback after the first deployment. Here that one
look-up sends the server's defaults instead; everything else is Prefect's command, unchanged
(the arguments are ``prefect deploy``'s). Harmless once Prefect fixes it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from prefect.cli import app
from prefect.client.orchestration._work_pools.client import WorkPoolAsyncClient

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

#: The server's default page (``PREFECT_API_DEFAULT_LIMIT``).
PAGE = 200

_read_workers: Callable[..., Coroutine[Any, Any, list[Any]]] = (
    WorkPoolAsyncClient.read_workers_for_work_pool
)


async def _read_workers_paged(
    self: WorkPoolAsyncClient,
    work_pool_name: str,
    worker_filter: Any = None,  # noqa: ANN401 - Prefect's WorkerFilter
    offset: int | None = None,
    limit: int | None = None,
) -> list[Any]:
    return await _read_workers(
        self,
        work_pool_name,
        worker_filter=worker_filter,
        offset=offset or 0,
        limit=limit or PAGE,
    )


def main() -> None:
    setattr(WorkPoolAsyncClient, "read_workers_for_work_pool", _read_workers_paged)  # noqa: B010
    sys.argv = ["prefect", "deploy", *sys.argv[1:]]
    app()


if __name__ == "__main__":
    main()
