"""Benchmark the Anki export: our builder against genanki writing the same notes.

Run: .venv/bin/python benchmarks/anki_export.py [--questions N] [--repeat R] [--import]

Inserts N synthetic questions (all eight types, one to two sources and two tags each,
over five essays) into a temporary SQLite file, then runs every measurement in a fresh
child process (this script with --child STEP), R rounds of all steps in turn. A child
times one run of one step and the parent reads the child's peak resident memory from
wait4 (ru_maxrss: the whole child, interpreter, app and step). Steps:

  load-orm            select_questions(): ORM rows with eager loads (the web deck path)
  load-light          load_questions(export_query()): the rows the CLI streams
  export              what `flask anki export` does: count, stream, build, write a file
  export-orm          the same from select_questions() (the CLI before issue 16)
  ours-collection     build_collection() from loaded rows: fields, notes, SQLite image
  ours-deck           build_deck() from loaded rows: that image deflated into an .apkg
  genanki-collection  genanki Notes of our fields, Package.write_to_db in memory
  genanki-deck        those zipped exactly as ours (deflate level ZIP_LEVEL)
  genanki-file        genanki's own Package.write_to_file (temporary file, no deflate)
  zip                 zipping our collection at levels 0 (stored), 1, 6 and 9
  import              (--import) the real Anki backend importing our package

The time goal compares like with like: our collection against genanki's (no zip on
either side) and our deck against genanki's notes zipped the same way.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import genanki
from flask import Flask
from sqlalchemy import func, insert, select

from quizapp import create_app
from quizapp.anki.builder import (
    ZIP_DATE,
    ZIP_LEVEL,
    Collection,
    build_collection,
    build_deck,
    iter_questions,
    load_questions,
    write_deck,
    zip_package,
)
from quizapp.anki.history import learner_deck
from quizapp.anki.notetypes import CSS, NOTE_TYPES
from quizapp.content.schema import TYPES
from quizapp.extensions import db
from quizapp.models import (
    Essay,
    Learner,
    Passage,
    Question,
    QuestionSource,
    Tag,
    question_tag,
)
from quizapp.questions import export_query, select_questions
from quizapp.study.history import Event, merge_events

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


LEARNER = "benchlearner0000000000000000000a"


def populate_history(rng_seed: int = 6) -> int:
    """A learner who has reviewed every question one to three times (the
    personal deck's worst case: every card scheduled, a long review log)."""
    rng = random.Random(rng_seed)
    db.session.add(Learner(id=LEARNER))
    db.session.flush()
    start = datetime(2026, 6, 1, tzinfo=UTC)
    events = []
    for qid in db.session.scalars(select(Question.id).order_by(Question.id)):
        at = start + timedelta(seconds=rng.randint(0, 86_400 * 30))
        for _ in range(rng.randint(1, 3)):
            events.append(Event(qid, at, rng.choice((1, 3, 3, 3, 4)), "study"))
            at += timedelta(days=rng.randint(1, 20))
    merged = merge_events(LEARNER, events, 0.9)
    db.session.commit()
    return merged.added


# -- the steps, each run in a child process -------------------------------------------

Step = Callable[[Path], Callable[[], dict[str, Any]]]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    """Register a step: setup(folder) runs untimed and returns the timed action."""

    def register(setup: Step) -> Step:
        STEPS[name] = setup
        return setup

    return register


@step("load-orm")
def _load_orm(folder: Path) -> Callable[[], dict[str, Any]]:
    return lambda: {"rows": len(select_questions())}


@step("load-light")
def _load_light(folder: Path) -> Callable[[], dict[str, Any]]:
    return lambda: {"rows": len(load_questions(export_query()))}


@step("export")
def _export(folder: Path) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        # As quizapp/anki/cli.py: count, then stream the rows into the builder.
        query = export_query()
        db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
        build = write_deck(iter_questions(query), folder / "ours.apkg")
        return {"notes": build.notes, "cards": build.cards, "bytes": len(build.data)}

    return run


@step("export-orm")
def _export_orm(folder: Path) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        build = write_deck(select_questions(), folder / "ours-orm.apkg")
        return {"bytes": len(build.data)}

    return run


@step("progress-deck")
def _progress_deck(folder: Path) -> Callable[[], dict[str, Any]]:
    rows = load_questions(export_query())
    return lambda: {"bytes": len(learner_deck(rows, LEARNER))}


@step("ours-collection")
def _ours_collection(folder: Path) -> Callable[[], dict[str, Any]]:
    rows = load_questions(export_query())
    return lambda: {"bytes": len(build_collection(rows).database)}


@step("ours-deck")
def _ours_deck(folder: Path) -> Callable[[], dict[str, Any]]:
    rows = load_questions(export_query())
    return lambda: {"bytes": len(build_deck(rows).data)}


def _genanki_notes(folder: Path) -> Callable[[], list[genanki.Deck]]:
    """Decks of plain genanki Notes holding exactly our package's fields and tags."""
    with zipfile.ZipFile(folder / "ours.apkg") as archive:
        database = archive.read("collection.anki2")
    connection = sqlite3.connect(":memory:")
    connection.deserialize(database)
    rows = connection.execute("SELECT guid, mid, flds, tags FROM notes").fetchall()
    connection.close()
    del database
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

    def decks() -> list[genanki.Deck]:
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
        return [deck]

    return decks


def _genanki_database(decks: list[genanki.Deck]) -> bytes:
    connection = sqlite3.connect(":memory:")
    try:
        genanki.Package(decks).write_to_db(
            connection.cursor(), 1796191200, iter(range(10**12, 10**13))
        )
        connection.commit()
        return connection.serialize()
    finally:
        connection.close()


@step("genanki-collection")
def _genanki_collection(folder: Path) -> Callable[[], dict[str, Any]]:
    decks = _genanki_notes(folder)
    return lambda: {"bytes": len(_genanki_database(decks()))}


@step("genanki-deck")
def _genanki_deck(folder: Path) -> Callable[[], dict[str, Any]]:
    decks = _genanki_notes(folder)

    def run() -> dict[str, Any]:
        build = zip_package(Collection(_genanki_database(decks()), 0, 0))
        return {"bytes": len(build.data)}

    return run


@step("genanki-file")
def _genanki_file(folder: Path) -> Callable[[], dict[str, Any]]:
    decks = _genanki_notes(folder)
    # write_to_file leaves a temporary database behind: keep it in the scratch folder.
    tempfile.tempdir = str(folder)
    target = folder / "genanki.apkg"

    def run() -> dict[str, Any]:
        genanki.Package(decks()).write_to_file(str(target))
        return {"bytes": target.stat().st_size}

    return run


def zipped(database: bytes, level: int) -> bytes:
    """Our package layout around `database`, stored (level 0) or deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in (("collection.anki2", database), ("media", b"{}")):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
            archive.writestr(entry, payload, compresslevel=level or None)
    return buffer.getvalue()


@step("zip")
def _zip(folder: Path) -> Callable[[], dict[str, Any]]:
    with zipfile.ZipFile(folder / "ours.apkg") as archive:
        database = archive.read("collection.anki2")
    ours = zip_package(Collection(database, 0, 0)).data
    if zipped(database, ZIP_LEVEL) != ours:
        raise RuntimeError("zipped() no longer matches the builder's zip_package")

    def run() -> dict[str, Any]:
        levels: dict[str, Any] = {"database": len(database)}
        for level in (0, 1, 6, 9):
            began = time.perf_counter()
            size = len(zipped(database, level))
            levels[str(level)] = [time.perf_counter() - began, size]
        return levels

    return run


@step("import")
def _import(folder: Path) -> Callable[[], dict[str, Any]]:
    from anki.collection import (
        Collection as AnkiCollection,
    )
    from anki.collection import (
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
    )

    scratch = Path(tempfile.mkdtemp(dir=folder))
    collection = AnkiCollection(str(scratch / "collection.anki2"))
    request = ImportAnkiPackageRequest(
        package_path=str(folder / "ours.apkg"), options=ImportAnkiPackageOptions()
    )

    def run() -> dict[str, Any]:
        try:
            log = collection.import_anki_package(request).log
        finally:
            collection.close()
        return {"new": len(log.new)}

    return run


def _app(folder: Path) -> Flask:
    return create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
        }
    )


def _vm_hwm_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(name: str, folder: Path, runs: int) -> None:
    """Run one step `runs` times; print the first and best later time as JSON."""
    app = _app(folder)
    with app.app_context():
        action = STEPS[name](folder)
        base = _vm_hwm_mib()  # interpreter, app, step setup (e.g. the loaded rows)
        times = []
        for _ in range(1 if name == "import" else runs):
            facts: dict[str, Any] = {}  # drop the last result before the next run
            began = time.perf_counter()
            facts = action()
            times.append(time.perf_counter() - began)
    warm = min(times[1:], default=times[0])
    print(json.dumps({"cold": times[0], "warm": warm, "base_mib": base, **facts}))


def run_child(name: str, folder: Path, runs: int) -> dict[str, Any]:
    """One fresh process for one measurement; adds its peak RSS from wait4."""
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            *("--child", name, "--folder", str(folder), "--runs", str(runs)),
        ],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"step {name} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(output)
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


# -- the report -----------------------------------------------------------------------

ROWS = [
    ("load-orm", "select_questions (ORM + eager loads)"),
    ("load-light", "load_questions (four light statements)"),
    ("export", "CLI export: count, stream, build, write"),
    ("export-orm", "the same from select_questions"),
    ("ours-collection", "ours: collection (no zip)"),
    ("genanki-collection", "genanki: same notes, collection (no zip)"),
    ("ours-deck", f"ours: deck (deflate {ZIP_LEVEL})"),
    ("genanki-deck", f"genanki: same notes, deck (deflate {ZIP_LEVEL})"),
    ("genanki-file", "genanki: write_to_file (stored, temp file)"),
    ("progress-deck", "personal deck with the learner's history (anki lib)"),
    ("import", "Anki import of our package"),
]
TIME_GOAL = 1.3
PEAK_GOAL_MIB = 200


def main() -> None:
    """Build the synthetic bank, run each step in fresh processes, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh processes per step (best of)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per process: the first is 'cold'"
    )
    parser.add_argument(
        "--import", dest="anki", action="store_true", help="also time Anki's import"
    )
    parser.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.runs)
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        app = _app(folder)
        with app.app_context():
            db.create_all()
            began = time.perf_counter()
            populate(args.questions)
            populate_time = time.perf_counter() - began
            reviews = populate_history()
            print(f"learner history: {reviews} reviews", file=sys.stderr)
            db.engine.dispose()
        names = [name for name, _ in ROWS if name != "import"] + ["zip"]
        if args.anki:
            names.append("import")
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for _ in range(args.repeat):
            for name in names:  # "export" first: it writes ours.apkg for the rest
                runs[name].append(run_child(name, folder, args.runs))
    report(runs, args, populate_time)


