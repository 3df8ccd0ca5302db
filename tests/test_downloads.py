"""Deck downloads from the web: headers, contents, caching and rate limits."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest
from anki.collection import Collection

import quizapp.anki as anki_module
from quizapp.anki import DeckBuild
from tests.conftest import FIXTURE_CONTENT, load_content, make_app
from tests.test_anki import import_deck
from tests.test_quiz import answer, attempt_row, start


def deck_from(reply) -> DeckBuild:
    return DeckBuild(data=reply.data, notes=0, cards=0)


def assert_attachment(reply, filename: str) -> None:
    assert reply.status_code == 200
    assert reply.mimetype == "application/octet-stream"
    assert reply.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.data[:2] == b"PK"  # a zip, never an HTML page


def test_whole_bank_downloads_as_an_attachment_that_anki_imports(
    loaded_app, client, collection: Collection, tmp_path: Path
):
    reply = client.get("/decks/bank.apkg")
    assert_attachment(reply, "peacekeeping-bank.apkg")
    log = import_deck(collection, deck_from(reply), tmp_path)
    assert len(log.log.new) == 8


def test_essay_and_quiz_decks_download_and_unknown_ones_are_404(loaded_app, client):
    slug = "cooperation-peacekeeping-missions"
    assert_attachment(
        client.get(f"/decks/essays/{slug}.apkg"), f"peacekeeping-{slug}.apkg"
    )
    assert_attachment(
        client.get("/decks/quizzes/fx-exam.apkg"), "peacekeeping-fx-exam.apkg"
    )
    assert client.get("/decks/essays/atlantis.apkg").status_code == 404
    assert client.get("/decks/quizzes/atlantis.apkg").status_code == 404


def test_missed_deck_holds_only_the_missed_questions(
    loaded_app, client, collection: Collection, tmp_path: Path
):
    attempt_id = start(client, "fx-exam")
    assert client.get(f"/attempts/{attempt_id}/missed.apkg").status_code == 409
    answer(client, loaded_app, attempt_id, 1, correct=True)
    answer(client, loaded_app, attempt_id, 2, correct=False)
    client.post(f"/attempts/{attempt_id}/finish")
    reply = client.get(f"/attempts/{attempt_id}/missed.apkg")
    assert_attachment(reply, "peacekeeping-missed.apkg")
    log = import_deck(collection, deck_from(reply), tmp_path)
    assert len(log.log.new) == 3  # questions 2-4 of four; question 1 was right
    missed = set(attempt_row(loaded_app, attempt_id).question_ids[1:])
    ids = {
        collection.get_note(note_id)["Question ID"]
        for note_id in collection.find_notes("")
    }
    assert ids == missed


def test_a_burst_of_downloads_builds_the_deck_once(loaded_app, client, monkeypatch):
    calls = []
    real = anki_module.build_deck

    def counting(questions):
        calls.append(len(questions))
        return real(questions)

    monkeypatch.setattr(anki_module, "build_deck", counting)
    bodies = {client.get("/decks/quizzes/fx-practice.apkg").data for _ in range(5)}
    assert calls == [8]
    assert len(bodies) == 1


def test_starting_attempts_is_rate_limited_with_retry_after():
    app = make_app(RATE_LIMIT_START="2 per minute")
    load_content(app)
    client = app.test_client()
    statuses = [client.post("/quizzes/fx-exam/start").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    reply = client.post("/build", data={"count": "2", "mode": "practice"})
    assert reply.status_code == 429
    assert int(reply.headers["Retry-After"]) > 0
    assert "Too many requests" in reply.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/decks/bank.apkg", "/decks/quizzes/fx-exam.apkg"])
def test_deck_downloads_are_rate_limited(path):
    app = make_app(RATE_LIMIT_DECKS="1 per minute")
    load_content(app)
    client = app.test_client()
    assert client.get(path).status_code == 200
    reply = client.get(path)
    assert reply.status_code == 429
    assert "Retry-After" in reply.headers


def test_markup_in_content_arrives_in_anki_as_text(collection: Collection, tmp_path):
    hostile = FIXTURE_CONTENT.parent / "hostile"
    app = make_app(hostile)
    load_content(app, hostile)
    reply = app.test_client().get("/decks/bank.apkg")
    assert_attachment(reply, "peacekeeping-bank.apkg")
    log = import_deck(collection, deck_from(reply), tmp_path)
    assert len(log.log.new) == 6
    rendered = ""
    for card_id in collection.find_cards(""):
        card = collection.get_card(card_id)
        rendered += card.question() + card.answer()
    assert "&lt;script&gt;" in rendered
    assert "<script>alert" not in rendered
    assert "<img src=x" not in rendered
    assert 'href="javascript:' not in rendered
    # Template syntax was not interpreted: the learner reads it literally.
    assert "{{Front}}" in html.unescape(rendered)


def test_a_content_change_builds_the_deck_afresh(app, monkeypatch, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    load_content(app, content)
    client = app.test_client()
    first = client.get("/decks/bank.apkg").data
    assert client.get("/decks/bank.apkg").data == first  # served from the cache
    questions = content / "questions" / "cooperation-peacekeeping-missions.yaml"
    text = questions.read_text(encoding="utf-8")
    questions.write_text(text.replace("Which humanitarian", "Which listed"), "utf-8")
    load_content(app, content)
    assert client.get("/decks/bank.apkg").data != first
