"""The Anki exporter, checked by importing its packages with the real Anki backend."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from anki.collection import (
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    ImportLogWithChanges,
)
from anki.import_export_pb2 import ImportResponse
from anki.models import NotetypeId
from anki.notes import Note, NoteId
from flask import Flask
from flask.testing import FlaskCliRunner

from quizapp.anki import DeckBuild, build_deck, builder, deck_filename, write_deck
from quizapp.anki.builder import DeckQuestion, build_deck_plain, load_questions
from quizapp.anki.notetypes import CSS, NOTE_TYPES, STYLE_REVISION
from quizapp.extensions import db
from quizapp.models import Essay, Question
from quizapp.questions import export_query, select_questions
from tests.conftest import BANK_CONTENT, FIXTURE_CONTENT, load_content
from tests.synthetic import write_bank

ESSAY = "cooperation-peacekeeping-missions"
ESSAY_DECK = "Peacekeeping::International Cooperation: Peacekeeping Missions"
PAYLOAD = "<script>alert(1)</script> <img src=x onerror=alert(1)> {{Front}}"
# Anki's own wording when a card cannot be rendered (rslib template errors).
RENDER_ERRORS = ("has a problem", "card is blank", "No cloze", "no field called")

# Frozen on release: a change here forks the note type in every learner's collection.
FROZEN_NOTE_TYPES = {
    1951030834: (
        "Peacekeeping: choice question",
        [
            "Question",
            "Instruction",
            "Options",
            "Key",
            "Answer",
            "Explanation",
            "Accuracy note",
            "Source",
            "Question ID",
        ],
        ["Choice"],
    ),
    1122507442: (
        "Peacekeeping: fill in the blank",
        [
            "Text",
            "Prompt",
            "Accepted answers",
            "Explanation",
            "Accuracy note",
            "Source",
            "Question ID",
        ],
        ["Blank"],
    ),
    1138824049: (
        "Peacekeeping: matching pair",
        ["Pairs", "Prompt", "Explanation", "Accuracy note", "Source", "Question ID"],
        ["Pair"],
    ),
    1131986273: (
        "Peacekeeping: number",
        [
            "Question",
            "Answer",
            "Accepted answers",
            "Explanation",
            "Accuracy note",
            "Source",
            "Question ID",
        ],
        ["Number"],
    ),
    1885106863: (
        "Peacekeeping: put in order",
        [
            "Question",
            "Items",
            "Order",
            "Explanation",
            "Accuracy note",
            "Source",
            "Question ID",
        ],
        ["Order"],
    ),
    1556358264: (
        "Peacekeeping: typed answer",
        [
            "Question",
            "Answer",
            "Accepted answers",
            "Explanation",
            "Accuracy note",
            "Source",
            "Question ID",
        ],
        ["Typed"],
    ),
}


def export(app: Flask, **filters: str) -> DeckBuild:
    """Build a deck of the questions the filters select, as the CLI and web do."""
    with app.app_context():
        return build_deck(select_questions(**filters))


def import_deck(
    col: Collection, build: DeckBuild, folder: Path
) -> ImportLogWithChanges:
    """Import a package with Anki's default options (update notes if newer)."""
    path = folder / f"deck-{hashlib.sha256(build.data).hexdigest()[:12]}.apkg"
    path.write_bytes(build.data)
    request = ImportAnkiPackageRequest(
        package_path=str(path), options=ImportAnkiPackageOptions()
    )
    return col.import_anki_package(request)


def guids(col: Collection, entries: Iterable[ImportResponse.Note]) -> set[str]:
    """The GUIDs of the notes an import log lists."""
    return {col.get_note(NoteId(entry.id.nid)).guid for entry in entries}


def note_for(col: Collection, question_id: str) -> Note:
    """The collection's note for a question."""
    (note_id,) = col.find_notes(f'"Question ID:{question_id}"')
    return col.get_note(note_id)


