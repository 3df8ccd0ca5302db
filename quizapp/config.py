"""Configuration: safe defaults here, overrides from the environment at app creation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` URLs hosting platforms give, and pick psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str | None:
    """The key in instance/secret_key (`make run` writes one), or None without it."""
    path = Path(instance_path) / "secret_key"
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return key or None


def default_config(instance_path: str) -> dict[str, Any]:
    """Defaults that work on a fresh clone: SQLite in instance/, content/ beside us.

    There is no built-in SECRET_KEY: without one from the environment or
    instance/secret_key, the app serves only 503 pages (see serving.py).
    """
    return {
        "SECRET_KEY": instance_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": "sqlite:///"
        + os.path.join(instance_path, "quizapp.sqlite"),
        "CONTENT_DIR": str(PROJECT_ROOT / "content"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 365,
        # The cookie is re-sent when the session changes (and once a day, by the
        # learner's day stamp: quiz/learners.py), not with every response.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": False,
        "PRODUCTION": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATE_LIMIT_START": "60 per minute",
        "RATE_LIMIT_DECKS": "20 per minute",
        "RATE_LIMIT_ANSWER": "600 per minute",
        "RATE_LIMIT_WRITE": "120 per minute",
        "RATE_LIMIT_STUDY": "120 per minute",
        "RATE_LIMIT_KEY_PREFIX": "quizapp:",
        # SQLite in WAL mode only: NORMAL syncs the log at checkpoints, not at every
        # commit. A power loss or OS crash may drop the last commits; it never
        # corrupts the file, and an app crash loses nothing. FULL syncs each commit.
        "SQLITE_SYNCHRONOUS": "NORMAL",
        "CATALOGUE_PAGE_SIZE": 24,
        "CONTENT_CACHE_BYTES": 64 * 1024 * 1024,
        # Study history uploads (/progress/import): an Anki export with scheduling
        # (.apkg or .colpkg, best without media) or our JSON progress file. Over the
        # size: 413. Reading runs in a child process with these bounds.
        "HISTORY_UPLOAD_BYTES": 32 * 1024 * 1024,
        "HISTORY_UNPACKED_BYTES": 256 * 1024 * 1024,
        "HISTORY_PARSE_SECONDS": 30,
        "HISTORY_PARSE_MEMORY_BYTES": 1024 * 1024 * 1024,
        "HISTORY_MAX_REVIEWS": 100_000,
        "RATE_LIMIT_IMPORT": "10 per hour",
        "RATE_LIMIT_TRANSFER": "10 per minute",
        "TRUSTED_HOSTS": None,  # Flask's own setting: None answers any Host header
        "TRUSTED_PROXIES": 0,
    }


def environment_config(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """The overrides this deployment sets: DATABASE_URL, SECRET_KEY, CONTENT_DIR, ..."""
    config: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            environ["DATABASE_URL"]
        )
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("CONTENT_DIR"):
        config["CONTENT_DIR"] = environ["CONTENT_DIR"]
    if environ.get("REDIS_URL"):
        config["RATELIMIT_STORAGE_URI"] = environ["REDIS_URL"]
    if environ.get("SQLITE_SYNCHRONOUS"):
        config["SQLITE_SYNCHRONOUS"] = sqlite_synchronous(environ["SQLITE_SYNCHRONOUS"])
    if environ.get("QUIZAPP_ENV") == "production":
        config["PRODUCTION"] = True
        config["SESSION_COOKIE_SECURE"] = True
    if environ.get("TRUSTED_HOSTS"):
        hosts = [h.strip() for h in environ["TRUSTED_HOSTS"].split(",") if h.strip()]
        config["TRUSTED_HOSTS"] = hosts or None
    if environ.get("TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = trusted_proxies(environ["TRUSTED_PROXIES"])
    if environ.get("SESSION_COOKIE_SECURE"):
        config["SESSION_COOKIE_SECURE"] = environ["SESSION_COOKIE_SECURE"] == "1"
    return config


def sqlite_synchronous(value: str) -> str:
    """SQLITE_SYNCHRONOUS as SQLite's synchronous level, NORMAL or FULL."""
    level = value.strip().upper()
    if level not in ("NORMAL", "FULL"):
        raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {value!r}")
    return level


def trusted_proxies(value: str) -> int:
    """TRUSTED_PROXIES as a count of proxies in front of the app (0: none)."""
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(
            f"TRUSTED_PROXIES must be the number of proxies in front of the app "
            f"(0, 1, 2, ...), not {value!r}"
        )
    return count
