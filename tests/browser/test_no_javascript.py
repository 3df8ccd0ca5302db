"""Without JavaScript, a learner can still build, answer and finish a quiz."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, OpenPage
from .support import (
    activate,
    answer_question,
    build_quiz,
    expect_feedback,
    expect_results,
    finish,
    prompt_text,
    skip_to_content,
)

pytestmark = pytest.mark.browser


def test_practice_quiz_works_without_javascript(open_page: OpenPage) -> None:
    page = open_page(DESKTOP, javascript=False)
    build_quiz(page, count=2)
    prompts = []
    for number in (1, 2):
        expect(page.locator("#counter")).to_have_text(f"Question {number} of 2")
        prompts.append(prompt_text(page))
        answer_question(page)
        expect_feedback(page)
        skip_to_content(page)
        name = "Next question" if number == 1 else "Finish the attempt"
        activate(page, page.get_by_role("link", name=name))
    finish(page, "Custom practice", 2)
    expect_results(page, "Custom practice", prompts)