def report(
    runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace, populate: float
) -> None:
    """Print the step table, the ratios against their goals and the zip table."""
    cold = {name: min(r["cold"] for r in results) for name, results in runs.items()}
    warm = {name: min(r["warm"] for r in results) for name, results in runs.items()}
    export = runs["export"][0]
    print(
        f"{args.questions} questions -> {export['notes']} notes, {export['cards']} "
        f"cards; package {export['bytes'] / 2**20:.2f} MiB; bank inserted in "
        f"{populate:.2f} s; {args.repeat} fresh processes per step, {args.runs} runs "
        f"each; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'step':<46}{'cold (s)':>9}{'warm (s)':>9}{'ms/note':>8}"
        f"{'peak MiB':>9}{'before':>8}"
    )
    for name, label in ROWS:
        if name not in runs:
            continue
        results = runs[name]
        peak = max(r["peak_mib"] for r in results)
        base = max(r["base_mib"] for r in results)
        per_note = warm[name] / max(export["notes"], 1) * 1000
        print(
            f"{label:<46}{cold[name]:>9.3f}{warm[name]:>9.3f}{per_note:>8.3f}"
            f"{peak:>9.0f}{base:>8.0f}"
        )
    print(
        "(best of the processes; cold: a process's first run, as a CLI export is;"
        " warm: its later runs, as a web worker's next deck is; peak: the process's"
        " max RSS, before: its RSS when the timed runs began)"
    )
    ratios = [
        (
            "collection, ours / genanki (no zip)",
            "ours-collection",
            "genanki-collection",
        ),
        ("deck, ours / genanki (same deflate)", "ours-deck", "genanki-deck"),
    ]
    for label, ours, theirs in ratios:
        for kind, times in (("cold", cold), ("warm", warm)):
            ratio = times[ours] / times[theirs]
            verdict = "met" if ratio <= TIME_GOAL else "MISSED"
            name = f"{label}, {kind}"
            print(f"{name:<52}{ratio:>6.2f}x  goal <= {TIME_GOAL}x: {verdict}")
    ratio = cold["ours-deck"] / cold["genanki-file"]
    label = "deck, ours / genanki write_to_file, cold"
    print(f"{label:<52}{ratio:>6.2f}x  (ours deflates, write_to_file stores)")
    peak = max(r["peak_mib"] for r in runs["export"])
    verdict = "met" if peak < PEAK_GOAL_MIB else "MISSED"
    label = "CLI export process peak"
    print(f"{label:<52}{peak:>4.0f} MiB  goal < {PEAK_GOAL_MIB} MiB: {verdict}")
    if "progress-deck" in runs:
        ratio = cold["progress-deck"] / cold["ours-deck"]
        label = "personal deck / plain deck, cold"
        print(f"{label:<52}{ratio:>6.2f}x  (anki's import + schedule + export)")
        peak = max(r["peak_mib"] for r in runs["progress-deck"])
        verdict = "met" if peak < PEAK_GOAL_MIB else "MISSED"
        label = "personal deck: largest process peak (app or bridge)"
        print(f"{label:<52}{peak:>4.0f} MiB  goal < {PEAK_GOAL_MIB} MiB: {verdict}")
    zips = runs["zip"]
    size = zips[0]["database"]
    print(f"zipping our collection ({size / 2**20:.2f} MiB of SQLite), warm:")
    print(f"{'level':<10}{'best (s)':>9}{'MiB':>8}{'of stored':>10}")
    for level in ("0", "1", "6", "9"):
        seconds = min(z[level][0] for z in zips)
        length = zips[0][level][1]
        print(f"{level:<10}{seconds:>9.3f}{length / 2**20:>8.2f}{length / size:>10.1%}")


if __name__ == "__main__":
    main()
