"""Study mode: FSRS spaced repetition over the bank, and the learner's progress."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the study blueprints (/study, /progress, history in and out)."""
    from .history_routes import bp as history
    from .routes import bp

    app.register_blueprint(bp)
    app.register_blueprint(history)
