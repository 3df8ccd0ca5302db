"""Peacekeeping study app: content files -> database -> web quiz | Anki deck."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import PROJECT_ROOT, default_config, environment_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_mapping(environment_config(os.environ))
    if overrides:
        app.config.from_mapping(overrides)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import cli, database, errors, health, quiz, ratelimits, security, study
    from .serving import init_app as init_serving
    from .study import device_routes

    init_serving(app)  # first: its hook runs before every other one
    database.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    ratelimits.init_app(app)
    quiz.init_app(app)
    study.init_app(app)
    device_routes.init_app(app)  # /device, /device/join, /progress/export.json
    security.init_app(app)  # CSRF on every POST: after the views are registered
    cli.init_app(app)
    return app
