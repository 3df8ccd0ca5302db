"""Hostile uploads to /progress/import: each gets its message and changes nothing.

Every case checks the page's message, that no learner, card or review row was
written, and that the child's temporary directory is gone.
"""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from html import unescape
from pathlib import Path

import pytest
from anki.collection import Collection
from flask import Flask
from flask.testing import FlaskClient

from quizapp.anki.history import MESSAGES
from quizapp.models import Learner, ReviewLog, StudyCard

from .conftest import close_app, count_rows, load_content, make_app
from .test_history_anki import (
    export_with_scheduling,
    import_into,
    plain_deck,
    review_in_anki,
    upload,
)

TABLES = (Learner, StudyCard, ReviewLog)


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary directories of this test only, to see that none is left."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def good_export(loaded_app: Flask, collection: Collection, tmp_path: Path) -> bytes:
    """A real export of our deck with three Anki reviews."""
    import_into(collection, plain_deck(loaded_app, tmp_path))
    review_in_anki(collection, [3, 1, 3])
    return export_with_scheduling(collection, tmp_path / "good.apkg")


def refused(client: FlaskClient, app: Flask, data: bytes, message: str) -> None:
    """The upload is a 4xx page with `message`, and no row changed."""
    before = [count_rows(app, table) for table in TABLES]
    response = upload(client, data)
    assert 400 <= response.status_code < 500, response.status_code
    assert message in unescape(response.text)
    assert "Nothing was imported" in response.text or response.status_code == 413
    assert [count_rows(app, table) for table in TABLES] == before


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def test_empty_file(loaded_app: Flask, tmp_root: Path) -> None:
    refused(loaded_app.test_client(), loaded_app, b"", MESSAGES["empty"])
    assert list(tmp_root.iterdir()) == []


def test_not_a_zip(loaded_app: Flask, tmp_root: Path) -> None:
    client = loaded_app.test_client()
    refused(client, loaded_app, b"%PDF-1.7 not a deck" * 50, MESSAGES["not-zip"])
    assert list(tmp_root.iterdir()) == []


def test_zip_without_a_collection(loaded_app: Flask, tmp_root: Path) -> None:
    data = zip_of({"notes.txt": b"hello", "media": b"{}"})
    refused(loaded_app.test_client(), loaded_app, data, MESSAGES["not-anki"])
    assert list(tmp_root.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../collection.anki2", "/etc/collection.anki2", "sub/../../x", "a\\b"]
)
def test_zip_with_paths(loaded_app: Flask, tmp_root: Path, name: str) -> None:
    data = zip_of({"collection.anki2": b"x", name: b"payload"})
    refused(loaded_app.test_client(), loaded_app, data, MESSAGES["bad-path"])
    assert list(tmp_root.iterdir()) == []
    assert not (tmp_root.parent / "collection.anki2").exists()


def test_zip_bomb_by_declared_size(loaded_app: Flask, tmp_root: Path) -> None:
    # 300 MiB of zeros deflate to about 300 KiB: more than the unpacked bound.
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("collection.anki2", "w", force_zip64=True) as entry,
    ):
        block = bytes(1 << 20)
        for _ in range(300):
            entry.write(block)
    data = buffer.getvalue()
    assert len(data) < 2 << 20
    refused(loaded_app.test_client(), loaded_app, data, MESSAGES["too-large-unpacked"])
    assert list(tmp_root.iterdir()) == []


def _lie_about_sizes(data: bytes) -> bytes:
    """Rewrite every size field in the central directory to 1 byte."""
    raw = bytearray(data)
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<II", raw, at + 20, 1, 1)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def test_zip_bomb_that_lies_about_its_size(tmp_path: Path, tmp_root: Path) -> None:
    """Declared sizes pass; the child's file-size bound stops the real unpacking."""
    app = make_app(HISTORY_UNPACKED_BYTES=4 << 20)
    try:
        load_content(app)
        payload = bytes(64 << 20)
        data = _lie_about_sizes(zip_of({"collection.anki2": payload, "media": b"{}"}))
        response = upload(app.test_client(), data)
        assert response.status_code == 400
        assert any(
            MESSAGES[code] in unescape(response.text)
            for code in ("too-large-unpacked", "corrupt")
        ), response.text
        assert [count_rows(app, t) for t in TABLES] == [0, 0, 0]
        assert list(tmp_root.iterdir()) == []
    finally:
        close_app(app)


