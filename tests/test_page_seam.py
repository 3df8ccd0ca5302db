"""The page seam's contracts: stencils checked against plain Jinja, one cache per app,
caching headers by endpoint, a rate limit on every writing route."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from quizapp import ratelimits
from quizapp.quiz.cache import EXTENSION, ContentCache
from quizapp.quiz.stencils import StencilMismatch
from tests.conftest import ROOT, close_app, load_content, make_app
from tests.test_quiz import answer, attempt_row, start, text_of

QUESTION = ROOT / "templates" / "quiz" / "question.html"


def with_template(app: Flask, name: str, text: str) -> None:
    """Serve `text` as template `name` in this app (a contributor's edit)."""
    app.jinja_env.loader = ChoiceLoader([DictLoader({name: text}), app.jinja_loader])
    app.jinja_env.cache = None


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        # A filter on a filled value: the stencil would print the marker upper-cased.
        ("{{ title }} <span", "{{ title|upper }} <span"),
        # A branch on two values: on the stencil both are markers, never equal.
        (
            '<p class="progress-label"',
            "{% if answered == total %}<p>All answered</p>{% endif %}"
            '<p class="progress-label"',
        ),
    ],
)
def test_a_template_edit_that_breaks_the_stencil_fails(loaded_app, original, edited):
    source = QUESTION.read_text(encoding="utf-8")
    assert original in source
    with_template(loaded_app, "quiz/question.html", source.replace(original, edited, 1))
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-exam")
    total = len(attempt_row(loaded_app, attempt_id).layout)
    for number in range(1, total + 1):
        assert answer(client, loaded_app, attempt_id, number).status_code == 302
    with pytest.raises(StencilMismatch, match=r"quiz/question\.html"):
        # Every question answered: the edited branch shows in plain Jinja.
        client.get(f"/attempts/{attempt_id}/q/1")


def test_the_same_edits_with_shape_values_render_identically(loaded_app):
    # Branching on a SHAPE field (mode) and printing values is the contract.
    source = QUESTION.read_text(encoding="utf-8")
    edited = source.replace(
        "{{ title }} <span", "{% if mode == 'exam' %}Exam: {% endif %}{{ title }} <span"
    )
    with_template(loaded_app, "quiz/question.html", edited)
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-exam")
    page = text_of(client.get(f"/attempts/{attempt_id}/q/1"))
    assert "Exam: " in page


def test_falsy_values_show_as_plain_jinja_shows_them(loaded_app):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-exam")
    page = text_of(client.get(f"/attempts/{attempt_id}/q/1"))
    assert re.search(r'<progress max="\d+" value="0"', page)
    assert "0 of " in page


def test_each_app_has_one_cache_and_apps_do_not_share_it():
    apps = [make_app(), make_app()]
    try:
        for app in apps:
            load_content(app)
            app.test_client().get("/")
        first, second = (app.extensions[EXTENSION] for app in apps)
        assert isinstance(first, ContentCache) and first is not second
        assert len(first) > 0 and len(second) > 0
    finally:
        for app in apps:
            close_app(app)


def test_cache_keys_from_request_data_stay_within_the_bound():
    app = make_app(CONTENT_CACHE_BYTES=64 * 1024)
    try:
        load_content(app)
        cache = app.extensions[EXTENSION]
        client = app.test_client()
        for index in range(300):  # 300 mount points, each its own links and pages
            reply = client.get("/", environ_base={"SCRIPT_NAME": f"/m{index}"})
            assert reply.status_code == 200
        assert cache.weight <= cache.max_bytes
        assert len(cache) < 300
    finally:
        close_app(app)


def test_every_post_route_is_rate_limited_or_says_why(loaded_app):
    unlimited = []
    for rule in loaded_app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        view = loaded_app.view_functions[rule.endpoint]
        if view not in ratelimits.LIMITED and rule.endpoint not in ratelimits.NO_LIMIT:
            unlimited.append(rule.rule)
    assert unlimited == []


def test_retrying_is_rate_limited():
    app = make_app(RATE_LIMIT_START="3 per minute")
    try:
        load_content(app)
        client = app.test_client()
        attempt_id = start(client, "fx-exam")
        assert client.post(f"/attempts/{attempt_id}/finish").status_code == 302
        statuses = [
            client.post(f"/attempts/{attempt_id}/retry").status_code for _ in range(4)
        ]
        assert statuses == [302, 302, 429, 429]
    finally:
        close_app(app)


@pytest.mark.parametrize("prefix", ["//attempts", "/%2Fattempts", "/attempts"])
def test_attempt_pages_are_never_stored_whatever_the_path_spelling(loaded_app, prefix):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-practice")
    reply = client.get(f"{prefix}/{attempt_id}/q/1")
    assert reply.headers.getlist("Cache-Control") == ["no-store"], reply.status_code


def test_personal_pages_are_private_and_public_decks_answer_304(loaded_app):
    client = loaded_app.test_client()
    for path in ("/", "/build"):
        assert client.get(path).headers["Cache-Control"] in ("private", "no-store")
    deck = client.get("/decks/quizzes/fx-practice.apkg")
    assert deck.status_code == 200 and deck.headers["ETag"]
    again = client.get(
        "/decks/quizzes/fx-practice.apkg",
        headers={"If-None-Match": deck.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""
    other = client.get(
        "/decks/bank.apkg", headers={"If-None-Match": deck.headers["ETag"]}
    )
    assert other.status_code == 200
