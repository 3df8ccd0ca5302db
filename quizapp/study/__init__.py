"""Study mode: FSRS spaced repetition over the bank, and the learner's progress."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the study blueprint (/study, /study/settings, /progress)."""
    from .routes import bp

    app.register_blueprint(bp)
