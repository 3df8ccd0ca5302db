"""Study mode in real Chromium, by keyboard only: a short day's queue, undo,
settings and the progress page, at 360 and 1280 px, with and without JavaScript,
and axe-core on every page met.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from .conftest import DESKTOP, MOBILE
from .support import (
    activate,
    answer_question,
    expect_no_axe_violations,
    skip_to_content,
    tab_to,
)

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize(
    "viewport", [DESKTOP, MOBILE], ids=["desktop", "360px"]
)
StudyPage = Callable[..., Page]
DAY = 3  # new cards per day for these tests: a short day


@pytest.fixture
def study_page(browser: Browser, live_server: str) -> Iterator[StudyPage]:
    """A fresh learner's page in Berlin's time zone (JS on or off)."""
    contexts = []

    def open_(viewport: ViewportSize = DESKTOP, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server,
            viewport=viewport,
            java_script_enabled=javascript,
            reduced_motion="reduce",
            timezone_id="Europe/Berlin",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def count(page: Page, name: str) -> str:
    return page.locator(f"#count-{name}").inner_text()


def set_new_per_day(page: Page, value: int) -> None:
    """On the settings page, by keyboard: type the daily new cards, save."""
    page.goto("/study/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Study settings")
    skip_to_content(page)
    tab_to(page, page.get_by_label("New cards per day"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(str(value))
    activate(page, page.get_by_role("button", name="Save settings"))
    expect(page.get_by_role("status")).to_have_text("Your settings are saved.")


def rate_by_keyboard(page: Page, label: str, javascript: bool) -> None:
    """On the feedback page, rate with a key (JS) or Tab + Enter (no JS)."""
    buttons = page.locator("form.rating-form button[name=rating]")
    expect(buttons).to_have_count(4)
    if javascript:
        key = {"Again": "1", "Hard": "2", "Good": "3", "Easy": "4"}[label]
        page.keyboard.press(key)
    else:
        activate(page, page.get_by_role("button", name=re.compile(f"^{label}")))
    expect(page).to_have_url(re.compile(r"/study(\?.*)?$"))


def study_one(page: Page, javascript: bool, axe: str | None = None) -> None:
    """Answer the card on screen by keyboard, check the feedback, rate it Easy."""
    answer_question(page)
    feedback = page.get_by_role("region", name="Feedback")
    expect(feedback.locator(".verdict")).to_be_visible()
    suggested = page.locator("form.rating-form button.suggested")
    expect(suggested).to_have_count(1)
    expect(suggested).to_contain_text(re.compile(r"(Again|Hard|Good)"))
    for label in ("Again", "Hard", "Good", "Easy"):
        button = page.get_by_role("button", name=re.compile(f"^{label}"))
        expect(button).to_contain_text(re.compile(r"\d+(\.\d)? (min|h|d|mo|y)"))
    if javascript:
        expect(suggested).to_be_focused()  # autofocus: Enter would take it
        expect(page.get_by_label(re.compile("^Keyboard shortcuts"))).to_be_checked()
    if axe and javascript:
        expect_no_axe_violations(page, axe)
    rate_by_keyboard(page, "Easy", javascript)


@WIDTHS
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_short_day_of_study_by_keyboard(
    study_page: StudyPage, viewport: ViewportSize, javascript: bool
) -> None:
    page = study_page(viewport, javascript=javascript)

    def axe(what: str) -> None:
        # axe-core runs as page script: the no-JS pages are checked by the JS run
        # (the same markup, less the shortcuts' switch).
        if javascript:
            expect_no_axe_violations(page, what)

    set_new_per_day(page, DAY)
    axe("settings")
    page.goto("/study")
    expect(page.locator("form.answer-form")).to_be_visible()
    assert (count(page, "due"), count(page, "new"), count(page, "done")) == (
        "0",
        str(DAY),
        "0",
    )
    axe("study question")
    for number in range(DAY):
        study_one(page, javascript, axe="study feedback" if number == 0 else None)
        expect(page.locator("#count-done")).to_have_text(str(number + 1))
    expect(page.get_by_role("heading", level=1)).to_have_text("All done for today")
    # The settings form took the browser's zone (JavaScript), else UTC.
    zone = "Europe/Berlin" if javascript else "UTC"
    expect(
        page.get_by_text(re.compile(rf"The next card is due .*\({zone}\)"))
    ).to_be_visible()
    axe("all done")

    # Undo the last rating: its card comes back, the count goes down.
    activate(page, page.get_by_role("button", name="Undo last rating"))
    expect(page.locator("form.answer-form")).to_be_visible()
    expect(page.locator("#count-done")).to_have_text(str(DAY - 1))
    expect(page.locator("#count-new")).to_have_text("1")
    study_one(page, javascript)
    expect(page.get_by_role("heading", level=1)).to_have_text("All done for today")

    page.goto("/progress")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your progress")
    expect(page.locator("#total-reviews")).to_have_text(str(DAY))
    expect(page.locator("#current-streak")).to_have_text("1 day")
    expect(
        page.get_by_role("img", name=re.compile("^Calendar of reviews"))
    ).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("^Cards due per day"))
    ).to_be_visible()
    axe("progress")
    summary = page.get_by_text("Reviews per day as a table")
    activate(page, summary)
    expect(
        page.get_by_role("table", name=re.compile("Days with reviews"))
    ).to_be_visible()
    axe("progress with the table open")


def test_keyboard_shortcuts_can_be_switched_off(study_page: StudyPage) -> None:
    page = study_page(DESKTOP)
    page.goto("/study")
    answer_question(page)
    switch = page.get_by_label(re.compile("^Keyboard shortcuts"))
    tab_to(page, switch)
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()
    page.keyboard.press("Shift+Tab")  # off the checkbox, so the key is not typed there
    page.keyboard.press("4")
    expect(page.locator("form.rating-form")).to_be_visible()  # nothing rated
    page.reload()  # the form is posted again: the switch is remembered
    expect(page.get_by_label(re.compile("^Keyboard shortcuts"))).not_to_be_checked()
    page.keyboard.press("4")
    expect(page.locator("form.rating-form")).to_be_visible()


def test_settings_default_to_the_browsers_time_zone(study_page: StudyPage) -> None:
    page = study_page(MOBILE)
    page.goto("/study/settings")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect_no_axe_violations(page, "settings at 360 px")
    skip_to_content(page)
    tab_to(page, page.get_by_label("Desired retention"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("0.99")
    activate(page, page.get_by_role("button", name="Save settings"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your settings were not saved")
    expect(alert).to_contain_text("between 0.80 and 0.97")
    expect_no_axe_violations(page, "settings with an error")


def test_settings_without_javascript_stay_utc(study_page: StudyPage) -> None:
    page = study_page(DESKTOP, javascript=False)
    page.goto("/study/settings")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
