"""Rate limits: Flask-Limiter, with its per-request work kept to the limited views.

Limits live in configuration (RATE_LIMIT_START, RATE_LIMIT_DECKS); the storage is
Redis when REDIS_URL is set, so every worker and host shares one count. There are
no default limits: each limited view carries a `limiter.shared_limit` decorator,
which checks its own limit when the view runs. Flask-Limiter also hooks every
request of the app (a check for default limits, header injection, a context reset);
those hooks are kept only for the endpoints that have a limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request

from .extensions import limiter


def init_app(app: Flask) -> None:
    """Bind the limiter; scope its request hooks to the limited endpoints.

    Call after every blueprint is registered: the limited endpoints are found by
    the limiter's mark on their view functions.
    """
    limiter.init_app(app)
    limited = frozenset(
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "__wrapper-limiter-instance", None) is not None
    )
    if not limited:  # pragma: no cover - guards an upgrade that renames the mark
        raise RuntimeError("No rate-limited views found: check Flask-Limiter's mark.")
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    for hook in _hooks_of_limiter(app.after_request_funcs[None]):
        index = app.after_request_funcs[None].index(hook)
        app.after_request_funcs[None][index] = _only_for(
            limited, hook, passthrough=True
        )
    for hook in _hooks_of_limiter(app.teardown_request_funcs[None]):
        index = app.teardown_request_funcs[None].index(hook)
        app.teardown_request_funcs[None][index] = _only_for(limited, hook)


def _hooks_of_limiter(hooks: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    # Bound methods and partials of the limiter object.
    return [
        hook
        for hook in hooks
        if getattr(hook, "__self__", None) is limiter
        or limiter in getattr(hook, "args", ())
    ]


def _only_for(
    endpoints: frozenset[str], hook: Callable[..., Any], passthrough: bool = False
) -> Callable[..., Any]:
    def scoped(value: Any) -> Any:
        if request.endpoint in endpoints:
            return hook(value)
        return value if passthrough else None

    return scoped
