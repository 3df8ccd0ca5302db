"""Browser tests: real headless Chromium against a live server, keyboard only."""