def card_bodies(col: Collection, question_id: str) -> list[tuple[str, str]]:
    """Rendered (question, answer) HTML of a question's cards, CSS stripped."""
    note = note_for(col, question_id)
    return [
        (_body(card.question()), _body(card.answer()))
        for card in sorted(note.cards(), key=lambda card: card.ord)
    ]


def visible_text(body: str) -> str:
    """What a learner reads: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def package_notes(build: DeckBuild) -> list[tuple[str, int, int, str, str]]:
    """(guid, note type id, mod, fields, tags) of every note in a package."""
    with zipfile.ZipFile(io.BytesIO(build.data)) as archive:
        database = archive.read("collection.anki2")
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(database)
        return connection.execute(
            "SELECT guid, mid, mod, flds, tags FROM notes ORDER BY guid"
        ).fetchall()
    finally:
        connection.close()


def assert_every_card_renders(col: Collection) -> None:
    """Both sides of every card render without an Anki error or template syntax."""
    card_ids = col.find_cards("")
    assert card_ids
    for card_id in card_ids:
        card = col.get_card(card_id)
        for body in (_body(card.question()), _body(card.answer())):
            assert visible_text(body).strip()
            assert "{{" not in body and "}}" not in body
            for error in RENDER_ERRORS:
                assert error not in body, body


def _body(rendered: str) -> str:
    return rendered.split("</style>", 1)[-1]


def _question(question_id: str) -> Question:
    question = db.session.get(Question, question_id)
    assert question is not None
    return question


# -- importing into Anki ------------------------------------------------------------


def test_every_fixture_question_becomes_a_rendering_note(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        ids = [question.id for question in select_questions()]
    build = export(loaded_app)

    log = import_deck(collection, build, tmp_path).log

    assert guids(collection, log.new) == {builder.note_guid(qid) for qid in ids}
    assert not log.conflicting and not log.updated
    assert build.notes == len(ids) == collection.note_count()
    # One card per choice/typed question, per cloze blank (2) and per pair (4).
    assert build.cards == 12 == collection.card_count()
    assert_every_card_renders(collection)


def test_whole_bank_imports_one_rendering_note_per_question(
    app: Flask, collection: Collection, tmp_path: Path
) -> None:
    load_content(app, BANK_CONTENT)
    with app.app_context():
        questions = select_questions()
        expected = {
            builder.note_guid(q.id): builder.essay_deck_name(q.essay) for q in questions
        }
        build = build_deck(questions)

    log = import_deck(collection, build, tmp_path).log

    assert len(log.new) == build.notes == len(expected)
    assert guids(collection, log.new) == set(expected)
    assert expected and not log.conflicting
    assert collection.card_count() == build.cards
    assert_every_card_renders(collection)
    for card_id in collection.find_cards(""):
        card = collection.get_card(card_id)
        assert collection.decks.name(card.did) == expected[card.note().guid]
        assert all(tag == tag.lower() and " " not in tag for tag in card.note().tags)


def test_note_types_keep_their_frozen_ids_names_and_fields(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    for model_id, (name, fields, templates) in FROZEN_NOTE_TYPES.items():
        model = collection.models.get(NotetypeId(model_id))
        assert model is not None, name
        assert model["name"] == name
        assert [field["name"] for field in model["flds"]] == fields
        assert [template["name"] for template in model["tmpls"]] == templates
        assert model["mod"] == STYLE_REVISION
    assert {note_type.id for note_type in NOTE_TYPES} == set(FROZEN_NOTE_TYPES)


def test_style_revision_moves_with_templates_and_css() -> None:
    # Anki keeps a learner's older copy of a note type unless its mod is newer: a
    # template or CSS change without a newer STYLE_REVISION never reaches them. (A
    # new note type moves the digest too, without a bump: no learner has a copy.) When
    # this fails, set STYLE_REVISION to now and paste the new digest below.
    payload = json.dumps(
        [[t.id, t.name, t.fields, t.template, t.front, t.back] for t in NOTE_TYPES]
        + [CSS],
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()
    assert (STYLE_REVISION, digest) == (
        1796191200,
        "3f6be6d8f22a5a9675cbfa6cef7809ba897c0da85580483fdd181b04598fa339",
    ), f"templates changed: bump STYLE_REVISION, digest is now {digest}"


def test_choice_card_shows_options_then_marks_key_and_feedback(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    ((front, back),) = card_bodies(collection, "fx-single")

    assert "Which humanitarian task is this?" in front
    assert re.findall(r'class="letter">([A-Z])<', front) == ["A", "B", "C"]
    assert "✓" not in front and "Demining operations" in front
    assert "Building roads" not in front
    key = re.search(r'<li class="correct">(.*?)</li>', back)
    assert key and "Demining operations" in key.group(1)
    assert "Answer: <b>B</b>" in back
    assert "Building roads and bridges is infrastructure work." in back
    assert "The essay lists demining operations" in back
    assert "undertaking demining operations" in back
    assert "International Cooperation: Peacekeeping Missions" in back
    assert "fx-single" in back

    ((_, multiple_back),) = card_bodies(collection, "fx-multiple")
    assert "Answer: <b>A, B, D</b>" in multiple_back
    assert multiple_back.count('<li class="correct">') == 3
    ((tf_front, tf_back),) = card_bodies(collection, "fx-true-false")
    assert "True or false?" in tf_front and "Answer: <b>True</b>" in tf_back


def test_cloze_note_has_one_card_per_blank(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    note = note_for(collection, "fx-cloze")
    cards = card_bodies(collection, "fx-cloze")

    assert (
        note["Text"].count("{{c") == 2 and "{{c1::military personnel}}" in note["Text"]
    )
    assert len(cards) == 2
    (first_front, first_back), (second_front, second_back) = cards
    assert "[...]" in first_front and "military personnel" not in first_front
    assert "political instability" in first_front
    assert "[...]" in second_front and "political instability" not in second_front
    assert "military personnel" in visible_text(first_back)
    assert "military personnel / soldiers" in first_back
    assert "political instability" in visible_text(second_back)


def test_matching_note_has_one_card_per_pair(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    cards = card_bodies(collection, "fx-matching")
    rights = ["Thorough training", "Joint training exercises"]
    rights += ["Comprehensive operational guidelines", "Clear communication channels"]

    assert len(cards) == 4
    for (front, back), hidden in zip(cards, rights, strict=True):
        assert front.count("[...]") == 1
        assert hidden not in visible_text(front)
        assert all(other in front for other in rights if other != hidden)
        assert hidden in visible_text(back)
        assert "Match each challenge" in front


def test_matching_card_lists_the_spares_outside_the_deletions(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    spare = "Also offered, matching no itemAir support"
    for front, back in card_bodies(collection, "fx-matching"):
        assert spare in visible_text(front)
        assert spare in visible_text(back)
        # The spare is never the hidden answer of a card.
        revealed = re.findall(r'<span class="cloze"[^>]*>(.*?)</span>', back)
        assert [visible_text(text) for text in revealed] != ["Air support"]
    assert "Air support" not in note_for(collection, "fx-matching")["Prompt"]
    assert_every_card_renders(collection)


def test_adding_spares_updates_an_imported_matching_note_in_place(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        question = _question("fx-matching")
        released = dict(question.data)
        question.data = {"pairs": released["pairs"]}  # as exported before spares
        question.updated_at = question.updated_at - timedelta(days=1)
        db.session.commit()
    import_deck(collection, export(loaded_app), tmp_path)
    card_ids = set(collection.find_cards(""))
    note_types = len(collection.models.all_names_and_ids())
    assert "Air support" not in note_for(collection, "fx-matching")["Pairs"]
    with loaded_app.app_context():
        question = _question("fx-matching")
        question.data = released
        question.updated_at = question.updated_at + timedelta(days=1)
        db.session.commit()

    log = import_deck(collection, export(loaded_app), tmp_path).log

    assert guids(collection, log.updated) == {builder.note_guid("fx-matching")}
    assert not log.new and not log.conflicting
    assert "Air support" in note_for(collection, "fx-matching")["Pairs"]
    assert set(collection.find_cards("")) == card_ids  # review history stays put
    assert len(collection.models.all_names_and_ids()) == note_types  # no fork
    assert_every_card_renders(collection)


def test_markup_in_a_spare_arrives_as_text(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        question = _question("fx-matching")
        question.data = {
            **question.data,
            "spares": [
                {"id": "s1", "text": PAYLOAD},
                {"id": "s2", "text": "{{c9::x}}"},
            ],
        }
        db.session.commit()

    import_deck(collection, export(loaded_app), tmp_path)

    cards = card_bodies(collection, "fx-matching")
    assert len(cards) == 4  # no card for the "c9" in a spare
    for front, back in cards:
        for body in (front, back):
            assert "<script" not in body and "<img" not in body
            assert PAYLOAD in visible_text(body)
            assert "{{c9::x}}" in visible_text(body)
    assert_every_card_renders(collection)


def test_short_answer_card_asks_for_a_typed_answer(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    note = note_for(collection, "fx-short")
    ((front, back),) = card_bodies(collection, "fx-short")

    assert "[[type:Answer]]" in front and "[[type:Answer]]" in back
    assert note["Answer"] == "Haiti"
    assert "Haiti / Republic of Haiti" in back
    assert "MINUSTAH" in back  # the accuracy note
    typed = collection.compare_answer(note["Answer"], "Haiti")
    assert "typeGood" in typed and "typeBad" not in typed


def test_numeric_card_asks_for_the_number_typed_in(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    note = note_for(collection, "fx-numeric")
    ((front, back),) = card_bodies(collection, "fx-numeric")

    assert note.note_type()["name"] == "Peacekeeping: number"
    assert "Type the number." in front and "In which year" in front
    assert "[[type:Answer]]" in front and "[[type:Answer]]" in back
    assert note["Answer"] == "2010"
    assert "2010; 50% credit from 2009 to 2011" in back
    assert "MINUSTAH" in back  # the accuracy note
    typed = collection.compare_answer(note["Answer"], "2010")
    assert "typeGood" in typed and "typeBad" not in typed


def test_ordering_card_shows_the_items_shuffled_and_the_order_on_the_back(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)

    note = note_for(collection, "fx-ordering")
    ((front, back),) = card_bodies(collection, "fx-ordering")

    assert note.note_type()["name"] == "Peacekeeping: put in order"
    assert "Put these in order." in front
    items = ["Infrastructure development", "Medical assistance", "Demining operations"]
    shown = [front.index(item) for item in [*items, "Promoting education"]]
    assert shown != sorted(shown)  # the front never gives the order away
    assert "The order:" not in front
    order = back.split("The order:", 1)[1]
    assert [order.index(item) for item in items] == sorted(
        order.index(item) for item in items
    )
    letters = re.findall(r'class="letter">([A-D])<', front)
    assert sorted(letters) == ["A", "B", "C", "D"]


def test_notes_are_tagged_and_filed_under_their_essay_deck(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        second = Essay(slug="second-essay", title="Second:: An  Essay", position=9)
        db.session.add(second)
        _question("fx-short").essay = second
        db.session.commit()
    import_deck(collection, export(loaded_app), tmp_path)

    cloze = note_for(collection, "fx-cloze")
    short = note_for(collection, "fx-short")

    assert sorted(cloze.tags) == [
        "bloom::remember",
        "difficulty::medium",
        f"essay::{ESSAY}",
        "topic::personnel",
        "type::cloze",
    ]
    assert "essay::second-essay" in short.tags and "type::short-answer" in short.tags
    assert {"topic::humanitarian", "topic::missions"} <= set(short.tags)
    decks = {collection.decks.name(card.did) for card in cloze.cards()}
    assert decks == {ESSAY_DECK}
    assert {collection.decks.name(c.did) for c in short.cards()} == {
        "Peacekeeping::Second: An Essay"
    }


# -- identity and updates -----------------------------------------------------------


def test_reimport_after_an_edit_updates_only_that_note(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)
    card_ids = set(collection.find_cards(""))
    learner_note = note_for(collection, "fx-short")
    learner_note.tags.append("my-own-tag")
    collection.update_note(learner_note)
    note_types = len(collection.models.all_names_and_ids())
    with loaded_app.app_context():
        question = _question("fx-single")
        question.prompt = "Reworded: which humanitarian task is this?"
        question.updated_at = question.updated_at + timedelta(minutes=5)
        db.session.commit()

    log = import_deck(collection, export(loaded_app), tmp_path).log

    assert guids(collection, log.updated) == {builder.note_guid("fx-single")}
    assert not log.new and not log.conflicting
    assert len(log.duplicate) == 7
    assert note_for(collection, "fx-single")["Question"].startswith("Reworded:")
    assert "my-own-tag" in note_for(collection, "fx-short").tags
    assert len(collection.models.all_names_and_ids()) == note_types
    assert set(collection.find_cards("")) == card_ids  # review history stays put
    assert_every_card_renders(collection)


def test_newer_style_revision_restyles_without_touching_notes(
    loaded_app: Flask,
    collection: Collection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)
    note_types = len(collection.models.all_names_and_ids())
    monkeypatch.setattr(builder, "CSS", CSS + "\n.qid { display: none; }")
    monkeypatch.setattr(builder, "STYLE_REVISION", STYLE_REVISION + 60)

    log = import_deck(collection, export(loaded_app), tmp_path).log

    assert not log.updated and not log.new and not log.conflicting
    for model_id in FROZEN_NOTE_TYPES:
        model = collection.models.get(NotetypeId(model_id))
        assert model is not None and model["css"].endswith("display: none; }")
    assert len(collection.models.all_names_and_ids()) == note_types  # no fork


def test_reimport_of_unchanged_content_updates_nothing(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_deck(collection, export(loaded_app), tmp_path)
    # A different package of the same content, as a later export would be.
    with loaded_app.app_context():
        again = build_deck(list(reversed(select_questions())))

    log = import_deck(collection, again, tmp_path).log

    assert not log.updated and not log.new and not log.conflicting
    assert len(log.duplicate) == 8


def test_same_content_exports_identical_notes(loaded_app: Flask) -> None:
    first, second = export(loaded_app), export(loaded_app)

    assert package_notes(first) == package_notes(second)
    assert first.data == second.data


def test_notes_carry_guid_from_id_and_mod_from_updated_at(loaded_app: Flask) -> None:
    edited = datetime(2030, 1, 2, 3, 4, 5)  # naive, as SQLite returns it: UTC
    with loaded_app.app_context():
        _question("fx-cloze").updated_at = edited
        db.session.commit()
        expected = {
            builder.note_guid(q.id): int(q.updated_at.replace(tzinfo=UTC).timestamp())
            for q in select_questions()
        }
    notes = package_notes(export(loaded_app))

    assert {guid: mod for guid, _, mod, _, _ in notes} == expected
    assert expected[builder.note_guid("fx-cloze")] == 1893553445
    assert builder.note_guid("fx-cloze") == builder.genanki.guid_for(
        "quizapp-peacekeeping", "fx-cloze"
    )
    # Other notes keep their own, older time: one edit does not touch the rest.
    assert len(set(expected.values())) > 1


# -- the fast paths against the plain ones -----------------------------------------


def _content(kind: str, folder: Path) -> Path:
    if kind == "fixture":
        return FIXTURE_CONTENT
    if kind == "bank":
        return BANK_CONTENT
    return write_bank(folder / "synthetic", 120)


@pytest.mark.parametrize("kind", ["fixture", "bank", "synthetic"])
def test_build_deck_writes_the_bytes_genanki_writes(
    app: Flask, tmp_path: Path, kind: str
) -> None:
    load_content(app, _content(kind, tmp_path))
    with app.app_context(), warnings.catch_warnings():
        # genanki's own path warns about markup that is not HTML; build_deck does
        # not check, so the reference must stay silent on every field.
        warnings.simplefilter("error")
        questions = select_questions()
        plain = build_deck_plain(questions)
        fast = build_deck(questions)
        light = build_deck(load_questions(export_query()))

    assert plain.notes == len(questions) > 0
    assert fast == plain
    assert light == plain


@pytest.mark.parametrize("kind", ["fixture", "bank", "synthetic"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"essay": ESSAY},
        {"quiz": "fx-practice"},
        {"tag": "challenges"},
        {"essay": ESSAY, "tag": "humanitarian"},
    ],
)
def test_light_rows_are_the_orm_rows(
    app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    filters: dict[str, str],
) -> None:
    load_content(app, _content(kind, tmp_path))
    monkeypatch.setattr(builder, "_BATCH", 3)  # several batches, one cut mid-way
    with app.app_context():
        try:
            orm = [DeckQuestion.of(q) for q in select_questions(**filters)]
        except LookupError:
            pytest.skip("no such essay or quiz in this bank")
        light = load_questions(export_query(**filters))

    assert light == orm
    if not filters:
        assert len(light) > 3 and all(row.sources and row.tags for row in light)
        # The order within a question's tags and sources is compared too.
        several = 1 if kind == "synthetic" else 2
        assert any(len(row.sources) >= several for row in light)
        assert any(len(row.tags) >= several for row in light)


def test_fast_path_matches_the_plain_one_on_hostile_markup(
    loaded_app: Flask,
) -> None:
    with loaded_app.app_context():
        single = _question("fx-single")
        single.prompt = f"{PAYLOAD}\nsecond line"
        single.note = ""
        single.explanation = "if a<b then {{#Question}}x{{/Question}}"
        cloze = _question("fx-cloze")
        cloze.data = {
            "parts": ["{{c9::sneaky}} <b>", " :: ", "}} end"],
            "blanks": [["std::vector}}"], ["<i>x</i>"]],
        }
        db.session.commit()
        questions = select_questions()
        plain = build_deck_plain(questions)

        assert build_deck(questions) == plain
        assert build_deck(load_questions(export_query())) == plain


# -- safety -------------------------------------------------------------------------


def test_markup_and_template_syntax_in_content_arrive_as_text(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        single = _question("fx-single")
        single.prompt = f"{PAYLOAD}\nsecond line"
        options = [dict(option) for option in single.data["options"]]
        options[0]["text"] = PAYLOAD
        options[1]["feedback"] = "{{c1::not a deletion}} {{FrontSide}}"
        single.data = {"options": options}
        single.explanation = "if a<b then {{#Question}}x{{/Question}}"
        cloze = _question("fx-cloze")
        cloze.data = {
            "parts": ["{{c9::sneaky}} <b>", " :: ", "}} end"],
            "blanks": [["std::vector}}"], ["<i>x</i>"]],
        }
        db.session.commit()

    import_deck(collection, export(loaded_app), tmp_path)

    note = note_for(collection, "fx-single")
    assert "<script" not in note.joined_fields() and "<img" not in note.joined_fields()
    assert note["Question"].startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert note["Question"].endswith("<br>second line")
    ((front, back),) = card_bodies(collection, "fx-single")
    for body in (front, back):
        assert "<script" not in body and "<img" not in body
        assert visible_text(body).count(PAYLOAD) == 2
    assert "{{c1::not a deletion}} {{FrontSide}}" in visible_text(back)
    assert "if a<b then {{#Question}}x{{/Question}}" in visible_text(back)

    cards = card_bodies(collection, "fx-cloze")
    assert len(cards) == 2  # no card for the "c9" in the text
    (first_front, first_back), (_, second_back) = cards
    assert "{{c9::sneaky}} <b>" in visible_text(first_front)
    assert "vector" not in visible_text(first_front)  # "::" did not become a hint
    revealed = re.search(r'<span class="cloze"[^>]*>(.*?)</span>', first_back)
    assert revealed and visible_text(revealed.group(1)) == "std::vector}}"
    assert "<i>x</i>" in visible_text(second_back)
    assert_every_card_renders(collection)


def test_building_leaves_no_temporary_files(
    loaded_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    export(loaded_app)

    assert list(scratch.iterdir()) == []


def test_write_deck_replaces_the_file_atomically(
    loaded_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "deck.apkg"
    target.parent.mkdir()
    with loaded_app.app_context():
        questions = select_questions()
        build = write_deck(questions, target)
        assert target.read_bytes() == build.data
        assert [p.name for p in target.parent.iterdir()] == ["deck.apkg"]

        def fail(*_: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(builder.os, "replace", fail)
        with pytest.raises(OSError, match="disk full"):
            write_deck(questions[:1], target)

    assert target.read_bytes() == build.data
    assert [p.name for p in target.parent.iterdir()] == ["deck.apkg"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Peacekeeping bank", "peacekeeping-bank.apkg"),
        ("peacekeeping-bank.apkg", "peacekeeping-bank.apkg"),
        ("Coopération: ../../etc/passwd", "cooperation-etc-passwd.apkg"),
        ("الإسلام", "deck.apkg"),
        ("", "deck.apkg"),
        ("x" * 300, "x" * 80 + ".apkg"),
    ],
)
def test_deck_filename_is_safe_ascii(label: str, expected: str) -> None:
    assert deck_filename(label) == expected


# -- command line -------------------------------------------------------------------


def test_cli_exports_the_whole_bank(
    loaded_app: Flask,
    runner: FlaskCliRunner,
    collection: Collection,
    tmp_path: Path,
) -> None:
    target = tmp_path / "bank.apkg"

    result = runner.invoke(args=["anki", "export", "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert f"Wrote 8 notes (12 cards) to {target}." in result.output
    log = import_deck(collection, DeckBuild(target.read_bytes(), 6, 9), tmp_path).log
    assert len(log.new) == 8


@pytest.mark.parametrize(
    ("args", "notes"),
    [
        (["--essay", ESSAY], 8),
        (["--quiz", "fx-practice"], 8),
        (["--tag", "challenges"], 2),
        (["--essay", ESSAY, "--tag", "humanitarian"], 3),
    ],
)
def test_cli_export_filters(
    loaded_app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    args: list[str],
    notes: int,
) -> None:
    target = tmp_path / "some.apkg"

    result = runner.invoke(args=["anki", "export", *args, "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert f"Wrote {notes} notes" in result.output
    assert len(package_notes(DeckBuild(target.read_bytes(), 0, 0))) == notes


def test_cli_export_names_the_file_after_the_selection(
    loaded_app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)

    assert runner.invoke(args=["anki", "export"]).exit_code == 0
    assert runner.invoke(args=["anki", "export", "--tag", "training"]).exit_code == 0

    assert sorted(p.name for p in tmp_path.glob("*.apkg")) == [
        "peacekeeping-bank.apkg",
        "peacekeeping-training.apkg",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--essay", "no-such-essay"], "Error: no essay 'no-such-essay'"),
        (["--quiz", "no-such-quiz"], "Error: no quiz 'no-such-quiz'"),
    ],
)
def test_cli_export_unknown_essay_or_quiz_is_a_one_line_error(
    loaded_app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    target = tmp_path / "deck.apkg"

    result = runner.invoke(args=["anki", "export", *args, "-o", str(target)])

    assert result.exit_code == 1
    assert result.output.strip() == message
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not target.exists()


def test_cli_export_says_when_nothing_matches(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "deck.apkg"

    result = runner.invoke(args=["anki", "export", "--tag", "nothing", "-o", target])

    assert result.exit_code == 1
    assert "No questions match" in result.output
    assert not target.exists()
