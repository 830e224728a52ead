"""Block Kit rendering of reminders and the digest: words, times, buttons and Slack's limits."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bots.slack.messages import (
    NOT_APPLICABLE_ACTION,
    SNOOZE_ACTION,
    SUBMIT_ACTION,
    Rendered,
    mrkdwn_section,
    reminder_buttons,
    render_digest,
    render_plain,
    render_reminder,
    render_review,
)
from bots.slack.wording import words_in
from core.config_files import CODE
from core.model import Language, Person
from core.notices import (
    Digest,
    DigestLine,
    ReminderLine,
    ReminderMessage,
    ReviewNotice,
    Titled,
)
from core.reminders import ReminderKind

DUE = datetime(2026, 9, 3, 10, 0, tzinfo=UTC)  # Thu 3 Sep 2026, 17:00 in Ho Chi Minh City
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # Tue 1 Sep, 09:00 there: 2 days 8 hours before
WORKPLANS = Titled(
    "ASOEN37-WORKPLANS",
    "Work plans of the working groups",
    {"vi": "Kế hoạch công tác của các nhóm công tác"},
)
ASOEN_37 = Titled(
    "ASOEN-37",
    "37th ASEAN Senior Officials on the Environment Meeting",
    {"vi": "Hội nghị Quan chức Cấp cao ASEAN về Môi trường lần thứ 37"},
)


def person(zone: str = "Asia/Ho_Chi_Minh", language: Language = Language.EN) -> Person:
    return Person(
        handle="lan",
        name="Nguyen Thi Lan",
        email="lan@example.org",
        timezone=zone,
        language=language,
        country="VN",
    )


def line(
    kind: ReminderKind = ReminderKind.BEFORE,
    *,
    deadline: Titled = WORKPLANS,
    meeting: Titled | None = ASOEN_37,
    due_at: datetime = DUE,
    person_name: str = "Nguyen Thi Lan",
) -> ReminderLine:
    return ReminderLine(
        key=f"{deadline.code}/lan/{kind}",
        kind=kind,
        deadline=deadline,
        meeting=meeting,
        person="lan",
        person_name=person_name,
        due_at=due_at,
    )


def reminder(
    *lines: ReminderLine,
    zone: str = "Asia/Ho_Chi_Minh",
    language: Language = Language.EN,
    now: datetime = NOW,
) -> ReminderMessage:
    return ReminderMessage(recipient=person(zone, language), lines=lines, now=now)


def payload(rendered: Rendered) -> list[dict[str, Any]]:
    """The blocks as sent, parsed back into slack_sdk's models, checked and serialised again."""
    blocks = rendered.blocks_json()
    for sent in blocks:
        model = Block.parse(sent)
        assert model is not None
        assert model.to_dict() == sent  # to_dict() runs the checks of every block and element
    assert len(blocks) <= 50
    for sent in blocks:
        if sent["type"] == "header":
            assert len(sent["text"]["text"]) <= 150
        if sent["type"] == "section":
            assert len(sent["text"]["text"]) <= 3000
    return blocks


def of_type(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == kind]


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in of_type(blocks, "section")]


def coded(n: int, title: str = "Input") -> Titled:
    return Titled(f"CODE-{n:03d}", f"{title} {n}")


# ------------------------------------------------------------- reminders


def test_an_english_reminder_says_what_is_due_when_and_for_which_meeting() -> None:
    rendered = render_reminder(reminder(line()))
    blocks = payload(rendered)

    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "1 input due"}}
    [text] = sections(blocks)
    assert text.splitlines() == [
        "*Coming up*",
        "*ASOEN37-WORKPLANS* — Work plans of the working groups",
        "Meeting: *ASOEN-37* — 37th ASEAN Senior Officials on the Environment Meeting",
        "Due: Thu 3 Sep 2026, 17:00 (Asia/Ho_Chi_Minh) — in 2 days",
    ]
    assert rendered.text == "Focal: 1 input due — ASOEN37-WORKPLANS due in 2 days"


