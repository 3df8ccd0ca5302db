"""Rate limits are shared by every gunicorn worker through Redis (REDIS_URL)."""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine

from tests.conftest import FIXTURE_CONTENT
from tests.live_server import Browser, gunicorn, sqlite_file_with_fixture_bank

REDIS_URL = os.environ.get("REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set (PostgreSQL lane)")
def test_start_limit_is_shared_by_all_workers(tmp_path):
    url = sqlite_file_with_fixture_bank(tmp_path)
    limits = {
        "RATE_LIMIT_START": "2 per minute",
        # A fresh key space, so earlier runs against the same Redis do not count.
        "RATE_LIMIT_KEY_PREFIX": f"test-{secrets.token_hex(8)}",
    }
    log_path = tmp_path / "gunicorn.log"
    with gunicorn(
        url,
        FIXTURE_CONTENT,
        log_path,
        workers=3,
        overrides=limits,
        environ={"REDIS_URL": REDIS_URL or ""},
    ) as base_url:
        # Separate connections land on different workers; per-worker memory would
        # let up to 2 x 3 through, one shared count lets exactly 2.
        statuses = [
            Browser(base_url).post("/quizzes/fx-exam/start").status for _ in range(9)
        ]
        refused = Browser(base_url).post("/quizzes/fx-exam/start")
    assert statuses.count(302) == 2, statuses
    assert statuses.count(429) == 7, statuses
    assert refused.status == 429
    create_engine(url).dispose()
