"""The bot's modals, built from ``slack_sdk.models`` (so Slack's limits are checked). Pure.

The submit modal: which input (a picker: the person's own and those they may submit for), the
text and an optional link. The "not applicable" modal: the reason. Both carry what the
submission needs in ``private_metadata``; the values come back in ``view.state.values`` under the
block and action ids named here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bots.slack.replies import phrase
from core.commands import MAX_REASON

if TYPE_CHECKING:
    from collections.abc import Sequence

    from services.deadlines import Submittable

SUBMIT_VIEW = "focal_submit_view"
NOT_APPLICABLE_VIEW = "focal_not_applicable_view"
DEADLINE, TEXT, LINK, REASON = "deadline", "text", "link", "reason"  # block id = action id
#: What Slack lets a modal's text input hold; longer inputs go through the command or a link.
MODAL_TEXT_MAX = 3000
_OPTIONS_MAX, _OPTION_TEXT_MAX, _TITLE_MAX = 100, 75, 24


@dataclass(frozen=True, slots=True)
class Choice:
    """An option's value: whose input for which deadline."""

    code: str
    owner: str | None  # None: the person's own

    @property
    def value(self) -> str:
        return self.code if self.owner is None else f"{self.code}|{self.owner}"

    @classmethod
    def parse(cls, value: str) -> Choice:
        code, _, owner = value.partition("|")
        return cls(code, owner or None)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _label(item: Submittable, language: str) -> str:
    title = item.titles.get(language, item.title)
    if item.on_behalf:
        head = phrase("modal_for", language, code=item.code, name=item.owner_name)
        return _clip(f"{head} · {title}", _OPTION_TEXT_MAX)
    return _clip(f"{item.code} — {title}", _OPTION_TEXT_MAX)


def metadata(**values: str | None) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def read_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in found.items() if v is not None} if isinstance(found, dict) else {}


def submit_modal(
    items: Sequence[Submittable], *, language: str, chosen: Choice | None, private_metadata: str
) -> dict[str, Any]:
    options = [
        Option(
            value=Choice(i.code, i.owner if i.on_behalf else None).value, text=_label(i, language)
        )
        for i in items[:_OPTIONS_MAX]
    ]
    initial = next((o for o in options if chosen and o.value == chosen.value), None)
    if initial is None and len(options) == 1:
        initial = options[0]
    view = View(
        type="modal",
        callback_id=SUBMIT_VIEW,
        title=_clip(phrase("modal_title", language), _TITLE_MAX),
        submit=phrase("modal_submit", language),
        close=phrase("modal_cancel", language),
        private_metadata=private_metadata,
        blocks=[
            InputBlock(
                block_id=DEADLINE,
                label=phrase("modal_deadline", language),
                element=StaticSelectElement(
                    action_id=DEADLINE,
                    placeholder=phrase("modal_deadline_hint", language),
                    options=options,
                    initial_option=initial,
                ),
            ),
            InputBlock(
                block_id=TEXT,
                label=phrase("modal_text", language),
                element=PlainTextInputElement(
                    action_id=TEXT, multiline=True, max_length=MODAL_TEXT_MAX
                ),
            ),
            InputBlock(
                block_id=LINK,
                label=phrase("modal_link", language),
                optional=True,
                element=UrlInputElement(action_id=LINK),
            ),
        ],
    )
    return view.to_dict()


def not_applicable_modal(code: str, *, language: str, private_metadata: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=NOT_APPLICABLE_VIEW,
        title=_clip(phrase("na_title", language), _TITLE_MAX),
        submit=phrase("modal_submit", language),
        close=phrase("modal_cancel", language),
        private_metadata=private_metadata,
        blocks=[
            InputBlock(
                block_id=REASON,
                label=_clip(phrase("na_reason", language, code=code), 2000),
                element=PlainTextInputElement(
                    action_id=REASON, multiline=True, max_length=MAX_REASON
                ),
            ),
        ],
    )
    return view.to_dict()


def state_value(view: dict[str, Any], block_id: str) -> str | None:
    """The value a person gave in ``block_id`` (text, URL or selected option), if any."""
    state = (view.get("state") or {}).get("values") or {}
    element = (state.get(block_id) or {}).get(block_id) or {}
    if element.get("type") == "static_select":
        return ((element.get("selected_option") or {}).get("value")) or None
    value = element.get("value")
    return value if isinstance(value, str) else None