def test_a_vietnamese_reminder_is_in_vietnamese_with_translated_titles() -> None:
    other = Titled("AMME-REPORT", "Country report")  # no translation: the default title
    overdue = line(ReminderKind.OVERDUE, deadline=other, meeting=None, due_at=NOW - timedelta(2))
    rendered = render_reminder(reminder(line(), overdue, language=Language.VI))
    blocks = payload(rendered)

    assert blocks[0]["text"]["text"] == "Bạn có 2 đầu vào cần nộp"
    first, second = sections(blocks)
    assert first.splitlines() == [
        "*Sắp đến hạn*",
        "*ASOEN37-WORKPLANS* — Kế hoạch công tác của các nhóm công tác",
        "Cuộc họp: *ASOEN-37* — Hội nghị Quan chức Cấp cao ASEAN về Môi trường lần thứ 37",
        "Hạn nộp: Thứ Năm, 03/09/2026 17:00 (Asia/Ho_Chi_Minh) — còn 2 ngày",
    ]
    assert second.splitlines() == [
        "*Đã quá hạn*",
        "*AMME-REPORT* — Country report",
        "Hạn nộp: Chủ Nhật, 30/08/2026 09:00 (Asia/Ho_Chi_Minh) — quá hạn 2 ngày",
    ]
    buttons = [e["text"]["text"] for e in of_type(blocks, "actions")[0]["elements"]]
    assert buttons == ["Nộp đầu vào", "Nhắc tôi ngày mai", "Không áp dụng"]
    assert rendered.text == (
        "Focal: Bạn có 2 đầu vào cần nộp — ASOEN37-WORKPLANS còn 2 ngày, AMME-REPORT quá hạn 2 ngày"
    )


@pytest.mark.parametrize(
    ("zone", "due_at", "shown"),
    [
        ("Asia/Ho_Chi_Minh", DUE, "Thu 3 Sep 2026, 17:00 (Asia/Ho_Chi_Minh)"),
        ("Asia/Manila", DUE, "Thu 3 Sep 2026, 18:00 (Asia/Manila)"),
        ("Asia/Tokyo", DUE, "Thu 3 Sep 2026, 19:00 (Asia/Tokyo)"),
        ("Asia/Yangon", DUE, "Thu 3 Sep 2026, 16:30 (Asia/Yangon)"),
        # 23:30 UTC is already Friday in Tokyo and Yangon, and still Thursday in no ASEAN zone
        ("Asia/Tokyo", DUE.replace(hour=23, minute=30), "Fri 4 Sep 2026, 08:30 (Asia/Tokyo)"),
        ("Asia/Yangon", DUE.replace(hour=23, minute=30), "Fri 4 Sep 2026, 06:00 (Asia/Yangon)"),
    ],
)
def test_the_due_time_is_shown_in_the_recipients_timezone(
    zone: str, due_at: datetime, shown: str
) -> None:
    rendered = render_reminder(reminder(line(due_at=due_at), zone=zone))
    [text] = sections(payload(rendered))
    assert f"Due: {shown} — in " in text
    assert shown in render_plain(reminder(line(due_at=due_at), zone=zone))


def test_a_vietnamese_recipient_in_yangon_reads_the_local_date_and_time() -> None:
    message = reminder(line(due_at=DUE.replace(hour=23, minute=30)), zone="Asia/Yangon")
    message = ReminderMessage(person("Asia/Yangon", Language.VI), message.lines, NOW)
    [text] = sections(payload(render_reminder(message)))
    assert "Hạn nộp: Thứ Sáu, 04/09/2026 06:00 (Asia/Yangon) — còn 2 ngày" in text


@pytest.mark.parametrize(
    ("due_at", "english", "vietnamese"),
    [
        (NOW + timedelta(hours=5, minutes=10), "in 5 hours", "còn 5 giờ"),
        (NOW + timedelta(minutes=20), "in 20 minutes", "còn 20 phút"),
        (NOW + timedelta(days=1), "in 1 day", "còn 1 ngày"),
        (NOW - timedelta(days=3, hours=2), "3 days overdue", "quá hạn 3 ngày"),
        (NOW - timedelta(hours=1), "1 hour overdue", "quá hạn 1 giờ"),
    ],
)
def test_how_long_is_left_in_both_languages(
    due_at: datetime, english: str, vietnamese: str
) -> None:
    for language, wording in ((Language.EN, english), (Language.VI, vietnamese)):
        [text] = sections(
            payload(render_reminder(reminder(line(due_at=due_at), language=language)))
        )
        assert text.endswith(f" — {wording}")


