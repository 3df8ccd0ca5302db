"""Rate limits on every writing route, through the `limits` library's public API.

`limit(config_key, scope)` decorates a view: each call counts against the limit
named by that configuration key (e.g. RATE_LIMIT_START = "60 per minute"), per
client address and scope, in the storage RATELIMIT_STORAGE_URI names (Redis when
REDIS_URL is set, so every worker and host shares one count). Beyond it the view
answers 429 with Retry-After; limited responses carry X-RateLimit-* headers. No
hook runs on requests to views without a limit.

Every POST route is limited or named in NO_LIMIT with the reason
(tests/test_ratelimits.py lists the routes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, make_response, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "quizapp.ratelimits"

#: The views `limit` decorated (the wrappers, as app.view_functions holds them).
LIMITED: set[Callable[..., Any]] = set()

#: POST endpoints deliberately without a limit, and why.
NO_LIMIT: dict[str, str] = {}


class RateLimits:
    """An app's limiter: its storage, and each configured limit parsed once."""

    def __init__(self, app: Flask) -> None:
        """Connect to the app's rate-limit storage."""
        self.storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.prefix = str(app.config.get("RATE_LIMIT_KEY_PREFIX", ""))
        self._items: dict[str, RateLimitItem] = {}

    def item(self, config_key: str) -> RateLimitItem:
        """The limit configured under `config_key`."""
        text = str(current_app.config[config_key])
        found = self._items.get(text)
        if found is None:
            found = self._items[text] = parse(text)
        return found

    def hit(self, config_key: str, scope: str) -> tuple[RateLimitItem, bool, Any]:
        """Count one call of `scope` by this client: (limit, allowed, window stats)."""
        item = self.item(config_key)
        key = (self.prefix + (request.remote_addr or ""), scope)
        allowed = self.limiter.hit(item, *key)
        return item, allowed, self.limiter.get_window_stats(item, *key)


def init_app(app: Flask) -> None:
    """Give the app its limiter."""
    app.extensions[EXTENSION] = RateLimits(app)


def limit(config_key: str, scope: str) -> Callable[[F], F]:
    """Limit a view to the rate configured as `config_key`, per client in `scope`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Response:
            limits: RateLimits = current_app.extensions[EXTENSION]
            item, allowed, stats = limits.hit(config_key, scope)
            reset = max(1, math.ceil(stats.reset_time - time.time()))
            headers = {
                "X-RateLimit-Limit": str(item.amount),
                "X-RateLimit-Remaining": str(max(0, stats.remaining)),
                "X-RateLimit-Reset": str(int(stats.reset_time)),
            }
            if not allowed:
                refused = TooManyRequests(retry_after=reset)
                refused.limit_headers = headers  # type: ignore[attr-defined]
                raise refused
            response = make_response(view(*args, **kwargs))
            response.headers.update(headers)
            return response

        LIMITED.add(limited)
        return limited  # type: ignore[return-value]

    return decorate
