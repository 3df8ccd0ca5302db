"""The history page in Chromium: both directions explained, an upload refused with
its message, no axe-core violations at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import ViewportSize, expect

from .conftest import DESKTOP, MOBILE, OpenPage
from .support import expect_no_axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "360px"])
def test_history_page_and_a_refused_upload(
    open_page: OpenPage, viewport: ViewportSize
) -> None:
    page = open_page(viewport)
    page.goto("/progress")
    page.get_by_role("link", name="Bring in your reviews from Anki").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your study history, here and in Anki"
    )
    expect(
        page.get_by_role("link", name="Download the deck with your progress")
    ).to_be_visible()
    expect_no_axe_violations(page, "history page")
    page.get_by_label("Your Anki export").set_input_files(
        files=[
            {
                "name": "notes.apkg",
                "mimeType": "application/octet-stream",
                "buffer": b"not a zip",
            }
        ]
    )
    page.get_by_role("button", name="Upload and merge").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was imported")
    expect(alert).to_contain_text("This is not an Anki package")
    expect_no_axe_violations(page, "history page with an error")
