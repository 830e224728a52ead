"""A PostgreSQL instance of a test's own, to stop and start under a running ``focal serve``.

The machine's shared PostgreSQL serves every other test: it is never restarted. This one is
made with ``initdb`` in a temporary directory and run with ``pg_ctl`` on a free loopback port
(the Debian packages' binaries under ``/usr/lib/postgresql/*/bin``, or those on the ``PATH``).
PostgreSQL refuses to run as root: under root it runs as the ``postgres`` account.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bots.cli.processes import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator


def find_binaries() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, newest version first."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def unavailable_reason() -> str | None:
    """Why no private PostgreSQL can run here, or None when it can."""
    if find_binaries() is None:
        return "needs PostgreSQL's initdb and pg_ctl (Debian: /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "PostgreSQL will not run as root, and there is no postgres account to run it as"
    return None


@dataclass
class PrivatePostgres:
    """One instance: ``start()``, ``stop()`` (fast: open connections are cut), ``url``."""

    bin: Path
    home: Path
    port: int
    user: str | None  # the account it runs as, when we are root

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.home,
            timeout=120,
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.home / "data"), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.home / "data"), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once, as a crash or a restart by the operator does: sessions are cut."""
        self._run("pg_ctl", "-D", str(self.home / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.home / "data"), "status"],
            capture_output=True,
            user=self.user,
            check=False,
        )
        return result.returncode == 0


def private_postgres() -> Iterator[PrivatePostgres]:
    """A running instance for as long as the generator is suspended; stopped and removed after.
    (Wrap it in a fixture; skip first with ``unavailable_reason()``.)"""
    binaries = find_binaries()
    assert binaries is not None
    user = "postgres" if os.geteuid() == 0 else None
    home = Path(tempfile.mkdtemp(prefix="focal-pg-"))
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(home, account.pw_uid, account.pw_gid)
    home.chmod(0o700)
    instance = PrivatePostgres(binaries, home, free_port(), user)
    try:
        instance.init()
        instance.start()
        yield instance
    finally:
        if instance.is_running():
            instance.stop()
        shutil.rmtree(home, ignore_errors=True)


def wait_until(condition: object, *, timeout: float, what: str) -> None:
    """Poll ``condition()`` every 0.2 s until it is true."""
    assert callable(condition)
    until = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < until, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.2)
