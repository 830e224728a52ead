"""``focal serve`` as an operator runs it: a process that answers Slack and stops on SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.test_slack_app import SECRET, TOKEN, reply_at
from tests.slack_http import SlackSender

if TYPE_CHECKING:
    from tests.slack_standin import SlackStandIn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health(port: int) -> tuple[int, dict[str, Any]] | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    except OSError:
        return None
    finally:
        connection.close()


def env_for(tmp_path: Path, slack: SlackStandIn | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOCAL_", "SLACK_"))}
    env["FOCAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'focal.sqlite'}"
    if slack is not None:
        env |= {
            "FOCAL_SLACK_API_URL": slack.url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
        }
    return env


def focal(*args: str) -> list[str]:
    """The installed ``focal`` command, as an operator types it."""
    return [str(Path(sys.executable).with_name("focal")), *args]


def start_serve(
    *args: str, env: dict[str, str], cwd: Path, wait: float = 30
) -> subprocess.Popen[str]:
    """``focal serve ARGS`` in ``cwd`` (its ``var/`` goes there), once ``/healthz`` answers."""
    port = args[args.index("--port") + 1]
    server = subprocess.Popen(
        focal("serve", *args),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + wait
    while health(int(port)) is None:
        if server.poll() is not None or time.monotonic() > deadline:
            stop_serve(server)
            pytest.fail(
                f"focal serve did not start: {server.stdout.read() if server.stdout else ''}"
            )
        time.sleep(0.1)
    return server


def stop_serve(server: subprocess.Popen[str]) -> str:
    """SIGTERM, as an init system stops it; what it printed."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        output, _ = server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        raise
    return output


@pytest.mark.slow
def test_serve_answers_slack_and_stops_cleanly(tmp_path: Path, slack: SlackStandIn) -> None:
    env = env_for(tmp_path, slack)
    subprocess.run(focal("init"), env=env, check=True, capture_output=True)
    port = free_port()
    # a local Prefect server starts first
    server = start_serve("--port", str(port), env=env, cwd=tmp_path, wait=180)
    try:
        answer = health(port)
        assert answer is not None
        assert (answer[0], answer[1]["status"], answer[1]["database"]) == (200, "ok", "ok")
        user = slack.add_user(name="x", email="x@example.org", locale="vi-VN")
        sent = SlackSender(f"http://127.0.0.1:{port}", SECRET, slack=slack).command(
            "help", user_id=user
        )
        assert sent.status == 200
        assert sent.request.response_url is not None
        assert "`/focal deadlines`" in reply_at(slack, sent.request.response_url)
    finally:
        output = stop_serve(server)
    # uvicorn shuts down cleanly, then ends the process by the signal it was sent
    assert server.returncode in {0, -signal.SIGTERM}, output
    assert "Application shutdown complete" in output
    assert "serving on http://127.0.0.1" in output
    # without PREFECT_API_URL: a local Prefect server under var/, stopped after the flows
    assert "local Prefect server at http://127.0.0.1:" in output
    assert (tmp_path / "var" / "prefect" / "prefect.db").exists()
    assert output.index("the flow runner stopped") < output.index("the Prefect server stopped")
    api_port = int(output.split("local Prefect server at http://127.0.0.1:")[1].split("/")[0])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", api_port)) != 0, "the Prefect server is gone"


def test_serve_without_flows_starts_no_prefect_server(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    subprocess.run(focal("init"), env=env, check=True, capture_output=True)
    server = start_serve("--no-flows", "--port", str(free_port()), env=env, cwd=tmp_path)
    output = stop_serve(server)
    assert server.returncode == 0, output
    assert "Prefect" not in output
    assert not (tmp_path / "var").exists()


def test_socket_mode_needs_an_app_token(tmp_path: Path, slack: SlackStandIn) -> None:
    env = env_for(tmp_path, slack)
    subprocess.run(focal("init"), env=env, check=True, capture_output=True)
    result = subprocess.run(
        focal("serve", "--socket-mode"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--socket-mode needs SLACK_APP_TOKEN" in result.stderr + result.stdout


@pytest.mark.parametrize("args", [("serve", "--help")])
def test_serve_has_help(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = env_for(tmp_path)
    result = subprocess.run(
        focal(*args), env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "--socket-mode" in result.stdout
    assert "--no-flows" in result.stdout
