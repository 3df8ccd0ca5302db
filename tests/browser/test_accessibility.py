"""axe-core finds no violations on the pages a learner meets, at both widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ViewportSize, expect

from quizapp.content import read_bank
from tests.conftest import BANK_CONTENT

from .conftest import DESKTOP, MOBILE, OpenPage
from .support import (
    TYPE_LABELS,
    activate,
    answer_question,
    build_quiz,
    expect_feedback,
    expect_no_axe_violations,
    expect_results,
    finish,
    prompt_text,
    screenshot,
    skip_to_content,
    tab_to,
)

pytestmark = pytest.mark.browser
# The types the real bank has items of (tests/browser/test_types.py takes the
# fixture bank through the same steps for every type).
BANK_TYPES = sorted(
    {q.type for q in read_bank(BANK_CONTENT).questions} & set(TYPE_LABELS),
    key=list(TYPE_LABELS).index,
)


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "360px"])
def test_catalogue_has_no_axe_violations(
    open_page: OpenPage, viewport: ViewportSize
) -> None:
    page = open_page(viewport)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Study peacekeeping")
    expect(page.get_by_role("button", name="Start Final exam")).to_be_visible()
    expect(page.locator("#essays li")).to_have_count(5)
    expect_no_axe_violations(page, "catalogue")


@pytest.mark.parametrize("qtype", BANK_TYPES)
def test_question_feedback_and_results_of_each_type_have_no_axe_violations(
    open_page: OpenPage, qtype: str
) -> None:
    page = open_page(DESKTOP)
    build_quiz(page, types=[qtype], count=1)
    expect(page.locator("form.answer-form")).to_have_attribute(
        "data-question-type", qtype
    )
    prompt = prompt_text(page)
    expect_no_axe_violations(page, f"{qtype} question")
    if qtype == "single_choice":
        screenshot(page, "question.png")
        page.set_viewport_size(MOBILE)
        screenshot(page, "question-mobile.png")

    # Feedback at 360 px: the answer tables must fit (or scroll by keyboard).
    page.set_viewport_size(MOBILE)
    answer_question(page)
    expect_feedback(page)
    expect_no_axe_violations(page, f"{qtype} feedback at 360 px")
    page.emulate_media(color_scheme="dark")
    expect_no_axe_violations(page, f"{qtype} feedback at 360 px, dark theme")
    page.emulate_media(color_scheme="light")

    page.set_viewport_size(DESKTOP)
    skip_to_content(page)
    activate(page, page.get_by_role("link", name="Finish the attempt"))
    finish(page, "Custom practice", 1)
    expect_results(page, "Custom practice", [prompt])
    expect_no_axe_violations(page, f"{qtype} results")


def test_skip_link_builder_errors_and_finish_page_have_no_axe_violations(
    open_page: OpenPage,
) -> None:
    page = open_page(MOBILE)
    page.goto("/build")
    expect_no_axe_violations(page, "builder")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    tab_to(page, page.get_by_label("Number of questions"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("0")
    page.keyboard.press("Enter")  # implicit submission from a text field
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Choose between 1 and 50 questions.")
    expect(page.get_by_label("Number of questions")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect_no_axe_violations(page, "builder with errors")

    # An exam left unanswered: the finish page lists what is missing.
    build_quiz(page, count=2, mode="exam")
    skip_to_content(page)
    activate(page, page.get_by_role("link", name="Finish the attempt"))
    expect(page.get_by_text("You have not answered 2 of 2 questions.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Question \d$"))).to_have_count(2)
    expect_no_axe_violations(page, "finish page")


def test_source_link_opens_essay_at_cited_paragraph_without_axe_violations(
    open_page: OpenPage,
) -> None:
    page = open_page(DESKTOP)
    build_quiz(page, types=["short_answer"], count=1)
    answer_question(page)
    expect_feedback(page)
    # The drawn question may cite several passages, of one essay or several: the
    # essay page must highlight exactly those of its own essay.
    sources = page.locator(".source")
    links = [
        (link.get_attribute("href") or "").partition("#")
        for link in sources.locator("figcaption a").all()
    ]
    essay_url = links[0][0]  # the essay and ?from=question of the first source
    expected = sorted({anchor for url, _, anchor in links if url == essay_url})
    quote = " ".join(sources.first.locator("blockquote").inner_text().split())
    source = sources.first.locator("figcaption a")
    title, _, paragraph = source.inner_text().rpartition(", paragraph ")
    skip_to_content(page)
    activate(page, source)
    expect(page).to_have_url(re.compile(rf"/essays/[\w-]+\?from=[\w-]+#p-{paragraph}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    cited = page.locator(".passage.cited")
    expect(cited).to_have_count(len(expected))
    assert sorted(cited.evaluate_all("els => els.map(e => e.id)")) == expected
    target = page.locator(f"#p-{paragraph}")
    expect(target).to_have_class(re.compile(r"\bcited\b"))
    expect(target).to_contain_text(quote)
    # Open the linked paragraph's question list with the keyboard.
    tab_to(page, target.locator("summary"))
    page.keyboard.press("Enter")
    expect(target.locator("li.current")).to_be_visible()
    expect_no_axe_violations(page, "essay")


def test_essay_highlights_every_passage_a_question_cites(open_page: OpenPage) -> None:
    # Every question of the bank that cites several passages of one essay, in bank
    # order: no draw, so the multi-passage case is checked on every run.
    page = open_page(DESKTOP)
    bank = read_bank(BANK_CONTENT)
    checked = 0
    for question in bank.questions:
        by_essay: dict[str, set[str]] = {}
        for src in question.sources:
            by_essay.setdefault(src.essay, set()).add(src.anchor or "")
        for essay, anchors in by_essay.items():
            if len(anchors) < 2:
                continue
            page.goto(f"/essays/{essay}?from={question.id}")
            cited = page.locator(".passage.cited")
            ids = sorted(cited.evaluate_all("els => els.map(e => e.id)"))
            assert ids == sorted(anchors), f"{question.id} on {essay}"
            checked += 1
    assert checked >= 1, "the bank has no question citing two passages of one essay"
