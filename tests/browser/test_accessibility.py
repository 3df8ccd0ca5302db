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
    source = page.locator(".source figcaption a").first
    title, _, paragraph = source.inner_text().rpartition(", paragraph ")
    quote = " ".join(page.locator(".source blockquote").first.inner_text().split())
    skip_to_content(page)
    activate(page, source)
    expect(page).to_have_url(re.compile(rf"/essays/[\w-]+\?from=[\w-]+#p-{paragraph}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    cited = page.locator(".passage.cited")
    expect(cited).to_have_count(1)
    expect(cited).to_have_attribute("id", f"p-{paragraph}")
    expect(cited).to_contain_text(quote)
    # Open the cited paragraph's question list with the keyboard.
    tab_to(page, cited.locator("summary"))
    page.keyboard.press("Enter")
    expect(cited.locator("li.current")).to_be_visible()
    expect_no_axe_violations(page, "essay")
