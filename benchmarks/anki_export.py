"""Benchmark the Anki export: build_deck on a synthetic bank vs plain genanki.

Run: .venv/bin/python benchmarks/anki_export.py [--questions N] [--repeat R] [--import]

Creates an app on a temporary SQLite file, inserts N synthetic questions (all six
types, one to two sources each, spread over five essays), then times:
- select_questions(): the query with its eager loads (what the CLI and web run first);
- build_deck(): fields, notes, per-note mod times and the in-memory .apkg;
- genanki direct: the very same notes (read back from our package) written by
  genanki's own Package.write_to_file, the baseline the builder wraps;
- optionally (--import) importing our package into a fresh Anki collection.
Peak memory is the tracemalloc peak of a separate run of each step (Python
allocations; SQLite's own memory is not traced), plus the process's max RSS.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sqlite3
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import genanki
from sqlalchemy import insert

from quizapp import create_app
from quizapp.anki import DeckBuild, build_deck
from quizapp.anki.notetypes import CSS, NOTE_TYPES
from quizapp.content.schema import TYPES
from quizapp.extensions import db
from quizapp.models import (
    Essay,
    Passage,
    Question,
    QuestionSource,
    Tag,
    question_tag,
)
from quizapp.questions import select_questions

TAGS = ("personnel", "mandate", "humanitarian", "challenges", "missions", "diplomacy")
VOCABULARY = """
peacekeeping mission mandate ceasefire humanitarian demining personnel host nation
dialogue security council observers training readiness sovereignty reconstruction
medical assistance infrastructure diplomacy conflict region
"""
WORDS = VOCABULARY.split()


def sentence(rng: random.Random, words: int) -> str:
    """A plausible-length run of bank vocabulary."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def answer_data(rng: random.Random, qtype: str) -> dict[str, Any]:
    """Type-specific answer data in the shape quizapp.content.schema stores."""
    if qtype in ("single_choice", "multiple_response"):
        count = rng.randint(3, 5)
        keys = {0} if qtype == "single_choice" else {0, 1}
        options = [
            {
                "id": f"o{i}",
                "text": sentence(rng, 4),
                "correct": i in keys,
                "feedback": sentence(rng, 10) if i not in keys and i % 2 else None,
            }
            for i in range(count)
        ]
        rng.shuffle(options)
        return {"options": options}
    if qtype == "true_false":
        return {
            "options": [
                {"id": "t", "text": "True", "correct": True, "feedback": None},
                {"id": "f", "text": "False", "correct": False, "feedback": "No."},
            ]
        }
    if qtype == "cloze":
        blanks = rng.randint(1, 3)
        return {
            "parts": [sentence(rng, 6) + " " for _ in range(blanks)] + [" end."],
            "blanks": [[sentence(rng, 2), sentence(rng, 1)] for _ in range(blanks)],
        }
    if qtype == "short_answer":
        return {"answers": [sentence(rng, 2), sentence(rng, 3)]}
    if qtype == "ordering":
        return {"items": [{"id": f"i{i}", "text": sentence(rng, 3)} for i in range(4)]}
    if qtype == "numeric":
        return {"answer": str(rng.randint(1945, 2025)), "tolerance": "0"}
    return {
        "pairs": [
            {
                "id": f"l{i}",
                "left": f"{sentence(rng, 3)} {i}",
                "right_id": f"r{i}",
                "right": f"{sentence(rng, 3)} {i}",
            }
            for i in range(rng.randint(3, 5))
        ]
    }


def populate(count: int) -> None:
    """Insert a synthetic bank of `count` questions with bulk inserts."""
    rng = random.Random(5)
    session = db.session
    for number in range(5):
        session.add(
            Essay(
                slug=f"essay-{number}",
                title=f"Essay {number}: Peacekeeping",
                position=number,
                passages=[
                    Passage(anchor=f"p-{i}", position=i, text=sentence(rng, 60))
                    for i in range(20)
                ],
            )
        )
    session.add_all(Tag(name=name) for name in TAGS)
    session.flush()
    essays = [essay.id for essay in session.scalars(db.select(Essay))]
    passages = [passage.id for passage in session.scalars(db.select(Passage))]
    tags = [tag.id for tag in session.scalars(db.select(Tag))]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    questions, sources, links = [], [], []
    for index in range(count):
        qid = f"q-{index:06d}"
        qtype = TYPES[index % len(TYPES)]
        questions.append(
            {
                "id": qid,
                "type": qtype,
                "essay_id": essays[index % len(essays)],
                "prompt": sentence(rng, 18) + "?",
                "data": answer_data(rng, qtype),
                "explanation": sentence(rng, 30) + ".",
                "note": sentence(rng, 15) if index % 7 == 0 else None,
                "difficulty": ("easy", "medium", "hard")[index % 3],
                "bloom": ("remember", "understand", "apply", "analyze")[index % 4],
                "position": index,
                "retired": False,
                "content_hash": f"{index:064x}",
                "updated_at": start + timedelta(seconds=rng.randint(0, 10**7)),
            }
        )
        for position in range(1 + index % 2):
            sources.append(
                {
                    "question_id": qid,
                    "passage_id": rng.choice(passages),
                    "position": position,
                    "quote": sentence(rng, 12),
                }
            )
        links.extend({"question_id": qid, "tag_id": tag} for tag in rng.sample(tags, 2))
    session.execute(insert(Question), questions)
    session.execute(insert(QuestionSource), sources)
    session.execute(insert(question_tag), links)
    session.commit()