def test_truncated_export(
    loaded_app: Flask, good_export: bytes, tmp_root: Path
) -> None:
    data = good_export[: len(good_export) // 2]
    client = loaded_app.test_client()
    response = upload(client, data)
    assert response.status_code == 400
    text = unescape(response.text)
    assert MESSAGES["corrupt"] in text or MESSAGES["not-zip"] in text
    assert [count_rows(loaded_app, t) for t in TABLES] == [0, 0, 0]
    assert list(tmp_root.iterdir()) == []


def test_corrupt_collection_inside_a_good_zip(
    loaded_app: Flask, tmp_root: Path
) -> None:
    data = zip_of(
        {"collection.anki2": b"SQLite format 3\x00" + b"\xff" * 4096, "media": b"{}"}
    )
    refused(loaded_app.test_client(), loaded_app, data, MESSAGES["corrupt"])
    assert list(tmp_root.iterdir()) == []


def test_another_apps_notes(
    loaded_app: Flask, collection: Collection, tmp_path: Path, tmp_root: Path
) -> None:
    note = collection.new_note(collection.models.by_name("Basic"))
    note["Front"], note["Back"] = "Capital of France?", "Paris"
    collection.add_note(note, collection.decks.id_for_name("Default"))
    collection.decks.select(collection.decks.id_for_name("Default"))
    card = collection.sched.getCard()
    assert card is not None
    collection.sched.answerCard(card, 3)
    data = export_with_scheduling(collection, tmp_path / "other.apkg")
    client = loaded_app.test_client()
    refused(client, loaded_app, data, "none of them are from the Peacekeeping deck")
    assert list(tmp_root.iterdir()) == []


def test_too_many_reviews(good_export: bytes, tmp_root: Path) -> None:
    app = make_app(HISTORY_MAX_REVIEWS=2)
    try:
        load_content(app)
        refused(app.test_client(), app, good_export, MESSAGES["too-many-reviews"])
        assert list(tmp_root.iterdir()) == []
    finally:
        close_app(app)


def test_memory_bound(good_export: bytes, tmp_root: Path) -> None:
    """A child that needs more than its memory bound stops with a clear page."""
    app = make_app(HISTORY_PARSE_MEMORY_BYTES=64 << 20)
    try:
        load_content(app)
        response = upload(app.test_client(), good_export)
        assert response.status_code == 400
        text = unescape(response.text)
        assert MESSAGES["too-much-memory"] in text or MESSAGES["failed"] in text
        assert [count_rows(app, t) for t in TABLES] == [0, 0, 0]
        assert list(tmp_root.iterdir()) == []
    finally:
        close_app(app)


def test_over_the_size_limit_is_413(tmp_root: Path) -> None:
    app = make_app(HISTORY_UPLOAD_BYTES=1 << 20)
    try:
        load_content(app)
        data = b"PK" + bytes(2 << 20)
        response = upload(app.test_client(), data)
        assert response.status_code == 413
        assert "larger than 1 MiB" in response.text
        assert "without media" in response.text
        assert [count_rows(app, t) for t in TABLES] == [0, 0, 0]
    finally:
        close_app(app)


def test_no_file_chosen(loaded_app: Flask) -> None:
    client = loaded_app.test_client()
    response = client.post(
        "/progress/import", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Choose the file to upload." in response.text


def test_upload_goes_to_the_session_learner_only(
    loaded_app: Flask, good_export: bytes
) -> None:
    """A form field naming another learner changes nothing: the session decides."""
    victim = loaded_app.test_client()
    victim.get("/study")
    with victim.session_transaction() as session:
        victim_id = session["learner"]
    attacker = loaded_app.test_client()
    response = attacker.post(
        "/progress/import",
        data={"file": (io.BytesIO(good_export), "x.apkg"), "learner": victim_id},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    with attacker.session_transaction() as session:
        assert session["learner"] != victim_id
    with loaded_app.app_context():
        from quizapp.extensions import db

        assert db.session.query(ReviewLog).filter_by(learner_id=victim_id).count() == 0


def test_time_bound(good_export: bytes, tmp_root: Path) -> None:
    """A child over its CPU-time bound is stopped: a clear page, nothing written."""
    app = make_app(HISTORY_PARSE_SECONDS=0)
    try:
        load_content(app)
        response = upload(app.test_client(), good_export)
        assert response.status_code == 400
        assert MESSAGES["too-slow"] in unescape(response.text)
        assert [count_rows(app, t) for t in TABLES] == [0, 0, 0]
        assert list(tmp_root.iterdir()) == []
    finally:
        close_app(app)