def test_each_own_line_has_three_buttons_carrying_the_deadline_code() -> None:
    kinds = [k for k in ReminderKind if k is not ReminderKind.ESCALATION]
    lines = [line(kind, deadline=coded(i)) for i, kind in enumerate(kinds)]
    blocks = payload(render_reminder(reminder(*lines)))

    actions = of_type(blocks, "actions")
    assert len(actions) == len(kinds)
    for i, block in enumerate(actions):
        assert block["block_id"] == f"focal:CODE-{i:03d}"
        assert [(e["action_id"], e["value"], e.get("style")) for e in block["elements"]] == [
            (SUBMIT_ACTION, f"CODE-{i:03d}", "primary"),
            (SNOOZE_ACTION, f"CODE-{i:03d}", None),
            (NOT_APPLICABLE_ACTION, f"CODE-{i:03d}", None),
        ]
        labels = [e["text"]["text"] for e in block["elements"]]
        assert labels == ["Submit input", "Remind me tomorrow", "Not applicable"]
    assert (SUBMIT_ACTION, SNOOZE_ACTION, NOT_APPLICABLE_ACTION) == (
        "focal_submit",
        "focal_remind_tomorrow",
        "focal_not_applicable",
    )


def test_block_ids_stay_unique_when_a_deadline_appears_twice() -> None:
    lines = (line(ReminderKind.CHANGED), line(ReminderKind.BEFORE))
    blocks = payload(render_reminder(reminder(*lines)))
    ids = [b["block_id"] for b in of_type(blocks, "actions")]
    assert ids == ["focal:ASOEN37-WORKPLANS", "focal:ASOEN37-WORKPLANS:2"]


@pytest.mark.parametrize(
    ("kind", "english", "vietnamese"),
    [
        (ReminderKind.DUE, "*Due today*", "*Hạn nộp hôm nay*"),
        (ReminderKind.OVERDUE, "*Overdue*", "*Đã quá hạn*"),
        (ReminderKind.ASSIGNED, "*Newly assigned to you*", "*Bạn vừa được giao*"),
    ],
)
def test_each_kind_has_its_lead(kind: ReminderKind, english: str, vietnamese: str) -> None:
    for language, lead in ((Language.EN, english), (Language.VI, vietnamese)):
        [text] = sections(payload(render_reminder(reminder(line(kind), language=language))))
        assert text.splitlines()[0] == lead


def test_a_changed_deadline_says_the_new_due_time() -> None:
    moved = line(ReminderKind.CHANGED, due_at=DUE + timedelta(days=7))
    [text] = sections(payload(render_reminder(reminder(moved, zone="Asia/Manila"))))
    assert text.splitlines()[0] == (
        "*The deadline changed: now due Thu 10 Sep 2026, 18:00 (Asia/Manila)*"
    )
    vi = reminder(moved, zone="Asia/Manila", language=Language.VI)
    [text] = sections(payload(render_reminder(vi)))
    assert text.splitlines()[0] == (
        "*Hạn nộp đã thay đổi: hạn mới là Thứ Năm, 10/09/2026 18:00 (Asia/Manila)*"
    )


def test_an_escalation_names_who_is_late_and_has_no_buttons() -> None:
    late = line(ReminderKind.ESCALATION, due_at=NOW - timedelta(days=3, hours=1), person_name="Anh")
    own = line(ReminderKind.DUE, deadline=coded(1))
    rendered = render_reminder(reminder(late, own))
    blocks = payload(rendered)

    assert blocks[0]["text"]["text"] == "1 input due · 1 overdue input to follow up"
    assert [b["type"] for b in blocks] == ["header", "section", "context", "section", "actions"]
    assert sections(blocks)[0].splitlines()[0] == (
        "*Anh has not submitted ASOEN37-WORKPLANS, 3 days overdue*"
    )
    assert of_type(blocks, "context")[0]["elements"][0]["text"] == (
        "Who else is missing: `/focal status ASOEN37-WORKPLANS`"
    )
    assert [b["block_id"] for b in of_type(blocks, "actions")] == ["focal:CODE-001"]
    assert rendered.text.startswith("Focal: 1 input due · 1 overdue input to follow up — ")
    assert "ASOEN37-WORKPLANS (Anh) 3 days overdue" in rendered.text

    vi = payload(render_reminder(reminder(late, language=Language.VI)))
    assert vi[0]["text"]["text"] == "1 đầu vào quá hạn cần theo dõi"
    assert sections(vi)[0].startswith("*Anh chưa nộp ASOEN37-WORKPLANS, quá hạn 3 ngày*")
    assert not of_type(vi, "actions")


