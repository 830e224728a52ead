"""Every flow's schedule, in one place; each names its timezone.

``send-reminders`` runs every minute (a run with nothing due costs a query or two),
``sync-calendar`` hourly, ``send-digest`` at 08:30 on weekdays in the coordinator's timezone
(the flow itself skips the country's public holidays, which a cron line cannot know).
``prefect.yaml`` repeats these for deployments to a work pool; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Deployment name of every flow (``FLOW/DEPLOYMENT`` in Prefect's API).
DEPLOYMENT = "focal"


@dataclass(frozen=True, slots=True)
class FlowSchedule:
    """When one flow runs: a cron line read in an IANA timezone."""

    flow: str
    cron: str
    timezone: str
    description: str


def flow_schedules(timezone: str) -> tuple[FlowSchedule, ...]:
    """The three schedules; ``timezone`` is the coordinator's (``FOCAL_TIMEZONE``)."""
    return (
        FlowSchedule(
            "sync-calendar",
            "0 * * * *",
            "UTC",
            "hourly: re-read the calendar and roster files and iCalendar sources",
        ),
        FlowSchedule(
            "send-reminders",
            "* * * * *",
            "UTC",
            "every minute: deliver every reminder that is due",
        ),
        FlowSchedule(
            "send-digest",
            "30 8 * * 1-5",
            timezone,
            "working days at 08:30 in the coordinator's timezone: the coordinators' digest",
        ),
    )
