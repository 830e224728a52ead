"""What the ``/focal`` app does after each acknowledgement: answer commands, buttons and modals.

``FocalBot``'s methods run after the listener's ``ack()``, as jobs of its ``Backlog``: they call
the services in its workers (``bots.slack.workers``: worker processes; the event loop keeps
serving other requests), and reply through the request's ``response_url`` (ephemeral) or, after
a modal, in a direct message (``bots.slack.connection``). A submission is committed before its
receipt is sent. When the database cannot be reached the person is told that nothing was
recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from slack_sdk.errors import SlackApiError

from bots.slack.backlog import Backlog
from bots.slack.feed_links import calendar_text
from bots.slack.messages import NOT_APPLICABLE_ACTION, SNOOZE_ACTION, SUBMIT_ACTION
from bots.slack.replies import (
    command_error_text,
    deadlines_text,
    help_text,
    not_applicable_text,
    phrase,
    receipt_text,
    refusal_text,
    snoozed_text,
)
from bots.slack.status import status_text
from bots.slack.views import (
    DEADLINE,
    LINK,
    REASON,
    TEXT,
    Choice,
    metadata,
    not_applicable_modal,
    read_metadata,
    state_value,
    submit_modal,
)
from bots.slack.workers import DATABASE_DOWN
from core.commands import (
    MAX_REASON,
    MAX_TEXT,
    Calendar,
    CommandError,
    Help,
    ListDeadlines,
    NotApplicable,
    Status,
    Submit,
    parse_command,
)
from core.model import Language
from services.deadlines import my_deadlines, submittable
from services.feed_access import feed_access
from services.people import match_slack_user, person_by_slack_id, person_name
from services.reminders import remind_tomorrow
from services.submissions import (
    Problem,
    Receipt,
    Submission,
    SubmissionRefusedError,
    check_submittable,
    declare_not_applicable,
    record_submission,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from slack_bolt.context.ack.async_ack import AsyncAck

    from bots.slack.connection import SlackConnection
    from bots.slack.workers import ServiceWorkers
    from config.wiring import App
    from core.commands import Command
    from core.model import Person

log = logging.getLogger("focal.slack")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Asker:
    """Who wrote: their Slack id, the roster person if matched, how to talk to them."""

    user_id: str
    person: Person | None
    language: str
    timezone: str


def _language(locale: str | None) -> str:
    return Language.VI.value if (locale or "").lower().startswith("vi") else Language.EN.value


def _known(asker: Asker) -> Person:
    """The roster person asking; a stranger is refused (nothing is written for them)."""
    if asker.person is None:
        raise SubmissionRefusedError(Problem.UNKNOWN_PERSON)
    return asker.person


def _plain(text: str) -> str:
    """A reply as a modal's field error: plain text, no mrkdwn."""
    return text.replace("*", "").replace("`", "")[:300]


