"""A ``Person`` read as plain columns (no ORM objects to build): the columns, and the person
made from a row of them. Shared by the roster, planning and delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.model import Language, Person
from db.models import Organization, PersonRow

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Select
    from sqlalchemy.orm import QueryableAttribute
    from sqlalchemy.sql import ColumnElement

_LANGUAGES = {language.value: language for language in Language}
#: How many of ``person_columns()``'s columns make the person; the extra ones follow.
PERSON_WIDTH = 8


def person_columns(*extra: ColumnElement[Any] | QueryableAttribute[Any]) -> Select[Any]:
    """The person's columns (with the organisation's name), then ``extra``."""
    return select(
        PersonRow.handle,
        PersonRow.name,
        PersonRow.email,
        PersonRow.timezone,
        PersonRow.language,
        PersonRow.country,
        Organization.name,
        PersonRow.slack_user_id,
        *extra,
    ).outerjoin(Organization, PersonRow.organization_id == Organization.id)


def person_from(row: Sequence[Any]) -> Person:
    """The person of a ``person_columns()`` row (its extra columns are ignored)."""
    handle, name, email, timezone, language, country, organization, slack_user_id = row[
        :PERSON_WIDTH
    ]
    return Person(
        handle=handle,
        name=name,
        email=email,
        timezone=timezone,
        language=_LANGUAGES[language],
        country=country,
        organization=organization,
        slack_user_id=slack_user_id,
    )