def test_a_hundred_lines_fit_in_fifty_blocks_and_name_the_rest() -> None:
    lines = [line(deadline=coded(i), due_at=DUE + timedelta(hours=i)) for i in range(100)]
    rendered = render_reminder(reminder(*lines))
    blocks = payload(rendered)

    assert len(blocks) == 50
    assert blocks[0]["text"]["text"] == "100 inputs due"
    shown = [b["elements"][0]["value"] for b in of_type(blocks, "actions")]
    assert shown == [f"CODE-{i:03d}" for i in range(len(shown))]
    rest = blocks[-1]["text"]["text"]
    assert rest.startswith(f"…and {100 - len(shown)} more: CODE-{len(shown):03d}, ")
    assert rest.endswith("CODE-099 — type `/focal deadlines`")
    assert len(rendered.text) <= 300
    assert "\n" not in rendered.text
    assert rendered.text.endswith(", …")


def test_overflow_of_many_long_codes_stays_within_one_section() -> None:
    lines = [line(deadline=Titled(f"{'X' * 70}-{i:04d}", "t")) for i in range(400)]
    blocks = payload(render_reminder(reminder(*lines, language=Language.VI)))
    assert len(blocks) == 50
    rest = blocks[-1]["text"]["text"]
    assert rest.startswith("…và 376 mục khác: ")
    assert rest.endswith(", … — gõ `/focal deadlines`")


def test_long_titles_are_cut_at_a_whole_character_and_pass_slack_validation() -> None:
    # "ệ" written as e + two combining marks: a cut must not leave an "e" without its marks
    decomposed = unicodedata.normalize("NFD", "ệ") * 700
    titles = [
        Titled("LONG-A", "A" * 2000, {"vi": decomposed}),
        Titled("LONG-B", "R&D <plan> " * 200),
    ]
    meeting = Titled("MEET", "M" * 2000)
    lines = [line(deadline=t, meeting=meeting, person_name="N" * 2000) for t in titles]
    lines.append(line(ReminderKind.ESCALATION, deadline=titles[0], person_name="N" * 2000))
    for language in Language:
        rendered = render_reminder(reminder(*lines, language=language))
        texts = sections(payload(rendered))
        assert all("…" in text for text in texts)
        assert len(rendered.text) <= 300
    vi_title = sections(payload(render_reminder(reminder(lines[0], language=Language.VI))))[0]
    cut = vi_title.splitlines()[1].removeprefix("*LONG-A* — ").removesuffix("…")
    assert 0 < cut.count("e") == cut.count("\u0323") == cut.count("\u0302")
    escaped = sections(payload(render_reminder(reminder(lines[1]))))[0].splitlines()[1]
    assert escaped.startswith("*LONG-B* — R&amp;D &lt;plan&gt; R&amp;D")
    assert "<" not in escaped
    assert not escaped.removesuffix("…").endswith(("&", "&amp", "&lt", "&g"))


# ------------------------------------------------ lines filled into shapes

BLOCK_IDS = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=255)


@given(text=st.text(min_size=1, max_size=3000))
def test_a_filled_in_section_is_what_slack_sdk_makes_of_the_same_text(text: str) -> None:
    made = SectionBlock(text=MarkdownTextObject(text=text)).to_dict()
    assert json.dumps(mrkdwn_section(text)) == json.dumps(made)


@given(
    code=st.from_regex(CODE, fullmatch=True),
    language=st.sampled_from(Language),
    block_id=BLOCK_IDS,
)
def test_filled_in_buttons_are_what_slack_sdk_makes_of_the_same_values(
    code: str, language: Language, block_id: str
) -> None:
    words = words_in(language)
    made = ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=words("submit"), action_id=SUBMIT_ACTION, value=code, style="primary"
            ),
            ButtonElement(text=words("snooze"), action_id=SNOOZE_ACTION, value=code),
            ButtonElement(
                text=words("not_applicable"), action_id=NOT_APPLICABLE_ACTION, value=code
            ),
        ],
    ).to_dict()
    assert json.dumps(reminder_buttons(code, language, block_id)) == json.dumps(made)


def test_values_slack_would_refuse_are_refused_as_slack_sdk_refuses_them() -> None:
    for fill, make in (
        (lambda: mrkdwn_section("x" * 3001), lambda: _section_model("x" * 3001).to_dict()),
        (lambda: reminder_buttons("C", "en", "b" * 256), lambda: _actions("C", "b" * 256)),
        (lambda: reminder_buttons("C" * 2001, "en", "b"), lambda: _actions("C" * 2001, "b")),
    ):
        with pytest.raises(SlackObjectFormationError):
            make()
        with pytest.raises(SlackObjectFormationError):
            fill()


