"""The types added through the registry, in the browser on the fixture bank.

The real bank's items of these types wait for the writers' merge, so the fixture
bank (one question of every type) is served instead: each new type is built in
the quiz builder, answered by keyboard only at 1280 and 360 px and without
JavaScript, reviewed in the feedback and the results, and axe-core finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import FIXTURE_CONTENT

from .conftest import DESKTOP, MOBILE, serve
from .support import (
    activate,
    answer_question,
    build_quiz,
    expect_feedback,
    expect_no_axe_violations,
    expect_results,
    finish,
    prompt_text,
    skip_to_content,
    tab_to,
)

pytestmark = pytest.mark.browser
NEW_TYPES = ["numeric", "ordering"]


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(FIXTURE_CONTENT, tmp_path_factory.mktemp("types")) as url:
        yield url


@pytest.fixture
def fixture_page(browser: Browser, fixture_server: str) -> Iterator:
    """Open a page on the fixture bank in a fresh context, JS on or off."""
    contexts = []

    def open_(viewport: ViewportSize = DESKTOP, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=fixture_server,
            viewport=viewport,
            java_script_enabled=javascript,
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "360px"])
@pytest.mark.parametrize("qtype", NEW_TYPES)
def test_a_new_type_by_keyboard_with_feedback_and_results_and_no_axe_violations(
    fixture_page, qtype: str, viewport: ViewportSize
) -> None:
    page = fixture_page(viewport)
    build_quiz(page, types=[qtype], count=1)
    expect(page.locator("form.answer-form")).to_have_attribute(
        "data-question-type", qtype
    )
    prompt = prompt_text(page)
    expect_no_axe_violations(page, f"{qtype} question")
    answer_question(page)
    expect_feedback(page)
    expect_no_axe_violations(page, f"{qtype} feedback")
    page.emulate_media(color_scheme="dark")
    expect_no_axe_violations(page, f"{qtype} feedback, dark theme")
    page.emulate_media(color_scheme="light")
    skip_to_content(page)
    activate(page, page.get_by_role("link", name="Finish the attempt"))
    finish(page, "Custom practice", 1)
    expect_results(page, "Custom practice", [prompt])
    expect_no_axe_violations(page, f"{qtype} results")


@pytest.mark.parametrize("qtype", NEW_TYPES)
def test_a_new_type_works_without_javascript(fixture_page, qtype: str) -> None:
    page = fixture_page(MOBILE, javascript=False)
    build_quiz(page, types=[qtype], count=1, mode="exam")
    prompt = prompt_text(page)
    answer_question(page)
    finish(page, "Custom exam", 1)
    expect_results(page, "Custom exam", [prompt])
    # (axe-core needs JavaScript: the pages above are checked with it on.)
    expect(page.locator(".review-item .answer-table")).to_be_visible()


def test_a_number_that_is_not_one_comes_back_with_the_answer_kept(
    fixture_page,
) -> None:
    page = fixture_page(DESKTOP)
    build_quiz(page, types=["numeric"], count=1)
    box = page.locator("form.answer-form").get_by_role("textbox")
    box.fill("1e309")
    page.get_by_role("button", name="Check answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Type a number")
    expect(box).to_have_value("1e309")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect_no_axe_violations(page, "numeric question with an error")


def test_ordering_buttons_move_an_item_by_keyboard_and_say_where_it_went(
    fixture_page,
) -> None:
    page = fixture_page(MOBILE)
    build_quiz(page, types=["ordering"], count=1)
    form = page.locator("form.answer-form")
    rows = form.locator(".order-row")
    first = rows.nth(0).locator("label").inner_text()
    second = rows.nth(1).locator("label").inner_text()
    down = form.get_by_role("button", name=f"Move down {first}")
    skip_to_content(page)
    tab_to(page, down)

    page.keyboard.press("Enter")

    expect(rows.nth(0).locator("label")).to_have_text(second)
    expect(rows.nth(1).locator("label")).to_have_text(first)
    expect(rows.nth(1).locator("select")).to_have_value("2")
    expect(rows.nth(0).locator("select")).to_have_value("1")
    expect(down).to_be_focused()  # focus travels with the item
    status = form.locator("[data-reorder-status]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text(f"“{first}” moved to position 2 of 4.")
    page.keyboard.press("Shift+Tab")  # its Move up button
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(rows.nth(0).locator("label")).to_have_text(first)
    expect(status).to_have_text(f"“{first}” is already first.")
    expect_no_axe_violations(page, "ordering question after moves")


def test_an_order_that_is_not_a_permutation_comes_back_without_javascript(
    fixture_page,
) -> None:
    page = fixture_page(DESKTOP, javascript=False)
    build_quiz(page, types=["ordering"], count=1)
    form = page.locator("form.answer-form")
    expect(form.locator("button.order-move")).to_have_count(0)
    selects = form.locator("select")
    selects.nth(1).select_option("1")  # two items at position 1
    form.get_by_role("button", name="Check answer").click()
    expect(page.get_by_role("alert")).to_contain_text("given to more than one item")
    expect(form.locator("select").nth(1)).to_have_value("1")  # kept
    expect(form.locator("select").nth(0)).to_have_value("1")
