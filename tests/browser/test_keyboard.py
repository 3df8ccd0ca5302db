"""A practice quiz and an exam, from the catalogue to the results, by keyboard only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from .conftest import DESKTOP, MOBILE, OpenPage
from .support import (
    activate,
    answer_question,
    build_quiz,
    expect_feedback,
    expect_results,
    finish,
    prompt_text,
    screenshot,
    skip_to_content,
    tab_to,
)

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize(
    "viewport", [DESKTOP, MOBILE], ids=["desktop", "360px"]
)


def start_from_catalogue(page: Page, title: str) -> int:
    """Tab from the top of the catalogue to a quiz's Start button; its length."""
    page.goto("/")
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )
    total = int(card.locator("dt:text-is('Questions') + dd").inner_text())
    activate(page, card.get_by_role("button", name=f"Start {title}", exact=True))
    expect(page.locator("#counter")).to_have_text(f"Question 1 of {total}")
    return total


@WIDTHS
def test_practice_quiz_by_keyboard_shows_feedback_then_results(
    open_page: OpenPage, viewport: ViewportSize
) -> None:
    page = open_page(viewport)
    total = start_from_catalogue(page, "Mixed review")
    assert total == 15
    prompts = []
    for number in range(1, total + 1):
        expect(page.locator("#counter")).to_have_text(f"Question {number} of {total}")
        expect(page.locator("#progress-label")).to_have_text(
            f"{number - 1} of {total} answered"
        )
        prompts.append(prompt_text(page))
        answer_question(page)
        expect_feedback(page)
        skip_to_content(page)
        if number < total:
            activate(page, page.get_by_role("link", name="Next question"))
        else:
            expect(page.get_by_role("link", name="Next question")).to_have_count(0)
            activate(page, page.get_by_role("link", name="Finish the attempt"))
    finish(page, "Mixed review", total)
    expect_results(page, "Mixed review", prompts)


@WIDTHS
def test_exam_by_keyboard_hides_feedback_until_results(
    open_page: OpenPage, viewport: ViewportSize
) -> None:
    page = open_page(viewport)
    total = start_from_catalogue(page, "Final exam")
    assert total == 20
    expect(page.locator(".timer")).to_contain_text("Time so far:")
    prompts = []
    for number in range(1, total + 1):
        expect(page.locator("#counter")).to_have_text(f"Question {number} of {total}")
        expect(page.locator("#progress-label")).to_have_text(
            f"{number - 1} of {total} answered"
        )
        expect(page.get_by_role("region", name="Feedback")).to_have_count(0)
        prompts.append(prompt_text(page))
        answer_question(page)
    # Saving the last answer leads straight to the finish page.
    expect(page.get_by_text("answers can no longer be changed")).to_be_visible()
    finish(page, "Final exam", total)
    expect_results(page, "Final exam", prompts)
    if viewport == DESKTOP:
        screenshot(page, "results.png")


def test_number_keys_pick_an_option_and_n_p_move_between_questions(
    open_page: OpenPage,
) -> None:
    page = open_page(DESKTOP)
    build_quiz(page, types=["single_choice"], count=2)
    radios = page.locator("form.answer-form").get_by_role("radio")
    page.wait_for_load_state()  # the shortcuts come with app.js, a deferred script
    tab_to(page, radios.first)  # shortcuts work only while focus is in the question
    page.keyboard.press("3")
    expect(radios.nth(2)).to_be_checked()
    expect(radios.nth(2)).to_be_focused()
    expect(page.get_by_role("radio", checked=True)).to_have_count(1)
    page.keyboard.press("n")
    expect(page.locator("#counter")).to_have_text("Question 2 of 2")
    page.wait_for_load_state()
    tab_to(page, page.locator("form.answer-form").get_by_role("radio").first)
    page.keyboard.press("p")
    expect(page.locator("#counter")).to_have_text("Question 1 of 2")
