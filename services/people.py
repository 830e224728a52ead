"""Who is writing: a Slack user matched to a person of the roster.

A Slack user is matched by their Slack id, else by the e-mail Slack gives for them
(``users.info``); an id matched by e-mail is kept, so it is looked up once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.model import Person
    from services.ports import UnitOfWork


def person_by_slack_id(user_id: str, *, uow: UnitOfWork) -> Person | None:
    with uow:
        return uow.roster.person_by_slack_id(user_id)


def match_slack_user(user_id: str, email: str, *, uow: UnitOfWork) -> Person | None:
    """The person whose e-mail Slack gives for ``user_id``; their Slack id is kept."""
    with uow:
        person = uow.roster.person_by_email(email)
        if person is None:
            return None
        if person.slack_user_id != user_id:
            uow.roster.set_slack_user_id(person.handle, user_id)
            uow.commit()
    return person


def person_name(handle: str, *, uow: UnitOfWork) -> str:
    """The name a person goes by (their handle when they are no longer in the roster)."""
    with uow:
        person = uow.roster.person(handle)
    return person.name if person is not None else handle
