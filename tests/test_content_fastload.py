"""The fast paths of `flask content load` against the plain ones they replace.

Bulk writes against ORM objects: the same sequence of loads written both ways must
leave every row of every content table the same. The digest skip: a reload of the
same files is not read, a forced one agrees, and any change to a file, a file name
or the loader's code is read. The YAML event reader: what it builds is what PyYAML's
loader builds, and what it does not build it leaves to that loader.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select, update

from quizapp import cli
from quizapp.content import digest, load_bank, read_bank, yamlio
from quizapp.content.digest import digest_files
from quizapp.extensions import db
from quizapp.models import ContentState, Question
from tests.conftest import BANK_CONTENT, FIXTURE_CONTENT
from tests.synthetic import write_bank

# Columns left out of the comparison: clocks, and the ids of rows that are
# deleted and inserted again (a changed question's sources).
UNCOMPARED = {
    "question": {"updated_at"},
    "question_source": {"id"},
    "content_state": {"loaded_at"},
}
CONTENT_TABLES = (
    "essay",
    "passage",
    "tag",
    "question",
    "question_tag",
    "question_source",
    "quiz",
    "content_state",
)

Questions = dict[str, list[dict[str, Any]]]


def edit_questions(bank: Path, change: Callable[[Questions], None]) -> None:
    """Rewrite the bank's question files through `change` (essay slug -> items)."""
    files = sorted((bank / "questions").glob("*.yaml"))
    bodies = {path: yaml.safe_load(path.read_text("utf-8")) for path in files}
    items = {body["essay"]: body["questions"] for body in bodies.values()}
    change(items)
    for path, body in bodies.items():
        path.write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every content table, sorted, without the uncompared columns."""
    rows = {}
    with app.app_context():
        for name in CONTENT_TABLES:
            table = db.metadata.tables[name]
            columns = [c for c in table.c if c.name not in UNCOMPARED.get(name, ())]
            found = db.session.execute(select(*columns)).all()
            rows[name] = sorted((tuple(row) for row in found), key=repr)
    return rows


def stamps(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return dict(db.session.execute(select(Question.id, Question.updated_at)).all())


@pytest.fixture
def banks(tmp_path: Path) -> list[Path]:
    """A synthetic bank, the same bank edited every way a load meets, then it again."""
    first = write_bank(tmp_path / "first", 48)
    edited = tmp_path / "edited"
    shutil.copytree(first, edited)

    def edit(items: Questions) -> None:
        essays = list(items)
        one, two = items[essays[0]], items[essays[1]]
        one[0]["prompt"] += " (reworded)"  # changed
        one[1]["tags"] = ["topic-new", "topic-1"]  # a new tag, and another kept
        one[2]["source"].append(dict(two[0]["source"][0], essay=essays[1]))
        del one[3]  # retired
        one.insert(0, dict(one[4], id="q-added"))  # added first: the rest move
        two.reverse()  # reordered only

    edit_questions(edited, edit)
    essay = sorted((edited / "essays").glob("*.yaml"))[-1]
    body = yaml.safe_load(essay.read_text("utf-8"))
    body["title"] = "Renamed: " + body["title"]
    essay.write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")
    return [first, edited, first]


def load_all(app: Flask, banks: list[Path], bulk: bool) -> list[Any]:
    """Load each bank in turn; the tables and the update stamps after each load."""
    states = []
    with app.app_context():
        db.drop_all()
        db.create_all()
    for bank in banks:
        with app.app_context():
            content = read_bank(bank)
            assert content.ok, "\n".join(map(str, content.errors))
            report = load_bank(content, db.session, bulk=bulk)
            db.session.commit()
        states.append((str(report), report.essays_line(), snapshot(app), stamps(app)))
    return states


def test_bulk_load_writes_the_same_rows_as_the_orm_path(
    app: Flask, banks: list[Path]
) -> None:
    orm = load_all(app, banks, bulk=False)
    bulk = load_all(app, banks, bulk=True)

    assert [state[:3] for state in bulk] == [state[:3] for state in orm]
    added, updated, retired = (int(part.split()[0]) for part in orm[1][0].split(","))
    assert (added, retired) == (1, 1) and updated > 3  # the edits were all seen
    assert orm[1][1] == "Essays: 1 title or passage changed."
    for step in (1, 2):
        # The same questions got a new update stamp at each step.
        moved = [
            {
                qid
                for qid, stamp in run[step][3].items()
                if stamp != run[step - 1][3].get(qid)
            }
            for run in (orm, bulk)
        ]
        assert moved[0] == moved[1]
        assert moved[0]


# --- the digest: a reload of the same files is not read again ----------------------

SKIPPED = "files as last loaded: not read again (--force reads them)."
NO_CHANGES = "No changes: 0 added, 0 updated, 0 retired."


def cli_load(app: Flask, bank: Path, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["content", "load", str(bank), *args])


def test_a_reload_of_the_same_files_is_skipped_and_a_forced_one_agrees(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    assert "Loaded: 10 added" in cli_load(app, bank).stdout
    loaded = snapshot(app)

    def unread(*_args: Any) -> None:
        raise AssertionError("the files were read again")

    # Outside TESTING the skip reads nothing (under it, it also runs the plain path).
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setattr(cli, "read_bank", unread)
    skipped = cli_load(app, bank)
    monkeypatch.undo()
    forced = cli_load(app, bank, "--force")

    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.splitlines() == [f"3 {SKIPPED}", NO_CHANGES]
    assert forced.exit_code == 0, forced.output
    assert SKIPPED not in forced.stdout
    assert forced.stdout.splitlines()[-1] == NO_CHANGES
    assert snapshot(app) == loaded


def test_the_digest_of_the_files_is_the_one_read_bank_computes(
    tmp_path: Path,
) -> None:
    bank = write_bank(tmp_path / "content", 16)
    (bank / "quizzes" / "more.yml").write_text("quizzes: []\n", "utf-8")

    read = read_bank(bank)
    files = digest_files(bank)

    assert files is not None
    assert (files.hexdigest(), files.files) == (read.digest, read.files)
    assert digest_files(tmp_path / "nowhere") is None


def _rename(bank: Path) -> None:
    path = bank / "quizzes" / "quizzes.yaml"
    path.rename(path.with_suffix(".yml"))


def _move_last_quiz_to_new_file(bank: Path) -> None:
    path = bank / "quizzes" / "quizzes.yaml"
    text = path.read_text("utf-8")
    cut = text.index("- slug: fx-exam")
    path.write_text(text[:cut], "utf-8")
    (bank / "quizzes" / "z-exam.yaml").write_text("quizzes:\n" + text[cut:], "utf-8")


def _edit(file: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(bank: Path) -> None:
        path = bank / file
        text = path.read_text("utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), "utf-8")

    return edit


ESSAY = "essays/cooperation-peacekeeping-missions.yaml"
QUESTIONS = "questions/cooperation-peacekeeping-missions.yaml"
QUIZZES = "quizzes/quizzes.yaml"
CHANGES = {
    "essay-passage": (
        _edit(ESSAY, "are joint training exercises.", "are joint training drills."),
        "Essays: 1 title or passage changed.",
    ),
    "essay-title": (
        _edit(ESSAY, "title: '", "title: 'The "),
        "Essays: 1 title or passage changed.",
    ),
    "question": (
        _edit(QUESTIONS, "Which humanitarian task is this?", "Which task is it?"),
        "Loaded: 0 added, 1 updated, 0 retired.",
    ),
    "quiz": (
        _edit(QUIZZES, "title: Fixture exam", "title: Fixture test"),
        "Loaded: 0 added, 1 updated, 0 retired.",
    ),
    "a-comment-only": (
        _edit(QUIZZES, "quizzes:\n", "# Two quizzes.\nquizzes:\n"),
        NO_CHANGES,
    ),
    "file-renamed": (_rename, NO_CHANGES),
    "record-moved-to-a-new-file": (_move_last_quiz_to_new_file, NO_CHANGES),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_reload_after_any_change_to_the_files_reads_them(
    app: Flask, tmp_path: Path, change: tuple[Callable[[Path], None], str]
) -> None:
    edit, said = change
    bank = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    assert cli_load(app, bank).exit_code == 0
    edit(bank)

    result = cli_load(app, bank)

    assert result.exit_code == 0, result.output
    assert SKIPPED not in result.stdout
    assert said in result.stdout.splitlines()
    files = len([*bank.rglob("*.yaml"), *bank.rglob("*.yml")])
    assert cli_load(app, bank).stdout.splitlines() == [f"{files} {SKIPPED}", NO_CHANGES]


def test_a_reload_after_the_loader_code_changed_reads_the_files(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    assert cli_load(app, bank).exit_code == 0
    monkeypatch.setattr(digest, "_code_digest", lambda: b"another version")

    result = cli_load(app, bank)

    assert result.exit_code == 0, result.output
    assert SKIPPED not in result.stdout
    assert result.stdout.splitlines()[-1] == NO_CHANGES


def test_a_broken_file_after_a_load_is_reported_and_changes_nothing(
    app: Flask, tmp_path: Path
) -> None:
    bank = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    assert cli_load(app, bank).exit_code == 0
    loaded = snapshot(app)
    path = bank / QUESTIONS
    good = path.read_text("utf-8")
    path.write_text(good.replace("  difficulty: hard\n", ""), "utf-8")

    broken = cli_load(app, bank)
    path.write_text(good, "utf-8")
    restored = cli_load(app, bank)

    assert broken.exit_code == 1
    assert f"error: {path}:" in broken.stderr
    assert "missing field 'difficulty'" in broken.stderr
    assert snapshot(app) == loaded
    # The failed load recorded nothing: the good files are still the last loaded.
    assert restored.stdout.splitlines() == [f"3 {SKIPPED}", NO_CHANGES]


def test_a_database_without_a_recorded_digest_reads_the_files_once(
    app: Flask, tmp_path: Path
) -> None:
    bank = shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    assert cli_load(app, bank).exit_code == 0
    with app.app_context():
        db.session.execute(update(ContentState).values(content_digest=None))
        db.session.commit()
    version = content_version(app)

    first = cli_load(app, bank)
    second = cli_load(app, bank)

    assert SKIPPED not in first.stdout
    assert first.stdout.splitlines()[-1] == NO_CHANGES
    assert second.stdout.splitlines() == [f"3 {SKIPPED}", NO_CHANGES]
    assert content_version(app) == version  # recording the digest is no change


def content_version(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(ContentState.version)) or 0


# --- the YAML event reader against PyYAML's loader --------------------------------

SNIPPETS = {
    "scalars": (
        "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: '7'\ng: \"x\"\nh: 2020-01-02\n"
        "i: 0x1f\nj: .inf\nk: On\nl: ''\nm:\n",
        True,
    ),
    "nesting": (
        "- id: x\n  items: [a, {b: c}, [d]]\n  text: |\n    two\n    lines\n",
        True,
    ),
    "duplicates": ("a: 1\nb: 2\na: 3\n", True),
    "folded-and-unicode": ('q: >\n  folded\n  text ’quoted’\nr: "\\u00e9"\n', True),
    "empty": ("", False),
    "comment-only": ("# nothing\n", False),
    "anchor-and-alias": ("a: &x [1, 2]\nb: *x\n", False),
    "merge-key": ("base: &b {x: 1}\nmore:\n  <<: *b\n  y: 2\n", False),
    "tag": ("a: !!str 12\nb: !!int '3'\n", False),
    "number-key": ("1: one\n", False),
    "two-documents": ("a: 1\n---\nb: 2\n", False),
    "python-tag": ("!!python/object/apply:os.system ['true']\n", False),
    "syntax-error": ("a: [1, 2\nb: 3\n", False),
}


@pytest.mark.parametrize("snippet", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_the_event_reader_builds_what_pyyaml_builds_or_leaves_it_to_pyyaml(
    snippet: tuple[str, bool],
) -> None:
    text, built_by_events = snippet
    try:
        plain = yaml.load(text, Loader=yamlio._Loader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as error:
        plain = error
    try:
        fast = yamlio._from_events(text)
    except (yamlio._Unusual, yaml.YAMLError, ValueError):
        assert not built_by_events
        return
    assert built_by_events
    assert yamlio.same_yaml(fast, plain)


@pytest.mark.parametrize(
    "root", [BANK_CONTENT, FIXTURE_CONTENT], ids=["bank", "fixture"]
)
def test_every_content_file_is_built_from_events_as_pyyaml_builds_it(
    root: Path, tmp_path: Path
) -> None:
    synthetic = write_bank(tmp_path / "synthetic", 40)
    files = sorted([*root.rglob("*.yaml"), *synthetic.rglob("*.yaml")])
    assert len(files) > 5
    for path in files:
        text = path.read_text("utf-8")
        plain = yaml.load(text, Loader=yamlio._Loader)  # noqa: S506  # nosec B506
        assert yamlio.same_yaml(yamlio._from_events(text), plain), path


def test_same_yaml_sees_a_wrong_line_a_wrong_type_and_a_wrong_order() -> None:
    text = "a: 1\nb: [x]\n"
    plain = yaml.load(text, Loader=yamlio._Loader)  # noqa: S506  # nosec B506
    moved = yamlio._from_events(text)
    moved.key_lines["b"] = 3
    retyped = yamlio._from_events(text.replace("1", "'1'"))
    reordered = yamlio._from_events("b: [x]\na: 1\n")

    assert yamlio.same_yaml(yamlio._from_events(text), plain)
    assert not yamlio.same_yaml(moved, plain)
    assert not yamlio.same_yaml(retyped, plain)
    assert not yamlio.same_yaml(reordered, plain)
