"""The flows' schedules: one module says them, ``prefect.yaml`` repeats them, both agree."""

from __future__ import annotations

import importlib
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from config.settings import Settings
from flows.schedules import DEPLOYMENT, flow_schedules
from flows.serving import build_deployments

ROOT = Path(__file__).resolve().parents[2]


def test_every_schedule_names_a_timezone_and_the_digest_runs_in_the_coordinators() -> None:
    schedules = {s.flow: s for s in flow_schedules("Asia/Bangkok")}
    assert set(schedules) == {"sync-calendar", "send-reminders", "send-digest"}
    assert schedules["send-digest"].timezone == "Asia/Bangkok"
    assert schedules["send-digest"].cron == "30 8 * * 1-5"
    assert schedules["send-reminders"].cron == "* * * * *"
    assert schedules["sync-calendar"].cron == "0 * * * *"
    for schedule in schedules.values():
        ZoneInfo(schedule.timezone)  # an IANA name


def test_served_deployments_carry_the_schedules_with_their_timezones() -> None:
    settings = Settings(timezone="Asia/Manila")
    deployments = {d.flow_name: d for d in build_deployments(settings)}
    for expected in flow_schedules("Asia/Manila"):
        deployment = deployments[expected.flow]
        assert deployment.name == DEPLOYMENT
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == expected.cron  # type: ignore[union-attr]
        assert schedule.schedule.timezone == expected.timezone


def test_prefect_yaml_deploys_the_same_flows_on_the_same_schedules() -> None:
    document = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    expected = {s.flow: s for s in flow_schedules(Settings().timezone)}
    found = {}
    for deployment in document["deployments"]:
        # a module path: workers import the installed package, from any directory
        path, name = deployment["entrypoint"].rsplit(".", 1)
        module = importlib.import_module(path)
        flow_name = getattr(module, name).name
        [schedule] = deployment["schedules"]
        found[flow_name] = (schedule["cron"], schedule["timezone"])
        assert deployment["name"] == DEPLOYMENT
        assert deployment["work_pool"]["name"] == "focal"
    assert document["pull"] == []  # nothing to fetch: the flows are installed
    assert found == {name: (s.cron, s.timezone) for name, s in expected.items()}