class FocalBot:
    """The listeners' shared state: the application, the Web API client, the workers that run
    the services, the work still to do after acknowledgements, and the connection to Slack."""

    def __init__(self, focal: App, slack: SlackConnection, workers: ServiceWorkers) -> None:
        self.focal = focal
        self.slack = slack
        self.workers = workers
        self.cmd = focal.settings.slack_command
        self.backlog = Backlog()

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401
        """A service call (its ``uow=`` added), in a worker: the event loop serves others."""
        return await self.workers.call(fn, *args, **kwargs)

    def now(self) -> Any:  # noqa: ANN401 - datetime, read at the edge
        return self.focal.clock.now()

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - a deadline for the backlog
        """Finish the acknowledged work (within ``timeout`` seconds), then let go of Slack and
        stop the workers."""
        await self.backlog.finish(timeout)
        await self.slack.close()
        await self.workers.close()

    async def who(self, user_id: str) -> Asker:
        person = await self.run(person_by_slack_id, user_id)
        locale = None
        if person is None:
            try:
                info = await self.slack.api().users_info(user=user_id, include_locale=True)
            except SlackApiError:
                info = None
            user: dict[str, Any] = (info.get("user") if info else None) or {}
            locale = user.get("locale")
            email = (user.get("profile") or {}).get("email")
            if email:
                person = await self.run(match_slack_user, user_id, email)
        if person is None:
            return Asker(user_id, None, _language(locale), self.focal.settings.timezone)
        return Asker(user_id, person, person.language.value, person.timezone)

    # ------------------------------------------------------------- commands

    async def on_command(self, body: dict[str, Any]) -> None:
        """After the ack: work out the answer, and send it to the command's response URL."""
        command = parse_command(body.get("text") or "")
        language = Language.EN.value
        try:
            asker = await self.who(body["user_id"])
            language = asker.language
            reply = await self.answer(command, asker, body)
        except DATABASE_DOWN:
            reply = phrase("database_down", language)
        except Exception:
            log.exception("/focal failed")
            reply = phrase("failed", language)
        if reply:
            await self.slack.respond(body["response_url"], reply)

    async def answer(
        self,
        command: Command | CommandError,
        asker: Asker,
        body: dict[str, Any],
    ) -> str | None:
        language = asker.language
        if isinstance(command, CommandError):
            return command_error_text(command, language=language, cmd=self.cmd)
        if isinstance(command, Help):
            return help_text(language, cmd=self.cmd)
        code = command.code if isinstance(command, Submit | NotApplicable | Status) else None
        try:
            person = _known(asker)
            if isinstance(command, Calendar):
                return await self.calendar(command, asker, person)
            return await self.personal(command, asker, person, body)
        except SubmissionRefusedError as refused:
            return self.refusal(refused, asker, code or "")

    async def calendar(self, command: Calendar, asker: Asker, person: Person) -> str:
        """The private feed links: issued on first asking, replaced on ``reset``."""
        access = await self.run(feed_access, person.handle, reset=command.reset, now=self.now())
        return calendar_text(
            access,
            language=asker.language,
            public_url=self.focal.settings.public_url,
            timezone=asker.timezone,
            cmd=self.cmd,
        )

    async def personal(
        self,
        command: Command,
        asker: Asker,
        person: Person,
        body: dict[str, Any],
    ) -> str | None:
        """The subcommands that need to know who is asking."""
        handle, language = person.handle, asker.language
        if isinstance(command, ListDeadlines):
            mine = await self.run(my_deadlines, handle, now=self.now())
            return deadlines_text(mine, language=language, timezone=asker.timezone, now=self.now())
        if isinstance(command, Status):
            return await self.run(
                status_text,
                command.code,
                now=self.now(),
                actor=handle,
                language=language,
                timezone=asker.timezone,
                cmd=self.cmd,
            )
        if isinstance(command, NotApplicable):
            code = await self.run(
                declare_not_applicable,
                command.code,
                actor=handle,
                reason=command.reason,
                now=self.now(),
            )
            return not_applicable_text(code, language=language)
        if isinstance(command, Submit) and (command.text is None or command.code is None):
            return await self.open_submit_modal(asker, command.code, body["trigger_id"], body)
        if isinstance(command, Submit) and command.code and command.text:
            return await self.submit_text(asker, command.code, command.text)
        return None  # Help, Calendar: answered before

    def refusal(self, refused: SubmissionRefusedError, asker: Asker, code: str) -> str:
        return refusal_text(
            refused.problem, refused.detail, code=code, language=asker.language, cmd=self.cmd
        )

    async def submit_text(self, asker: Asker, code: str, text: str) -> str:
        """The person's own input first; when they owe none, the one focal point's input they
        may submit as an alternate (looked up only then: it reads the whole roster)."""
        person = _known(asker)
        submission = Submission(deadline=code, text=text, actor=person.handle)
        try:
            receipt = await self.run(record_submission, submission, now=self.now())
        except SubmissionRefusedError as refused:
            if refused.problem is not Problem.NOT_ASSIGNED:
                raise
            items = await self.run(submittable, person.handle, now=self.now())
            same = [i for i in items if i.code.casefold() == code.casefold() and i.on_behalf]
            if not same:
                raise
            if len(same) > 1:
                names = ", ".join(i.owner_name for i in same)
                return phrase(
                    "several_owners", asker.language, code=code, names=names, cmd=self.cmd
                )
            receipt = await self.run(
                record_submission,
                replace(submission, person=same[0].owner),
                now=self.now(),
            )
            return receipt_text(receipt, language=asker.language, owner_name=same[0].owner_name)
        return receipt_text(receipt, language=asker.language, owner_name=person.name)

    async def open_submit_modal(
        self,
        asker: Asker,
        code: str | None,
        trigger_id: str,
        body: dict[str, Any],
    ) -> str | None:
        handle = _known(asker).handle
        items = await self.run(submittable, handle, now=self.now())
        chosen = None
        if code is not None:
            match = [i for i in items if i.code.casefold() == code.casefold()]
            if not match:  # say why it cannot be submitted
                await self.run(check_submittable, code, actor=handle, now=self.now())
                return phrase("nothing_to_submit", asker.language, cmd=self.cmd)
            first = match[0]
            chosen = Choice(first.code, first.owner if first.on_behalf else None)
        if not items:
            return phrase("nothing_to_submit", asker.language, cmd=self.cmd)
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
        view = submit_modal(
            items,
            language=asker.language,
            chosen=chosen,
            private_metadata=metadata(channel=channel, language=asker.language),
        )
        await self.slack.api().views_open(trigger_id=trigger_id, view=view)
        return None

    # -------------------------------------------------------------- modals

    async def on_submit_view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Checked, written, then answered (a refusal shows in the form); the receipt follows
        in a direct message, after the answer."""
        view = body["view"]
        language = read_metadata(view).get("language", Language.EN.value)
        chosen = state_value(view, DEADLINE)
        text = (state_value(view, TEXT) or "").strip()
        link = (state_value(view, LINK) or "").strip()
        errors: dict[str, str] = {}
        if not chosen:
            errors[DEADLINE] = phrase("modal_deadline_hint", language)
        if not text:
            errors[TEXT] = phrase("modal_empty", language)
        elif len(text) > MAX_TEXT:
            errors[TEXT] = phrase("modal_too_long", language, max_text=MAX_TEXT, n=len(text))
        if link and not link.lower().startswith(("https://", "http://")):
            errors[LINK] = phrase("modal_bad_link", language)
        if errors or chosen is None:
            await ack(response_action="errors", errors=errors)
            return
        choice = Choice.parse(chosen)
        user_id = body["user"]["id"]
        try:
            asker = await self.who(user_id)
            person = _known(asker)
            receipt = await self.run(
                record_submission,
                Submission(
                    deadline=choice.code,
                    text=text,
                    actor=person.handle,
                    person=choice.owner,
                    links=(link,) if link else (),
                ),
                now=self.now(),
            )
        except SubmissionRefusedError as refused:
            reply = refusal_text(
                refused.problem, refused.detail, code=choice.code, language=language, cmd=self.cmd
            )
            await ack(response_action="errors", errors={DEADLINE: _plain(reply)})
            return
        except DATABASE_DOWN:
            await ack(response_action="errors", errors={TEXT: phrase("database_down", language)})
            return
        await ack()
        self.backlog.add(self.send_receipt, user_id, receipt, asker.language, person.name)

    async def send_receipt(
        self, user_id: str, receipt: Receipt, language: str, actor_name: str
    ) -> None:
        owner_name = actor_name
        if receipt.on_behalf:
            owner_name = await self.run(person_name, receipt.person)
        await self.slack.post(
            user_id, receipt_text(receipt, language=language, owner_name=owner_name)
        )

    async def on_not_applicable_view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        data = read_metadata(view)
        language, code = data.get("language", Language.EN.value), data.get("code", "")
        reason = (state_value(view, REASON) or "").strip()
        if not reason or len(reason) > MAX_REASON:
            await ack(
                response_action="errors", errors={REASON: phrase("modal_reason_empty", language)}
            )
            return
        user_id = body["user"]["id"]
        try:
            asker = await self.who(user_id)
            done = await self.run(
                declare_not_applicable,
                code,
                actor=_known(asker).handle,
                reason=reason,
                now=self.now(),
            )
        except SubmissionRefusedError as refused:
            reply = refusal_text(
                refused.problem, refused.detail, code=code, language=language, cmd=self.cmd
            )
            await ack(response_action="errors", errors={REASON: _plain(reply)})
            return
        except DATABASE_DOWN:
            await ack(response_action="errors", errors={REASON: phrase("database_down", language)})
            return
        await ack()
        self.backlog.add(
            self.slack.post, user_id, not_applicable_text(done, language=asker.language)
        )

    # ------------------------------------------------------------- buttons

    async def on_button(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        code, kind = str(action.get("value") or ""), action["action_id"]
        language = Language.EN.value

        async def reply(text: str) -> None:
            await self.slack.respond(body["response_url"], text, replace_original=False)

        try:
            asker = await self.who(body["user"]["id"])
            language = asker.language
            handle = _known(asker).handle
            if kind == SUBMIT_ACTION:
                text = await self.open_submit_modal(asker, code, body["trigger_id"], body)
                if text:
                    await reply(text)
            elif kind == SNOOZE_ACTION:
                at = await self.run(
                    remind_tomorrow,
                    code,
                    handle=handle,
                    policy=self.focal.policy(),
                    now=self.now(),
                )
                await reply(snoozed_text(code, at, language=language, timezone=asker.timezone))
            elif kind == NOT_APPLICABLE_ACTION:
                code = await self.run(check_submittable, code, actor=handle, now=self.now())
                channel = (body.get("channel") or {}).get("id")
                view = not_applicable_modal(
                    code,
                    language=language,
                    private_metadata=metadata(code=code, channel=channel, language=language),
                )
                await self.slack.api().views_open(trigger_id=body["trigger_id"], view=view)
        except SubmissionRefusedError as refused:
            await reply(
                refusal_text(
                    refused.problem, refused.detail, code=code, language=language, cmd=self.cmd
                )
            )
        except DATABASE_DOWN:
            await reply(phrase("database_down", language))
