"""What a keyboard user does: move focus with Tab, answer, submit; and axe checks.

No helper here clicks, checks or focuses through Playwright: every move is a key
press, and focus is only read back (never set) to know where the user stands.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

# The README's screenshots are refreshed on request (`make screenshots`), so that
# an ordinary test run does not rewrite tracked files with a new random draw.
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS = (
    README_SCREENSHOTS
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "quizapp-screenshots"
)
TYPE_LABELS = {
    "single_choice": "Single choice",
    "multiple_response": "Multiple response",
    "true_false": "True false",
    "cloze": "Cloze",
    "short_answer": "Short answer",
    "matching": "Matching",
    "numeric": "Numeric",
    "ordering": "Ordering",
}
# What Tab lands on inside each type's answer form (before the submit button).
CONTROLS = {
    "single_choice": {"radio"},
    "true_false": {"radio"},
    "multiple_response": {"checkbox"},
    "short_answer": {"text"},
    "cloze": {"text"},
    "matching": {"select"},
    "numeric": {"text"},
    # A position select per item; with JavaScript, its Move up/down buttons too.
    "ordering": {"select", "button"},
}
# What a keyboard user types into a number box (the fixture bank's key).
NUMBER = "2010"
VERDICT = re.compile(r"^\s*(Correct|Partly correct \(\d+%\)|Incorrect)\s*$")

_FOCUS = """el => {
  const a = document.activeElement;
  const kind = a.tagName === "SELECT" ? "select" : (a.type || a.tagName).toLowerCase();
  const name = (a.getAttribute("aria-label") || a.textContent || a.id || "").trim();
  return [el === a, kind + ":" + name.slice(0, 40)];
}"""
_ACTIVE_KIND = """() => {
  const a = document.activeElement;
  if (a.tagName === "SELECT") return "select";
  if (a.inputMode === "decimal") return "number";
  return (a.type || a.tagName).toLowerCase();
}"""
_ACTIVE_TEXT = "() => document.activeElement.textContent.trim()"
_PROMPT = """el => {
  const copy = el.cloneNode(true);
  copy.querySelectorAll(".hint").forEach(hint => hint.remove());
  return copy.textContent;
}"""
_AXE = Axe()


def tab_to(page: Page, target: Locator, *, limit: int = 150) -> None:
    """Press Tab until `target` has focus; fail with the focus path if it never does."""
    path = []
    element = target.element_handle()  # resolved once: a locator per key is slow
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached, where = element.evaluate(_FOCUS)
        if reached:
            return
        path.append(where)
    raise AssertionError(f"Tab never reached {target}; focus went: {path}")


def skip_to_content(page: Page) -> None:
    """On a freshly loaded page, follow the skip link: focus moves to the main area.

    A page reached from one already at #main (a form posted to its own URL, then
    redirected) keeps the fragment, so Tab already starts from the main area.
    """
    if page.url.endswith("#main"):
        return
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")


def activate(page: Page, target: Locator) -> None:
    """Tab to a link or button and press Enter on it."""
    tab_to(page, target)
    page.keyboard.press("Enter")


def build_quiz(
    page: Page, *, types: Iterable[str] = (), count: int, mode: str = "practice"
) -> None:
    """Fill in the quiz builder with the keyboard and start the quiz."""
    page.goto("/build")
    expect(page.get_by_role("heading", level=1)).to_have_text("Build a quiz")
    skip_to_content(page)
    for qtype in types:
        tab_to(page, page.get_by_role("checkbox", name=TYPE_LABELS[qtype]))
        page.keyboard.press("Space")
    # The checked radio (practice) is the group's tab stop; an arrow moves the choice.
    tab_to(page, page.get_by_role("radio", name="After each question (practice)"))
    if mode == "exam":
        page.keyboard.press("ArrowDown")
        expect(page.get_by_role("radio", name="At the end (exam)")).to_be_checked()
    tab_to(page, page.get_by_label("Number of questions"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(str(count))
    activate(page, page.get_by_role("button", name="Start", exact=True))
    expect(page.locator("#counter")).to_have_text(f"Question 1 of {count}")


def prompt_text(page: Page) -> str:
    """The question's prompt as shown, without the 'select all' hint."""
    text = page.locator("#prompt").evaluate(_PROMPT)
    return " ".join(text.split())


