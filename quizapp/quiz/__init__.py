"""Stage 2a: taking quizzes in the browser."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the quiz blueprint."""
    from .routes import bp

    app.register_blueprint(bp)