def _section_model(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _actions(code: str, block_id: str) -> dict[str, Any]:
    button = ButtonElement(text="Submit input", action_id=SUBMIT_ACTION, value=code)
    return ActionsBlock(block_id=block_id, elements=[button]).to_dict()


def test_filled_in_blocks_are_not_shared_with_the_shapes() -> None:
    first = reminder_buttons("A-1", "en", "focal:A-1")
    reminder_buttons("B-2", "en", "focal:B-2")
    assert {e["value"] for e in first["elements"]} == {"A-1"}
    assert first["block_id"] == "focal:A-1"
    assert mrkdwn_section("one")["text"]["text"] == "one"
    assert mrkdwn_section("two")["text"]["text"] == "two"


def test_rendering_is_a_function_of_the_message() -> None:
    message = reminder(line(), line(ReminderKind.ESCALATION, deadline=coded(2)))
    assert render_reminder(message).blocks_json() == render_reminder(message).blocks_json()
    assert render_reminder(message).text == render_reminder(message).text


def test_the_plain_form_of_a_reminder_has_the_same_content_without_mrkdwn() -> None:
    titled = Titled("RND-1", "R&D <plan>")
    lines = [line(), line(ReminderKind.ESCALATION, deadline=titled, person_name="Anh")]
    text = render_plain(reminder(*lines, zone="Asia/Tokyo"))

    assert text.splitlines()[:5] == [
        "Focal: 1 input due · 1 overdue input to follow up",
        "",
        "Coming up",
        "ASOEN37-WORKPLANS — Work plans of the working groups",
        "Meeting: ASOEN-37 — 37th ASEAN Senior Officials on the Environment Meeting",
    ]
    assert "Due: Thu 3 Sep 2026, 19:00 (Asia/Tokyo) — in 2 days" in text
    assert "RND-1 — R&D <plan>" in text
    assert "Anh has not submitted RND-1" in text
    assert "*" not in text
    assert "`" not in text
    assert "&amp;" not in text


def test_the_plain_form_lists_every_line() -> None:
    lines = [line(deadline=coded(i)) for i in range(100)]
    text = render_plain(reminder(*lines, language=Language.VI))
    assert text.startswith("Focal: Bạn có 100 đầu vào cần nộp\n")
    assert all(f"CODE-{i:03d} — Input {i}" in text for i in range(100))


# ---------------------------------------------------------------- digest


def digest_line(
    deadline: Titled,
    due_at: datetime,
    *,
    meeting: Titled | None = ASOEN_37,
    submitted: int = 3,
    missing: tuple[str, ...] = ("Anh", "Somchai"),
    not_applicable: int = 0,
) -> DigestLine:
    return DigestLine(
        deadline=deadline,
        meeting=meeting,
        due_at=due_at,
        assigned=submitted + len(missing) + not_applicable,
        submitted=submitted,
        not_applicable=not_applicable,
        missing=missing,
    )


def digest(
    due_soon: tuple[DigestLine, ...] = (),
    overdue: tuple[DigestLine, ...] = (),
    *,
    language: Language = Language.EN,
) -> Digest:
    return Digest(
        day=date(2026, 9, 1),
        timezone="Asia/Manila",
        language=language,
        due_soon=due_soon,
        overdue=overdue,
        now=NOW,
    )


REPORT = Titled("AMME-REPORT", "Country report", {"vi": "Báo cáo quốc gia"})


def example_digest(language: Language = Language.EN) -> Digest:
    late = digest_line(REPORT, NOW - timedelta(days=2), meeting=None, not_applicable=1)
    soon = digest_line(WORKPLANS, DUE, submitted=4, missing=("Budi",))
    return digest((soon,), (late,), language=language)


def test_the_digest_lists_what_is_overdue_and_what_is_due_soon() -> None:
    rendered = render_digest(example_digest())
    blocks = payload(rendered)

    assert [b["type"] for b in blocks] == ["header", "section", "divider", "section"]
    assert blocks[0]["text"]["text"] == "Focal digest — Tue 1 Sep 2026"
    overdue, soon = sections(blocks)
    assert overdue.splitlines() == [
        "*Overdue (1)*",
        "• *AMME-REPORT* — Country report",
        (
            "    Due Sun 30 Aug 2026, 10:00 (Asia/Manila) · 2 days overdue · 3/6 submitted"
            " · 1 not applicable · missing: Anh, Somchai"
        ),
    ]
    assert soon.splitlines() == [
        "*Due within 14 days (1)*",
        "• *ASOEN37-WORKPLANS* — Work plans of the working groups (ASOEN-37)",
        "    Due Thu 3 Sep 2026, 18:00 (Asia/Manila) · in 2 days · 4 submitted · 1 missing",
    ]
    assert rendered.text == "Focal digest — Tue 1 Sep 2026: 1 overdue, 1 due within 14 days"


def test_the_digest_in_vietnamese() -> None:
    rendered = render_digest(example_digest(Language.VI))
    blocks = payload(rendered)

    assert blocks[0]["text"]["text"] == "Focal: bản tổng hợp — Thứ Ba, 01/09/2026"
    overdue, soon = sections(blocks)
    assert overdue.splitlines() == [
        "*Quá hạn (1)*",
        "• *AMME-REPORT* — Báo cáo quốc gia",
        (
            "    Hạn nộp Chủ Nhật, 30/08/2026 10:00 (Asia/Manila) · quá hạn 2 ngày · đã nộp 3/6"
            " · 1 không áp dụng · còn thiếu: Anh, Somchai"
        ),
    ]
    assert soon.splitlines()[0] == "*Đến hạn trong 14 ngày tới (1)*"
    assert soon.splitlines()[2].endswith("· còn 2 ngày · đã nộp 4 · còn thiếu 1")
    assert rendered.text.endswith(": 1 quá hạn, 1 đến hạn trong 14 ngày tới")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.EN, "Nothing needs action: no input is overdue or due within 14 days."),
        (
            Language.VI,
            "Không có việc cần xử lý: không có đầu vào nào quá hạn hoặc đến hạn trong 14 ngày tới.",
        ),
    ],
)
def test_an_empty_digest_says_nothing_needs_action(language: Language, words: str) -> None:
    rendered = render_digest(digest(language=language))
    blocks = payload(rendered)
    assert [b["type"] for b in blocks] == ["header", "section"]
    assert sections(blocks) == [words]
    assert rendered.text.endswith(f": {words}")
    assert words in render_plain(digest(language=language))