def answer_question(page: Page) -> str:
    """Answer the question on screen with the keyboard and submit it; its type."""
    form = page.locator("form.answer-form")
    qtype = form.get_attribute("data-question-type") or ""
    submit = form.get_by_role("button", name=re.compile(r"^(Check|Save) answer$"))
    skip_to_content(page)
    tab_to(page, form.locator("input:not([type=hidden]), select").first)
    kinds: set[str] = set()
    selects = 0
    moved = False
    for _ in range(40):
        kind = page.evaluate(_ACTIVE_KIND)
        if kind == "submit":
            break
        kinds.add("text" if kind == "number" else kind)
        if kind == "radio":
            page.keyboard.press("ArrowDown")  # moves to the next option and picks it
        elif kind == "checkbox" and not form.locator(":checked").count():
            page.keyboard.press("Space")
        elif kind == "text":
            page.keyboard.type("peacekeeping")
        elif kind == "number":
            page.keyboard.type(NUMBER)
        elif kind == "select" and qtype != "ordering":
            selects += 1  # a different option in each select
            for _ in range(selects):
                page.keyboard.press("ArrowDown")
        elif (
            kind == "button"
            and not moved
            and page.evaluate(_ACTIVE_TEXT).startswith("Move down")
        ):
            # The first Move down button of an ordering question: one move, announced.
            page.keyboard.press("Enter")
            expect(form.locator("[data-reorder-status]")).to_contain_text("moved to")
            moved = True
        # Only the answer controls, no Tab stop elsewhere before the submit button.
        assert kinds <= CONTROLS[qtype], f"{qtype}: focus left the answer controls"
        page.keyboard.press("Tab")
    enhanced = form.locator("button.order-move").count() > 0
    expected = CONTROLS[qtype] - (set() if enhanced else {"button"})
    assert kinds == expected, f"{qtype}: Tab reached {kinds}"
    assert moved or not enhanced, "no Move down button was reached"
    _expect_answered(form, qtype)
    expect(submit).to_be_focused()
    page.keyboard.press("Enter")
    return qtype


def _expect_answered(form: Locator, qtype: str) -> None:
    if qtype in ("single_choice", "true_false"):
        expect(form.get_by_role("radio", checked=True)).to_have_count(1)
    elif qtype == "multiple_response":
        expect(form.get_by_role("checkbox", checked=True)).to_have_count(1)
    elif qtype == "matching":
        for select in form.locator("select").all():
            expect(select).not_to_have_value("")
    elif qtype == "numeric":
        expect(form.get_by_role("textbox")).to_have_value(NUMBER)
    elif qtype == "ordering":
        positions = [select.input_value() for select in form.locator("select").all()]
        assert sorted(positions) == [str(n) for n in range(1, len(positions) + 1)]
    else:
        for box in form.get_by_role("textbox").all():
            expect(box).to_have_value("peacekeeping")


def expect_feedback(page: Page) -> None:
    """The practice feedback for the question just answered is on screen."""
    feedback = page.get_by_role("region", name="Feedback")
    expect(feedback.locator(".verdict")).to_have_text(VERDICT)
    expect(page.locator("form.answer-form")).to_have_count(0)


def finish(page: Page, title: str, total: int) -> None:
    """On the finish page of a fully answered attempt, finish it by keyboard."""
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Finish “{title}”?")
    expect(
        page.get_by_text(f"You have answered all {total} questions.")
    ).to_be_visible()
    activate(page, page.get_by_role("button", name="Finish and see results"))


def expect_results(page: Page, title: str, prompts: list[str]) -> None:
    """The results page: heading, a percentage, and every question reviewed in order."""
    total = len(prompts)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results: {title}")
    expect(page.locator(".score strong")).to_have_text(re.compile(r"^\d{1,3}%$"))
    answered = page.locator(".results .facts div").filter(has_text="Answered")
    expect(answered.locator("dd")).to_have_text(f"{total} of {total}")
    items = page.locator(".review-item")
    expect(items).to_have_count(total)
    headings = items.locator("h3.prompt").all_inner_texts()
    assert [" ".join(h.split()) for h in headings] == [
        f"Question {number}: {prompt}" for number, prompt in enumerate(prompts, 1)
    ]
    # Each question's verdict and explanation sit under its own heading.
    expect(items.locator("h4.verdict")).to_have_count(total)
    expect(items.locator("h5", has_text="Why")).to_have_count(total)
    verdicts = items.locator(".verdict").all_inner_texts()
    assert len(verdicts) == total
    assert all(VERDICT.match(verdict) for verdict in verdicts), verdicts


def expect_no_axe_violations(page: Page, what: str) -> None:
    """axe-core finds nothing on the page as it is now."""
    results = _AXE.run(page)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"


def screenshot(page: Page, name: str) -> None:
    """Save the viewport (not the full page) for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a page reached at #main shows its top
    page.screenshot(path=SCREENSHOTS / name)
