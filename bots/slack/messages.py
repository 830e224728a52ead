"""Block Kit rendering of reminder messages and the digest (SKELETON: being written)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import SectionBlock

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

    from core.notices import Digest, ReminderMessage

#: Fixed action ids of the reminder buttons; the bot (bots/slack/app.py) answers them.
SUBMIT_ACTION = "focal_submit"
SNOOZE_ACTION = "focal_remind_tomorrow"
NOT_APPLICABLE_ACTION = "focal_not_applicable"


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str  # the notification and accessibility fallback
    blocks: tuple[Block, ...]

    def blocks_json(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


def render_reminder(message: ReminderMessage) -> Rendered:
    text = ", ".join(line.deadline.code for line in message.lines)
    return Rendered(text, (SectionBlock(text=text),))


def render_digest(digest: Digest) -> Rendered:
    text = f"digest {digest.day}"
    return Rendered(text, (SectionBlock(text=text),))


def render_plain(message: ReminderMessage | Digest) -> str:
    """The console form of a message."""
    from core.notices import Digest  # noqa: PLC0415

    return (render_digest if isinstance(message, Digest) else render_reminder)(message).text  # type: ignore[arg-type]
