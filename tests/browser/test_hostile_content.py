"""Markup and template syntax in content shows as text in the browser; nothing runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.conftest import FIXTURE_CONTENT

from .conftest import DESKTOP, serve

pytestmark = pytest.mark.browser

HOSTILE = FIXTURE_CONTENT.parent / "hostile"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(HOSTILE, tmp_path_factory.mktemp("hostile")) as url:
        yield url


@pytest.fixture
def watched_page(browser: Browser, hostile_server: str) -> Iterator[tuple[Page, list]]:
    """A page that records every dialog (alert, confirm, prompt) it is asked to show."""
    context = browser.new_context(base_url=hostile_server, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    yield page, dialogs
    context.close()


INJECTED = "main script, main img, main iframe, main svg, main a[href^='javascript:']"


def assert_nothing_injected(page: Page) -> None:
    """No element came out of content: markup stayed text (CSP is only a backstop)."""
    assert page.locator(INJECTED).count() == 0, page.url


def answer_anything(page: Page) -> None:
    form = page.locator("form.answer-form")
    radios = form.get_by_role("radio")
    if radios.count():
        radios.first.check()
    for box in form.get_by_role("textbox").all():
        # A number box takes a number (markup there is refused, 400, and kept).
        number = box.get_attribute("inputmode") == "decimal"
        box.fill("2010" if number else "<script>alert('typed')</script>")
    for select in form.locator("select:not([id^=position_])").all():
        select.select_option(index=1)  # positions are preset to a valid order
    moves = form.locator("button.order-move")
    if moves.count():
        moves.nth(1).click()  # app.js moves an item whose text is markup
    form.locator("button[type=submit]").click()


def test_hostile_content_shows_as_text_and_runs_nothing(watched_page) -> None:
    page, dialogs = watched_page
    page.goto("/")
    title = page.get_by_role("heading", name="<script>alert('title')</script>")
    expect(title).to_have_text("<script>alert('title')</script> practice")
    page.get_by_role("button", name="Start <script>alert('title')</script>").click()
    for number in range(1, 7):
        expect(page.locator("#counter")).to_have_text(f"Question {number} of 6")
        assert_nothing_injected(page)
        answer_anything(page)
        expect(page.locator(".verdict")).to_be_visible()
        assert_nothing_injected(page)
        if number < 6:
            page.get_by_role("link", name="Next question").click()
    page.get_by_role("link", name="Finish").click()
    page.get_by_role("button", name="Finish and see results").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results")
    body = page.locator("main").inner_text()
    assert "<script>alert('prompt')</script>" in body
    assert "<img src=x onerror=alert('option')>" in body
    assert "{{Front}}" in body
    assert_nothing_injected(page)
    page.goto("/essays/cooperation-peacekeeping-missions")
    page.locator("details summary").first.click()
    assert_nothing_injected(page)
    page.goto("/")
    assert_nothing_injected(page)
    assert dialogs == []