def test_a_large_digest_packs_lines_into_sections_within_fifty_blocks() -> None:
    names = tuple(f"Person {i}" for i in range(300))
    overdue = tuple(
        digest_line(coded(i, "x" * 2000), NOW - timedelta(days=1), missing=names)
        for i in range(400)
    )
    soon = tuple(digest_line(coded(i + 400), DUE) for i in range(400))
    blocks = payload(render_digest(digest(soon, overdue)))

    assert len(blocks) == 50
    rest = blocks[-1]["text"]["text"]
    assert rest.startswith("…and ")
    assert rest.endswith(" — type `/focal status CODE`")
    listed = sum(row.startswith("• ") for text in sections(blocks) for row in text.splitlines())
    left_off = int(rest.removeprefix("…and ").split(" ", 1)[0])
    assert listed + left_off == 800


def test_a_digest_with_a_few_hundred_lines_keeps_them_all() -> None:
    soon = tuple(digest_line(coded(i), DUE, meeting=None) for i in range(120))
    blocks = payload(render_digest(digest(soon)))
    texts = sections(blocks)
    assert len(texts) > 1
    assert sum(text.count("• ") for text in texts) == 120
    assert "…and" not in texts[-1]


def test_the_plain_form_of_the_digest_has_the_codes_without_mrkdwn() -> None:
    text = render_plain(example_digest())
    assert text.startswith("Focal digest — Tue 1 Sep 2026\n\nOverdue (1)\n• AMME-REPORT — ")
    assert "ASOEN37-WORKPLANS" in text
    assert "missing: Anh, Somchai" in text
    assert "*" not in text


# ---------------------------------------------------------------- review


def review_notice(
    *,
    accepted: bool = True,
    note: str | None = None,
    language: Language = Language.EN,
    owner: str = "lan",
    reviewer: str | None = "Hoang Minh Thu",
) -> ReviewNotice:
    """A notice to Nguyen Thi Lan (``lan``) about ``owner``'s input."""
    return ReviewNotice(
        recipient=person(language=language),
        deadline=WORKPLANS,
        person=owner,
        person_name="Nguyen Thi Lan" if owner == "lan" else "Dang Quang Minh",
        version=2,
        accepted=accepted,
        note=note,
        reviewer=reviewer,
        now=NOW,
        meeting=ASOEN_37,
    )


