"""The HTTP app served on loopback from a thread of this process: how ``focal demo`` runs the
app it then talks to (``focal serve`` runs it in the foreground instead)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def loopback_listener() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, held until the server takes it over: its
    port is known (for links) before the app is built, and no other server can take it."""
    listener = socket.socket(socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    return listener


def base_url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}"


@contextlib.contextmanager
def serving(
    app: Callable[..., Any], listener: socket.socket, *, timeout: float = 10
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on ``listener`` in a thread; yields the base URL once it
    takes connections; on the way out stops it (its lifespan shutdown included)."""
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        log_config=None,  # the process's logging stays as it is
        access_log=False,
        ws="none",
        timeout_graceful_shutdown=max(1, int(timeout / 2)),
    )
    server = uvicorn.Server(config)
    failed: list[object] = []

    def run() -> None:
        try:
            server.run(sockets=[listener])
        except SystemExit as stop:  # how uvicorn says the app did not start
            failed.append(stop.code)

    thread = threading.Thread(target=run, name="focal-http", daemon=True)
    thread.start()
    try:
        until = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the HTTP app did not start (exit {failed})")
            if time.monotonic() > until:
                raise TimeoutError(f"the HTTP app did not start within {timeout:.0f} s")
            time.sleep(0.01)
        yield base_url(listener)
    finally:
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        listener.close()
