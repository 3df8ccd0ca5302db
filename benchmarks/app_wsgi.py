"""The app as the web benchmark serves it: `gunicorn app_wsgi:app` from benchmarks/.

Everything comes from the environment (DATABASE_URL, SECRET_KEY, QUIZAPP_ENV) as in
production, except the rate limits: a load generator from one address would hit the
"start" and "decks" limits within a second, so the benchmark raises them out of reach.
CSRF protection stays on; the benchmark scrapes real tokens.
"""

from __future__ import annotations

from typing import Any

from quizapp import create_app

BENCHMARK_OVERRIDES: dict[str, Any] = {
    "RATE_LIMIT_START": "1000000 per minute",
    "RATE_LIMIT_DECKS": "1000000 per minute",
    "RATE_LIMIT_ANSWER": "1000000 per minute",
    "RATE_LIMIT_WRITE": "1000000 per minute",
    "RATE_LIMIT_STUDY": "1000000 per minute",
}

app = create_app(BENCHMARK_OVERRIDES)
