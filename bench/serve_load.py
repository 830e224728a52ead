"""What ``bench/serve.py`` puts in front of ``focal serve``, and how it watches it.

- The Slack stand-in, in a process of its own (it keeps every message, with the moment it
  arrived: a reminder's lateness is that moment minus its planned minute).
- ``focal serve`` itself, started as an operator starts it (its own local Prefect server),
  with its output in a file.
- People typing ``/focal`` (one thread each, requests signed as Slack signs them) and
  calendar clients polling their feeds with ``If-None-Match`` (a few threads, each looking
  after a share of the subscribers, one keep-alive connection each).
- The resident memory of every process of ``focal serve``, sampled every few seconds.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.slash_world import wait_healthy
from core.notices import REMINDER_EVENT
from tests.slack_http import SlackSender
from tests.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection

#: Texts people submit: a line or a paragraph, mostly Vietnamese.
TEXTS = (
    "Việt Nam ủng hộ đề xuất tăng cường hợp tác khu vực về thương mại điện tử.",
    (
        "Bộ Công Thương đã hoàn thành dự thảo báo cáo tiến độ thực hiện kế hoạch hành động. "
        "Đề nghị Ban Thư ký cập nhật số liệu năm 2025 trước cuộc họp nhóm công tác."
    ),
    "The ministry has completed the draft progress report on the action plan.",
)
#: focal serve's processes, told apart by their command line.
ROLES = (
    ("Prefect server", "prefect server start"),
    ("flow runner", "flows.serving"),
    ("flow runs", "prefect.engine"),
)


# ------------------------------------------------------------------ stand-in


def serve_standin(users: list[tuple[str, str, str, str]], conn: Connection) -> None:
    """The Slack stand-in: mints response URLs; reports the reminder messages it received."""
    with SlackStandIn() as slack:
        for handle, email, tz, user_id in users:
            slack.add_user(name=handle, email=email, tz=tz, user_id=user_id)
        conn.send(slack.url)
        while (message := conn.recv())[0] != "stop":
            command, argument = message
            if command == "urls":  # argument: the user id of each
                conn.send([slack.new_response_url(user_id=u) for u in argument])
            elif command == "posts":  # (arrival, keys) of each reminder message
                conn.send(
                    [
                        (float(m.ts), list((m.metadata or {}).get("event_payload", {})["keys"]))
                        for m in slack.messages()
                        if (m.metadata or {}).get("event_type") == REMINDER_EVENT
                    ]
                )
            elif command == "summary":
                conn.send(
                    {
                        "calls": dict(Counter(c.method for c in slack.calls())),
                        "replies": len(slack.responses()),
                        "violations": list(slack.violations[:5]),
                    }
                )


# ---------------------------------------------------------------- focal serve


@dataclass
class FocalServe:
    """``focal serve`` on a free port in ``directory`` (its ``var/`` goes there)."""

    directory: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "focal-serve.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 600) -> float:
        """Start it; return once its HTTP app answers and its flows are served (seconds)."""
        focal = str(Path(sys.executable).with_name("focal"))
        began = time.monotonic()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the installed command
                [focal, "serve", "--port", str(self.port)],
                cwd=self.directory,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(self.base_url, timeout=timeout)
        while "serving the flows on their schedules" not in self.output():
            if self.process.poll() is not None or time.monotonic() - began > timeout:
                raise RuntimeError(f"focal serve did not serve its flows:\n{self.tail()}")
            time.sleep(0.5)
        return time.monotonic() - began

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def stop(self, timeout: float = 900) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()  # our own child, by its handle
            return self.process.wait()

    def memory(self) -> dict[str, float]:
        """Resident memory, MB: the HTTP app (focal serve's own process), and its children by
        role (several flow runs are added up)."""
        assert self.process is not None
        found = {"focal serve (HTTP app)": rss_mb(self.process.pid)}
        for pid in descendants(self.process.pid):
            command = cmdline(pid)
            for role, marker in ROLES:
                if marker in command:
                    found[role] = found.get(role, 0.0) + rss_mb(pid)
                    break
        return found


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --------------------------------------------------------------------- load


@dataclass
class Request:
    kind: str  # deadlines, submit, feed
    at: float  # wall clock when sent
    status: int  # 0: no answer
    elapsed: float


@dataclass
class Load:
    """The people and calendar clients, until ``stop`` is set."""

    base_url: str
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[Request] = field(default_factory=list)
    late_polls: int = 0  # polls sent more than a second after their turn: the client lagged
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def start_people(
        self,
        people: Sequence[tuple[str, list[str]]],
        secret: str,
        urls: Callable[[str, int], list[str]],
        think: float,
    ) -> None:
        """Each of ``people`` (Slack user id, the codes they owe) types ``/focal deadlines``
        and ``/focal submit CODE text`` in turn, a pause of ``think`` seconds (mean) apart."""
        for user_id, codes in people:
            thread = threading.Thread(
                target=self._person, args=(user_id, codes, secret, urls, think), daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _person(
        self,
        user_id: str,
        codes: list[str],
        secret: str,
        urls: Callable[[str, int], list[str]],
        think: float,
    ) -> None:
        sender = SlackSender(self.base_url, secret, timeout=30)
        rng = random.Random(user_id)
        pending: list[str] = []
        n = 0
        while not self.stop.wait(rng.expovariate(1 / think) if think else 0):
            if not pending:
                pending = urls(user_id, 20)
            kind = "submit" if n % 2 else "deadlines"
            text = f"submit {codes[n % len(codes)]} {rng.choice(TEXTS)}" if n % 2 else kind
            at = time.time()
            try:
                answer = sender.command(text, user_id=user_id, response_url=pending.pop())
                status, elapsed = answer.status, answer.elapsed
            except OSError:
                status, elapsed = 0, time.time() - at
            sender.sent.clear()
            self._record(Request(kind, at, status, elapsed))
            n += 1

    def start_feeds(self, tokens: Sequence[str], every: float, threads: int) -> None:
        """Each token's feed polled every ``every`` seconds, the polls spread evenly."""
        began = time.monotonic()
        for k in range(threads):
            mine = tokens[k::threads]
            thread = threading.Thread(
                target=self._poll, args=(mine, every, began + k * every / len(tokens)), daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _poll(self, tokens: Sequence[str], every: float, first: float) -> None:
        host, port = self.base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        etags: dict[str, str] = {}
        gap = every / len(tokens)
        turn = first
        i = 0
        while not self.stop.is_set():
            delay = turn - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            if delay < -1:
                self.late_polls += 1
            token = tokens[i % len(tokens)]
            headers = {"If-None-Match": etags[token]} if token in etags else {}
            at, began = time.time(), time.monotonic()
            try:
                connection.request("GET", f"/feeds/{token}.ics", headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if etag := response.getheader("ETag"):
                    etags[token] = etag
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            self._record(Request("feed", at, status, time.monotonic() - began))
            i += 1
            turn += gap
        connection.close()

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(60)


@dataclass
class Memory:
    """Samples of ``focal serve``'s memory: (seconds since the load began, MB by role)."""

    serve: FocalServe
    every: float = 5.0
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        began = time.monotonic()

        def sample() -> None:
            while True:
                self.samples.append((time.monotonic() - began, self.serve.memory()))
                if self._stop.wait(self.every):
                    return

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()

    def finish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append((self.samples[-1][0] if self.samples else 0.0, self.serve.memory()))

    def at(self, seconds: float) -> dict[str, float]:
        """The first sample taken at or after ``seconds``."""
        return next((m for t, m in self.samples if t >= seconds), self.samples[-1][1])


def loadavg() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def environment(**settings: Any) -> dict[str, str]:  # noqa: ANN401
    """focal serve's environment: no Prefect server named (it starts its own), ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FOCAL_", "SLACK_", "PREFECT_API_URL", "PREFECT_HOME"))
    }
    return env | {k: str(v) for k, v in settings.items()}
