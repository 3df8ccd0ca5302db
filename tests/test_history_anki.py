"""Study history between Anki and the browser, checked with the real `anki` library.

Anki to browser: a collection imports our deck, Anki's own scheduler reviews
cards, the collection is exported with scheduling and uploaded; the learner's
cards and logs then match those reviews, and a second upload adds nothing.
Browser to Anki: /decks/mine.apkg after browser reviews, imported into a fresh
Anki collection with scheduling, carries the intervals, due dates and log.
"""

from __future__ import annotations

import io
import re
from datetime import UTC
from pathlib import Path

import pytest
from anki.collection import (
    Collection,
    ExportAnkiPackageOptions,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quizapp.anki import build_deck
from quizapp.anki.builder import note_guid
from quizapp.extensions import db
from quizapp.models import ReviewLog, StudyCard
from quizapp.questions import select_questions
from quizapp.study.history import Event, from_millis, millis, replay

from .conftest import count_rows

EASES = [3, 1, 4, 3, 2, 3, 3]


def plain_deck(app: Flask, folder: Path) -> Path:
    """Our whole-bank deck as the site serves it."""
    with app.app_context():
        data = build_deck(select_questions()).data
    path = folder / "bank.apkg"
    path.write_bytes(data)
    return path


def import_into(col: Collection, path: Path) -> None:
    """Anki's import with "Import any learning progress" ticked."""
    col.import_anki_package(
        ImportAnkiPackageRequest(
            package_path=str(path),
            options=ImportAnkiPackageOptions(with_scheduling=True),
        )
    )


def export_with_scheduling(col: Collection, path: Path) -> bytes:
    """File > Export, Anki Deck Package, scheduling included, no media."""
    col.export_anki_package(
        out_path=str(path),
        options=ExportAnkiPackageOptions(
            with_scheduling=True, with_deck_configs=True, with_media=False
        ),
        limit=None,
    )
    return path.read_bytes()


def review_in_anki(col: Collection, eases: list[int]) -> list[tuple[int, str, int]]:
    """Answer cards with Anki's scheduler; (revlog id, note guid, ease) each."""
    col.decks.select(col.decks.id_for_name("Peacekeeping"))
    for ease in eases:
        card = col.sched.getCard()
        assert card is not None
        col.sched.answerCard(card, ease)
    return [
        (rid, guid, ease)
        for rid, guid, ease in col.db.all(
            "select r.id, n.guid, r.ease from revlog r join cards c on c.id = r.cid"
            " join notes n on n.id = c.nid order by r.id"
        )
    ]


def upload(client: FlaskClient, data: bytes, name: str = "export.apkg"):
    """Post a file to the import form."""
    return client.post(
        "/progress/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def learner_of(client: FlaskClient) -> str:
    """The learner id in the client's session."""
    with client.session_transaction() as session:
        return str(session["learner"])


def held_reviews(app: Flask, learner_id: str) -> list[tuple[int, str, int, str]]:
    """(ms, question, rating, source) of the learner's review log, in time order."""
    with app.app_context():
        rows = db.session.execute(
            select(ReviewLog.reviewed_at, StudyCard.question_id, ReviewLog.rating)
            .add_columns(ReviewLog.source)
            .join(StudyCard, StudyCard.id == ReviewLog.card_id)
            .where(ReviewLog.learner_id == learner_id)
            .order_by(ReviewLog.reviewed_at)
        ).all()
    return [(millis(r[0]), r[1], r[2], r[3]) for r in rows]


def figure(page: str, element_id: str) -> str:
    """The text of the <dd id=...> on the report."""
    found = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert found, f"no #{element_id} on the page"
    return found.group(1)


def test_anki_history_comes_in_and_twice_adds_nothing(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    import_into(collection, plain_deck(loaded_app, tmp_path))
    reviews = review_in_anki(collection, EASES)
    assert len(reviews) == len(EASES)
    data = export_with_scheduling(collection, tmp_path / "export.apkg")

    client = loaded_app.test_client()
    client.get("/progress/import")
    first = upload(client, data)
    assert first.status_code == 200, first.text
    page = first.text
    with loaded_app.app_context():
        guid_to_question = {note_guid(q.id): q.id for q in select_questions()}
    assert figure(page, "notes-matched") == str(len(guid_to_question))
    assert figure(page, "reviews-added") == str(len(EASES))
    assert figure(page, "notes-ignored") == "0"

    learner = learner_of(client)
    expected = [(rid, guid_to_question[g], ease, "anki") for rid, g, ease in reviews]
    assert held_reviews(loaded_app, learner) == expected

    # Each card's state is FSRS's replay of its Anki reviews in time order.
    with loaded_app.app_context():
        for question_id in {q for _, q, _, _ in expected}:
            events = [
                Event(q, from_millis(ms), rating, "anki")
                for ms, q, rating, _ in expected
                if q == question_id
            ]
            want = replay(events, 0.9)[-1].after
            card = db.session.execute(
                select(StudyCard).where(
                    StudyCard.learner_id == learner,
                    StudyCard.question_id == question_id,
                )
            ).scalar_one()
            assert card.reps == want.reps
            assert card.stability == pytest.approx(want.stability)
            assert card.due.replace(tzinfo=UTC) == want.due

    again = upload(client, data)
    assert again.status_code == 200
    assert figure(again.text, "reviews-added") == "0"
    assert figure(again.text, "reviews-held") == str(len(EASES))
    assert held_reviews(loaded_app, learner) == expected

    # A later export with more reviews adds only the new ones.
    more = review_in_anki(collection, [3, 3])
    later = export_with_scheduling(collection, tmp_path / "later.apkg")
    third = upload(client, later)
    assert figure(third.text, "reviews-added") == "2"
    assert len(held_reviews(loaded_app, learner)) == len(more)

    progress = client.get("/progress").text
    assert re.search(r'id="total-reviews">\s*' + str(len(more)) + r"\s*<", progress)


def rate_in_browser(client: FlaskClient, ratings: list[int]) -> None:
    """Answer and rate the study queue's head card, once per rating."""
    for rating in ratings:
        page = client.get("/study").text
        question = re.search(r'name="question" type="hidden" value="([^"]+)"', page)
        seen = re.search(r'name="seen" type="hidden" value="(\d+)"', page)
        assert question and seen, page[:2000]
        answered = client.post(
            "/study/answer",
            data={"question": question.group(1), "seen": seen.group(1)},
        )
        assert answered.status_code in (200, 400)
        rated = client.post(
            "/study/rate",
            data={
                "question": question.group(1),
                "seen": seen.group(1),
                "rating": str(rating),
            },
        )
        assert rated.status_code in (302, 303), rated.text[:2000]


def test_my_deck_carries_browser_schedule_into_a_fresh_anki(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    client = loaded_app.test_client()
    rate_in_browser(client, [3, 4, 1, 3])
    learner = learner_of(client)
    held = held_reviews(loaded_app, learner)
    assert len(held) == 4

    response = client.get("/decks/mine.apkg")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    path = tmp_path / "mine.apkg"
    path.write_bytes(response.data)
    import_into(collection, path)

    with loaded_app.app_context():
        cards = {
            c.question_id: c
            for c in db.session.scalars(
                select(StudyCard).where(StudyCard.learner_id == learner)
            )
        }
        total = len(select_questions())
    assert collection.note_count() == total
    rows = collection.db.all(
        "select n.guid, r.id, r.ease from revlog r join cards c on c.id = r.cid"
        " join notes n on n.id = c.nid order by r.id"
    )
    by_guid = {note_guid(qid): qid for qid in cards}
    assert [(by_guid[g], rid, ease) for g, rid, ease in rows] == [
        (q, ms, rating) for ms, q, rating, _ in held
    ]
    crt = collection.crt
    for question_id, card in cards.items():
        due = card.due.replace(tzinfo=UTC)
        last = card.last_review.replace(tzinfo=UTC)
        (cid,) = collection.db.list(
            "select c.id from cards c join notes n on n.id = c.nid"
            " where n.guid = ? order by c.ord limit 1",
            note_guid(question_id),
        )
        anki_card = collection.get_card(cid)
        if card.state == 2:
            assert anki_card.type == 2 and anki_card.queue == 2
            assert anki_card.due == (int(due.timestamp()) - crt) // 86_400
            assert anki_card.ivl == max(1, (due - last).days)
        else:
            assert anki_card.queue == 1
            assert anki_card.due == int(due.timestamp())
        assert anki_card.reps == card.reps
        assert anki_card.memory_state is not None
        assert anki_card.memory_state.stability == pytest.approx(card.stability, 1e-4)
    # Cards never studied in the browser arrive new.
    assert collection.db.scalar("select count() from cards where queue = 0") > 0

    # The same history back from Anki is already held: nothing doubles.
    back = export_with_scheduling(collection, tmp_path / "back.apkg")
    again = upload(client, back)
    assert figure(again.text, "reviews-added") == "0"
    assert held_reviews(loaded_app, learner) == held


def test_my_deck_without_history_is_the_plain_bank(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    response = loaded_app.test_client().get("/decks/mine.apkg")
    assert response.status_code == 200
    path = tmp_path / "mine.apkg"
    path.write_bytes(response.data)
    import_into(collection, path)
    assert collection.db.scalar("select count() from revlog") == 0
    assert collection.db.scalar("select count() from cards where queue != 0") == 0
    assert count_rows(loaded_app, ReviewLog) == 0


def test_reviews_interleaved_with_browser_ones_are_replayed_in_time_order(
    loaded_app: Flask, collection: Collection, tmp_path: Path
) -> None:
    """Anki reviews older than browser ones: the whole card is replayed."""
    client = loaded_app.test_client()
    import_into(collection, plain_deck(loaded_app, tmp_path))
    reviews = review_in_anki(collection, [3, 3, 3])
    data = export_with_scheduling(collection, tmp_path / "export.apkg")
    # Shift the browser's clock: its reviews come after Anki's.
    rate_in_browser(client, [3, 3])
    learner = learner_of(client)
    first = upload(client, data)
    assert figure(first.text, "reviews-added") == "3"
    held = held_reviews(loaded_app, learner)
    assert len(held) == 5
    assert [ms for ms, *_ in held] == sorted(ms for ms, *_ in held)
    assert {rid for rid, _, _ in reviews} <= {
        ms for ms, _, _, src in held if src == "anki"
    }
    # Every card is the replay of its whole timeline, whatever came from where.
    with loaded_app.app_context():
        for card in db.session.scalars(
            select(StudyCard).where(StudyCard.learner_id == learner)
        ):
            timeline = [
                Event(q, from_millis(ms), rating, src)
                for ms, q, rating, src in held
                if q == card.question_id
            ]
            want = replay(timeline, 0.9)[-1].after
            # (the timeline here is at milliseconds; the browser's own at microseconds)
            assert card.reps == want.reps
            assert abs(millis(card.due.replace(tzinfo=UTC)) - millis(want.due)) <= 1