def test_an_accepted_review_says_which_version_by_whom_and_when() -> None:
    rendered = render_review(review_notice())
    blocks = payload(rendered)

    assert blocks[0]["text"]["text"] == "Your input ASOEN37-WORKPLANS v2 was accepted"
    [text] = sections(blocks)
    assert text.splitlines() == [
        "*ASOEN37-WORKPLANS* — Work plans of the working groups",
        "Meeting: *ASOEN-37* — 37th ASEAN Senior Officials on the Environment Meeting",
        "Reviewed by Hoang Minh Thu, Tue 1 Sep 2026, 09:00 (Asia/Ho_Chi_Minh)",
    ]
    assert of_type(blocks, "context") == []  # nothing to do after an acceptance
    assert rendered.text == "Focal: Your input ASOEN37-WORKPLANS v2 was accepted"


def test_a_returned_review_carries_the_note_and_how_to_send_a_new_version() -> None:
    note = "Please add the 2027 budget <and> the *targets* & indicators"
    blocks = payload(render_review(review_notice(accepted=False, note=note, reviewer=None)))

    assert blocks[0]["text"]["text"] == "Your input ASOEN37-WORKPLANS v2 was returned"
    [text] = sections(blocks)
    assert "Reviewed by the focal-point office, Tue 1 Sep 2026, 09:00" in text
    assert text.splitlines()[-1] == (
        "*Note*: Please add the 2027 budget &lt;and&gt; the *targets* &amp; indicators"
    )
    [context] = of_type(blocks, "context")
    assert context["elements"][0]["text"] == "Send a new version: `/focal submit ASOEN37-WORKPLANS`"


def test_a_review_in_vietnamese_to_someone_who_submitted_for_the_focal_point() -> None:
    notice = review_notice(
        accepted=False, note="Bổ sung ngân sách", language=Language.VI, owner="minh"
    )
    assert notice.about_someone_else
    blocks = payload(render_review(notice))

    assert blocks[0]["text"]["text"] == (
        "Đầu vào ASOEN37-WORKPLANS (phiên bản 2) bạn nộp thay Dang Quang Minh đã bị trả lại"
    )
    [text] = sections(blocks)
    assert text.splitlines() == [
        "*ASOEN37-WORKPLANS* — Kế hoạch công tác của các nhóm công tác",
        "Cuộc họp: *ASOEN-37* — Hội nghị Quan chức Cấp cao ASEAN về Môi trường lần thứ 37",
        "Người xem xét: Hoang Minh Thu, Thứ Ba, 01/09/2026 09:00 (Asia/Ho_Chi_Minh)",
        "*Ghi chú*: Bổ sung ngân sách",
    ]
    [context] = of_type(blocks, "context")
    assert context["elements"][0]["text"].startswith("Gửi phiên bản mới: `/focal submit")


def test_a_long_note_is_cut_within_slacks_limits() -> None:
    blocks = payload(render_review(review_notice(accepted=False, note="ý" * 5000)))
    [text] = sections(blocks)
    assert text.endswith("…")
    assert len(text) <= 3000


def test_the_plain_form_of_a_review_has_the_same_words_without_mrkdwn() -> None:
    plain = render_plain(review_notice(accepted=False, note="a <b> & *c*"))
    assert plain.splitlines() == [
        "Focal: Your input ASOEN37-WORKPLANS v2 was returned",
        "",
        "ASOEN37-WORKPLANS — Work plans of the working groups",
        "Meeting: ASOEN-37 — 37th ASEAN Senior Officials on the Environment Meeting",
        "Reviewed by Hoang Minh Thu, Tue 1 Sep 2026, 09:00 (Asia/Ho_Chi_Minh)",
        "Note: a <b> & *c*",
        "",
        "Send a new version: /focal submit ASOEN37-WORKPLANS",
    ]


def test_a_review_notice_key_names_the_input_version_decision_recipient_and_time() -> None:
    accepted, returned = review_notice(), review_notice(accepted=False)
    assert accepted.keys == ("review/ASOEN37-WORKPLANS/lan/v2/accepted/lan/20260901T020000Z",)
    assert returned.key != accepted.key
    assert review_notice().keys == accepted.keys  # the same review, the same key