def timed(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of `repeat` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - began)
    return best, result


def peak_mib(step: Callable[[], Any]) -> float:
    """Peak traced Python allocation of one run of `step`, in MiB."""
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def genanki_direct(build: DeckBuild, folder: Path) -> Callable[[], None]:
    """A step writing the notes of `build` with plain genanki, as a caller would."""
    with zipfile.ZipFile(io.BytesIO(build.data)) as archive:
        database = archive.read("collection.anki2")
    connection = sqlite3.connect(":memory:")
    connection.deserialize(database)
    rows = connection.execute("SELECT guid, mid, flds, tags FROM notes").fetchall()
    connection.close()
    models = {
        spec.id: genanki.Model(
            spec.id,
            spec.name,
            fields=[{"name": name} for name in spec.fields],
            templates=[{"name": spec.template, "qfmt": spec.front, "afmt": spec.back}],
            css=CSS,
            model_type=genanki.Model.CLOZE
            if spec.deletions
            else genanki.Model.FRONT_BACK,
        )
        for spec in NOTE_TYPES
    }

    def step() -> None:
        deck = genanki.Deck(2059400110, "Peacekeeping")
        for guid, mid, fields, tags in rows:
            deck.add_note(
                genanki.Note(
                    model=models[mid],
                    fields=fields.split("\x1f"),
                    tags=tags.split(),
                    guid=guid,
                )
            )
        genanki.Package(deck).write_to_file(str(folder / "genanki.apkg"))

    return step


def anki_import(build: DeckBuild, folder: Path) -> float:
    """Seconds the real Anki backend takes to import the package."""
    from anki.collection import (
        Collection,
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
    )

    package = folder / "ours.apkg"
    package.write_bytes(build.data)
    (folder / "anki").mkdir()
    collection = Collection(str(folder / "anki" / "collection.anki2"))
    try:
        began = time.perf_counter()
        log = collection.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions()
            )
        ).log
        elapsed = time.perf_counter() - began
        if len(log.new) != build.notes:
            raise RuntimeError(f"Anki imported {len(log.new)} of {build.notes} notes")
        return elapsed
    finally:
        collection.close()


def main() -> None:
    """Build the synthetic bank, run each step and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R timings")
    parser.add_argument(
        "--import", dest="anki", action="store_true", help="also time Anki's import"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # genanki's write_to_file leaks a temporary file per call: keep it in here.
        tempfile.tempdir = str(folder)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "benchmark",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            }
        )
        with app.app_context():
            db.create_all()
            began = time.perf_counter()
            populate(args.questions)
            populate_time = time.perf_counter() - began

            def select() -> list[Question]:
                db.session.expunge_all()
                return select_questions()

            select_time, questions = timed(select, args.repeat)
            build_time, build = timed(lambda: build_deck(questions), args.repeat)
            build_peak = peak_mib(lambda: build_deck(questions))
            select_peak = peak_mib(select)
            direct = genanki_direct(build, folder)
            direct_time, _ = timed(direct, args.repeat)
            direct_peak = peak_mib(direct)
            direct_size = (folder / "genanki.apkg").stat().st_size
            import_time = anki_import(build, folder) if args.anki else None
        tempfile.tempdir = None

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.questions} questions -> {build.notes} notes, {build.cards} cards; "
        f"package {len(build.data) / 2**20:.2f} MiB (genanki's own: "
        f"{direct_size / 2**20:.2f} MiB, uncompressed); "
        f"synthetic bank inserted in {populate_time:.2f} s; best of {args.repeat}"
    )
    rows = [
        ("select_questions (query + eager loads)", select_time, select_peak),
        ("build_deck (fields + notes + .apkg)", build_time, build_peak),
        ("genanki direct, same notes", direct_time, direct_peak),
    ]
    if import_time is not None:
        rows.append(("Anki import of build_deck's package", import_time, None))
    print(f"{'step':<42}{'time (s)':>10}{'per note (ms)':>15}{'peak (MiB)':>12}")
    for name, seconds, peak in rows:
        per_note = seconds / max(build.notes, 1) * 1000
        peak_text = f"{peak:12.1f}" if peak is not None else f"{'-':>12}"
        print(f"{name:<42}{seconds:>10.3f}{per_note:>15.3f}{peak_text}")
    ratio = build_time / direct_time
    print(f"{'time ratio build_deck / genanki direct':<42}{ratio:>9.2f}x")
    print(f"process max RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
