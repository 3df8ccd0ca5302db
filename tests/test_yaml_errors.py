"""YAML syntax errors name the line a person must fix, and say what was not read.

Each case breaks one line of the fixture bank's questions file (a copy), so the
expected line is the one the test changed, found by its text.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from quizapp.content import read_bank
from quizapp.extensions import db
from quizapp.models import Essay, Passage, Question, QuestionSource, Quiz
from tests.conftest import FIXTURE_CONTENT, count_rows

QUESTIONS = "questions/cooperation-peacekeeping-missions.yaml"
MULTIPLE_PROMPT = "  prompt: Which challenges of peacekeeping does the essay name?\n"
SINGLE_PROMPT = "  prompt: Engineers of a mission are clearing mines"
APOSTROPHE_LINE = "military forces' operational readiness"  # a later single quote
ERROR = re.compile(r"^error: (?P<path>[^:]+):(?P<line>\d+): \[(?P<ident>[^\]]+)\] ")


@dataclass(frozen=True)
class Break:
    """One edit of the questions file and the line its error must name."""

    name: str
    old: str
    new: str
    marker: str  # text on the line the error must name (after the edit)
    ident: str
    message: str  # a fragment of the message
    also: tuple[str, str] | None = None  # a second edit (old, new), if needed


BREAKS = [
    Break(
        # The quote swallows lines up to the apostrophe 22 lines below; the parser
        # fails there, and used to report that line.
        "unclosed-single-quote",
        MULTIPLE_PROMPT,
        "  prompt: 'Which challenges of peacekeeping does the essay name?\n",
        "prompt: 'Which challenges",
        "fx-multiple",
        "the quoted value starting on this line runs on to line",
    ),
    Break(
        "unclosed-double-quote-to-end-of-file",
        MULTIPLE_PROMPT,
        '  prompt: "Which challenges of peacekeeping does the essay name?\n',
        'prompt: "Which challenges',
        "fx-multiple",
        "runs to the end of the file (a missing closing quote?)",
    ),
    Break(
        "unclosed-double-quote-before-another-quoted-value",
        SINGLE_PROMPT,
        '  prompt: "Engineers of a mission are clearing mines',
        'prompt: "Engineers of a mission',
        "fx-single",
        "runs on to line",
        also=(
            "  prompt: Joint training exercises are said to boost operational "
            "readiness.\n",
            '  prompt: "Joint training exercises are said to boost operational '
            'readiness."\n',
        ),
    ),
    Break(
        "bad-indentation",
        "  answer: true\n",
        " answer: true\n",
        " answer: true",
        "fx-true-false",
        "YAML syntax:",
    ),
    Break(
        "tab-indentation",
        "  feedback: The essay says the exercises",
        "\tfeedback: The essay says the exercises",
        "\tfeedback: The essay says",
        "fx-true-false",
        "tab",
    ),
    Break(
        "colon-in-plain-value",
        MULTIPLE_PROMPT,
        "  prompt: Which challenges: does the essay name?\n",
        "Which challenges: does",
        "fx-multiple",
        "mapping values are not allowed",
    ),
]


def broken_bank(tmp_path: Path, case: Break) -> tuple[Path, Path, int]:
    """A copy of the fixture bank with `case` applied; (bank, file, expected line)."""
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    path = bank / QUESTIONS
    text = path.read_text("utf-8")
    for old, new in [(case.old, case.new), *([case.also] if case.also else [])]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, "utf-8")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if case.marker in line]
    assert len(lines) == 1, case.marker
    return bank, path, lines[0]


@pytest.mark.parametrize("case", BREAKS, ids=[c.name for c in BREAKS])
def test_a_yaml_syntax_error_names_the_line_where_the_problem_starts(
    app: Flask, tmp_path: Path, case: Break
) -> None:
    bank, path, line = broken_bank(tmp_path, case)

    result = app.test_cli_runner().invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 1
    errors = [ERROR.match(text) for text in result.stderr.splitlines()]
    located = [(m["path"], int(m["line"]), m["ident"]) for m in errors if m]
    assert located == [(str(path), line, case.ident)], result.stderr
    assert case.message in result.stderr
    assert "YAML syntax:" in result.stderr


def test_a_swallowed_quote_names_both_its_start_and_where_parsing_failed(
    tmp_path: Path,
) -> None:
    case = BREAKS[0]
    bank, path, line = broken_bank(tmp_path, case)
    lines = path.read_text("utf-8").splitlines()
    apostrophe = next(n for n, t in enumerate(lines, 1) if APOSTROPHE_LINE in t)

    (error,) = read_bank(bank).errors

    assert error.line == line < apostrophe
    assert f"runs on to line {apostrophe}" in error.message


def test_a_file_that_cannot_be_read_is_named_with_its_question_count(
    app: Flask, tmp_path: Path
) -> None:
    bank, path, _ = broken_bank(tmp_path, BREAKS[0])
    # Counted in the raw text: one question per "- id:" line.
    expected = len(re.findall(r"^\s*- id:", path.read_text("utf-8"), re.MULTILINE))
    assert expected == 8

    result = app.test_cli_runner().invoke(args=["content", "check", str(bank)])

    summary, unread, advice = result.stdout.splitlines()
    assert summary.startswith("3 files: 1 essays, 0 questions (none), 2 quizzes; ")
    assert unread == (
        f"8 questions in {path} were not read (a YAML syntax error above) and not "
        "counted here"
    )
    assert advice == "Fix the errors above (each names file:line [id]) and run again."


def test_a_duplicate_key_names_its_second_line_and_the_file_is_still_read(
    app: Flask, tmp_path: Path
) -> None:
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    path = bank / QUESTIONS
    text = path.read_text("utf-8").replace(
        "  difficulty: easy\n  bloom: apply\n",
        "  difficulty: easy\n  difficulty: hard\n  bloom: apply\n",
    )
    path.write_text(text, "utf-8")
    line = text.splitlines().index("  difficulty: hard") + 1

    result = app.test_cli_runner().invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 1
    assert (
        f"error: {path}:{line}: [fx-single] duplicate key 'difficulty' "
        f"(first on line {line - 1})" in result.stderr
    )
    assert "not read" not in result.stdout


def test_a_load_with_an_unreadable_file_writes_nothing(
    loaded_app: Flask, tmp_path: Path
) -> None:
    bank, path, _ = broken_bank(tmp_path, BREAKS[0])
    tables = (Question, Quiz, Essay, Passage, QuestionSource)
    before = {model.__name__: count_rows(loaded_app, model) for model in tables}
    with loaded_app.app_context():
        retired_before = set(
            db.session.scalars(select(Question.id).where(Question.retired))
        )

    result = loaded_app.test_cli_runner().invoke(args=["content", "load", str(bank)])

    assert result.exit_code == 1
    assert f"8 questions in {path} were not read" in result.stdout
    assert "Nothing was loaded: fix the errors above and run again." in result.stderr
    assert {model.__name__: count_rows(loaded_app, model) for model in tables} == before
    with loaded_app.app_context():
        retired = set(db.session.scalars(select(Question.id).where(Question.retired)))
    assert retired == retired_before == set()
