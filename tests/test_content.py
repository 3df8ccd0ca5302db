"""The content pipeline through its CLI: `flask content check|load [PATH]`.

Each broken-bank case copies the fixture bank to tmp_path, rewrites one file and runs
the command on the copy, so the line an error must point at is computed from the text
the test wrote.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import event, func, select

from quizapp.content import loader
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    Essay,
    Learner,
    Passage,
    Question,
    QuestionSource,
    Quiz,
    Response,
)
from tests.conftest import FIXTURE_CONTENT, count_rows, detached_row

ESSAY = "essays/cooperation-peacekeeping-missions.yaml"
QUESTIONS = "questions/cooperation-peacekeeping-missions.yaml"
QUIZZES = "quizzes/quizzes.yaml"
COUNTED = (Question, Quiz, Essay, Passage, QuestionSource)
FIXTURE_SUMMARY = (
    "3 files: 1 essays, 8 questions (1 single_choice, 1 multiple_response, "
    "1 true_false, 1 cloze, 1 short_answer, 1 matching, 1 numeric, 1 ordering), "
    "2 quizzes; "
    "0 errors, 0 warnings"
)
# "error: <path>[:<line>]:[ [<id>]] <message>", as the CLI prints a ContentError.
ERROR_LINE = re.compile(
    r"^error: (?P<path>[^:]+)(?::(?P<line>\d+))?:(?: \[(?P<ident>[^\]]+)\])? "
    r"(?P<message>.*)$"
)
SPARES = "  spares: [Air support]\n"
TF_QUOTE = "These exercises boost our military forces' operational readiness"


@dataclass(frozen=True)
class Located:
    """One error line of the CLI output, split into its parts."""

    path: str
    line: int | None
    ident: str | None
    message: str


def errors_in(output: str) -> list[Located]:
    """Every `error:` line the command printed."""
    found = []
    for text in output.splitlines():
        match = ERROR_LINE.match(text)
        if match:
            line = match["line"]
            found.append(
                Located(
                    match["path"],
                    int(line) if line else None,
                    match["ident"],
                    match["message"],
                )
            )
    return found


def copy_bank(tmp_path: Path) -> Path:
    """A writable copy of the fixture bank."""
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    return bank


def rewrite(path: Path, old: str, new: str) -> Path:
    """Replace the one occurrence of `old` in a content file by `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def drop_question(path: Path, question_id: str) -> None:
    """Remove one question (its `- id:` line up to the next question) from a file."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"- id: {question_id}\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("- id: ")),
        len(lines),
    )
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def line_of(path: Path, marker: str, after: str | None = None) -> int:
    """The 1-based number of the first line holding `marker` (at or after `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    if after is not None:
        start = next(i for i, text in enumerate(lines) if after in text)
    return next(i for i, text in enumerate(lines[start:], start) if marker in text) + 1


def db_state(app: Flask) -> dict[str, Any]:
    """Row counts of the content tables and what each question and quiz holds."""
    state: dict[str, Any] = {
        model.__name__: count_rows(app, model) for model in COUNTED
    }
    with app.app_context():
        state["questions"] = {
            q.id: (q.content_hash, q.retired, q.prompt, q.updated_at)
            for q in db.session.scalars(select(Question))
        }
        state["quizzes"] = {
            q.slug: (q.content_hash, q.retired)
            for q in db.session.scalars(select(Quiz))
        }
    return state


def load(runner: FlaskCliRunner, bank: Path) -> Any:
    return runner.invoke(args=["content", "load", str(bank)])


def question(app: Flask, question_id: str) -> Question:
    """A question row, detached with its plain columns loaded."""
    return detached_row(app, Question, question_id)


# --- broken banks ------------------------------------------------------------------

EXTRA_QUESTIONS = f"""\
essay: cooperation-peacekeeping-missions
questions:
- id: fx-extra
  type: true_false
  prompt: Joint training exercises are said to improve strategic approaches.
  answer: true
  explanation: The exercises enhance capabilities and strategic approaches.
  source:
  - quote: enhance their capabilities and strategic approaches
  tags: [training]
  difficulty: easy
  bloom: remember
- id: fx-cloze
  type: true_false
  prompt: Joint training exercises are said to boost operational readiness.
  answer: true
  explanation: Joint training exercises boost operational readiness.
  source:
  - quote: {TF_QUOTE}
  tags: [training]
  difficulty: easy
  bloom: remember
"""


@dataclass(frozen=True)
class Broken:
    """One way to break the fixture bank, and where the error must point."""

    name: str
    file: str  # relative to the bank
    old: str | None  # None: `new` is written as a whole new file
    new: str
    marker: str  # text on the line the error is about
    ident: str  # the question (or quiz) id the error must name
    message: str  # a fragment of the error message
    after: str | None = None  # `marker` is searched from the line holding this
    defect: str | None = None  # why naming file, line and id fails today


NO_ID_FOR_PARSE_ERRORS = (
    "quizapp/content/yamlio.py read_yaml: a YAML problem raised while parsing "
    "(syntax, duplicate key, unsafe tag) becomes a ContentError with no question id"
)

BROKEN = [
    Broken(
        "yaml-syntax",
        QUESTIONS,
        "  prompt: Which challenges of peacekeeping does the essay name?",
        "  prompt: Which challenges: does the essay name?",
        "Which challenges: does",
        "fx-multiple",
        "YAML syntax: mapping values are not allowed",
    ),
    Broken(
        "unknown-field",
        QUESTIONS,
        "  bloom: apply\n",
        "  bloom: apply\n  hint: Think of mines.\n",
        "hint: Think of mines.",
        "fx-single",
        "unknown field 'hint'",
    ),
    Broken(
        "unknown-field-in-option",
        QUESTIONS,
        "    feedback: Building roads",
        "    feedbak: Building roads",
        "feedbak: Building roads",
        "fx-single",
        "unknown field 'feedbak'",
    ),
    Broken(
        "missing-field",
        QUESTIONS,
        "  difficulty: hard\n",
        "",
        "- id: fx-matching",
        "fx-matching",
        "missing field 'difficulty'",
    ),
    Broken(
        "yaml-no-is-a-boolean",
        QUESTIONS,
        "  - text: Medical assistance\n",
        "  - text: no\n",
        "- text: no",
        "fx-single",
        "'text' must be text, got a boolean False (put it in quotes)",
    ),
    Broken(
        "yaml-1.10-is-a-number",
        QUESTIONS,
        "answers: [Haiti, Republic of Haiti]",
        "answers: [Haiti, 1.10]",
        "answers: [Haiti, 1.10]",
        "fx-short",
        "each entry of 'answers' must be text, got a number 1.1",
    ),
    Broken(
        "year-is-a-number",
        QUESTIONS,
        "    right: Clear communication channels",
        "    right: 1978",
        "right: 1978",
        "fx-matching",
        "'right' must be text, got a number 1978",
    ),
    Broken(
        "correct-flag-is-text",
        QUESTIONS,
        "  - text: Demining operations\n    correct: true\n",
        "  - text: Demining operations\n    correct: 'true'\n",
        "correct: 'true'",
        "fx-single",
        "'correct' must be true or false",
    ),
    Broken(
        "true-false-answer-is-text",
        QUESTIONS,
        "  answer: true\n",
        "  answer: 'yes'\n",
        "answer: 'yes'",
        "fx-true-false",
        "'answer' must be true or false, got str 'yes'",
    ),
    Broken(
        "duplicate-key",
        QUESTIONS,
        "  bloom: apply\n",
        "  bloom: apply\n  tags: [demining]\n",
        "tags: [demining]",
        "fx-single",
        "duplicate key 'tags' (first on line ",
    ),
    Broken(
        "duplicate-id-across-files",
        "questions/more.yaml",
        None,
        EXTRA_QUESTIONS,
        "- id: fx-cloze",
        "fx-cloze",
        "duplicate question id (also in ",
    ),
    Broken(
        "quiz-names-unknown-question",
        QUIZZES,
        "  count: 4\n",
        "  count: 4\n  questions: [fx-single, fx-missing]\n",
        "questions: [fx-single, fx-missing]",
        "fx-exam",
        "quiz names unknown question 'fx-missing'",
    ),
    Broken(
        "single-choice-without-key",
        QUESTIONS,
        "  - text: Demining operations\n    correct: true\n",
        "  - text: Demining operations\n",
        "options:",
        "fx-single",
        "needs exactly one correct option, found 0",
        after="- id: fx-single",
    ),
    Broken(
        "single-choice-with-two-keys",
        QUESTIONS,
        "  - text: Medical assistance\n",
        "  - text: Medical assistance\n    correct: true\n",
        "options:",
        "fx-single",
        "needs exactly one correct option, found 2",
        after="- id: fx-single",
    ),
    Broken(
        "quote-missing-from-essay",
        QUESTIONS,
        f"  - quote: {TF_QUOTE}\n",
        "  - quote: These exercises double our military forces' readiness\n",
        "quote: These exercises double",
        "fx-true-false",
        "quote not found in essay 'cooperation-peacekeeping-missions'",
    ),
    Broken(
        "matching-with-two-pairs",
        QUESTIONS,
        "  - left: Military preparedness\n    right: Joint training exercises\n"
        "  - left: Unclear rules of engagement\n"
        "    right: Comprehensive operational guidelines\n",
        "",
        "pairs:",
        "fx-matching",
        "matching needs 3 to 6 pairs, found 2",
        after="- id: fx-matching",
    ),
    Broken(
        "spare-is-a-pairs-right",
        QUESTIONS,
        SPARES,
        "  spares: [Air support, ' thorough  TRAINING ']\n",
        "spares: [Air support",
        "fx-matching",
        "spare 'thorough  TRAINING' is also a pair's right-hand answer",
    ),
    Broken(
        "spare-listed-twice",
        QUESTIONS,
        SPARES,
        "  spares: [Air support, air  Support]\n",
        "spares: [Air support",
        "fx-matching",
        "spare 'air  Support' is listed twice",
    ),
    Broken(
        "four-spares",
        QUESTIONS,
        SPARES,
        "  spares: [A one, A two, A three, A four]\n",
        "spares: [A one",
        "fx-matching",
        "'spares' holds 1 to 3 answers, found 4",
    ),
    Broken(
        "no-spares",
        QUESTIONS,
        SPARES,
        "  spares: []\n",
        "spares: []",
        "fx-matching",
        "'spares' must not be empty",
    ),
    Broken(
        "spare-is-a-number",
        QUESTIONS,
        SPARES,
        "  spares: [1978]\n",
        "spares: [1978]",
        "fx-matching",
        "each entry of 'spares' must be text, got a number 1978",
    ),
    Broken(
        "any-order-is-text",
        QUESTIONS,
        "  bloom: remember\n- id: fx-short",
        "  bloom: remember\n  any_order: 'yes'\n- id: fx-short",
        "any_order: 'yes'",
        "fx-cloze",
        "'any_order' must be true or false, got str 'yes'",
    ),
    Broken(
        "any-order-outside-cloze",
        QUESTIONS,
        "  answers: [Haiti, Republic of Haiti]\n",
        "  answers: [Haiti, Republic of Haiti]\n  any_order: true\n",
        "any_order: true",
        "fx-short",
        "unknown field 'any_order'",
    ),
    Broken(
        "plausible-but-true-on-the-key",
        QUESTIONS,
        "  - text: Demining operations\n    correct: true\n",
        "  - text: Demining operations\n    correct: true\n"
        "    plausible_but_true: It is true.\n",
        "plausible_but_true: It is true.",
        "fx-single",
        "'plausible_but_true' flags a distractor; it is not allowed on a "
        "'correct: true' option",
    ),
    Broken(
        "plausible-but-true-without-reason",
        QUESTIONS,
        "  - text: Medical assistance\n",
        "  - text: Medical assistance\n    plausible_but_true:\n",
        "plausible_but_true:",
        "fx-single",
        "'plausible_but_true' needs the reason the true statement does not answer",
    ),
    Broken(
        "plausible-but-true-is-a-boolean",
        QUESTIONS,
        "  - text: Medical assistance\n",
        "  - text: Medical assistance\n    plausible_but_true: true\n",
        "plausible_but_true: true",
        "fx-single",
        "'plausible_but_true' must be text, got a boolean True",
    ),
    Broken(
        "unsafe-python-tag",
        QUESTIONS,
        "  explanation: The essay lists demining operations among the humanitarian "
        "tasks.\n",
        "  explanation: !!python/object/apply:os.system ['touch {canary}']\n",
        "!!python/object/apply:os.system",
        "fx-single",
        "could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
]


def break_bank(tmp_path: Path, case: Broken) -> tuple[Path, Path]:
    """A copy of the fixture bank broken as `case` says: (bank, broken file)."""
    bank = copy_bank(tmp_path)
    path = bank / case.file
    new = case.new.replace("{canary}", str(tmp_path / "canary"))
    if case.old is None:
        path.write_text(new, encoding="utf-8")
    else:
        rewrite(path, case.old, new)
    return bank, path


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_load_rejects_broken_bank_and_leaves_database_untouched(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path, case: Broken
) -> None:
    before = db_state(loaded_app)
    bank, path = break_bank(tmp_path, case)

    result = load(runner, bank)

    assert result.exit_code == 1, result.output
    assert "Nothing was loaded: fix the errors above and run again." in result.output
    assert any(
        error.path == str(path) and case.message in error.message
        for error in errors_in(result.output)
    ), result.output
    assert db_state(loaded_app) == before
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case, marks=pytest.mark.xfail(strict=True, reason=case.defect or "")
        )
        if case.defect
        else case
        for case in BROKEN
    ],
    ids=lambda case: case.name,
)
def test_load_error_names_file_line_and_question_id(
    runner: FlaskCliRunner, tmp_path: Path, case: Broken
) -> None:
    bank, path = break_bank(tmp_path, case)
    expected = (str(path), line_of(path, case.marker, case.after), case.ident)

    result = load(runner, bank)

    assert result.exit_code == 1, result.output
    located = [
        (error.path, error.line, error.ident)
        for error in errors_in(result.output)
        if case.message in error.message
    ]
    assert expected in located, result.output


def test_load_rejects_question_id_used_in_two_files_naming_both(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank = copy_bank(tmp_path)
    first = bank / QUESTIONS
    second = bank / "questions" / "more.yaml"
    second.write_text(EXTRA_QUESTIONS, encoding="utf-8")

    result = load(runner, bank)

    assert result.exit_code == 1
    [error] = errors_in(result.output)
    assert error == Located(
        str(second),
        line_of(second, "- id: fx-cloze"),
        "fx-cloze",
        f"duplicate question id (also in {first}:{line_of(first, '- id: fx-cloze')})",
    )


def test_load_never_runs_code_from_a_python_yaml_tag(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    bank = copy_bank(tmp_path)
    (bank / "questions" / "evil.yaml").write_text(
        f"!!python/object/apply:os.system ['touch {canary}']\n", encoding="utf-8"
    )

    result = load(runner, bank)

    assert result.exit_code == 1
    assert "could not determine a constructor" in result.output
    assert not canary.exists()


@pytest.mark.parametrize(
    "quote",
    [
        "These exercises double our military forces' operational readiness",
        "these exercises boost our military forces' operational readiness",
        "These missions have acted as a pivotal tool in the development and "
        "protection of our nation and people. Peacekeeping missions are",
    ],
    ids=["changed-word", "changed-case", "across-two-passages"],
)
def test_check_rejects_quote_not_verbatim_in_one_passage(
    runner: FlaskCliRunner, tmp_path: Path, quote: str
) -> None:
    bank = copy_bank(tmp_path)
    path = rewrite(bank / QUESTIONS, f"quote: {TF_QUOTE}", f"quote: {quote}")

    result = runner.invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 1
    [error] = errors_in(result.output)
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_of(path, quote),
        "fx-true-false",
    )
    assert error.message.startswith("quote not found in essay")


CURLY_TF_QUOTE = TF_QUOTE.replace("forces'", "forces’")


@pytest.mark.parametrize(
    "edits",
    [
        [(QUESTIONS, TF_QUOTE, CURLY_TF_QUOTE)],
        [(QUESTIONS, TF_QUOTE, TF_QUOTE.replace(" ", "  ").replace("our", "our   "))],
        [
            (
                QUESTIONS,
                f"  - quote: {TF_QUOTE}\n",
                "  - quote: These exercises boost our\n"
                "      military forces' operational readiness\n",
            )
        ],
        [(ESSAY, TF_QUOTE, CURLY_TF_QUOTE)],
        [
            (ESSAY, "are joint training exercises.", "are “joint training exercises”."),
            (
                QUESTIONS,
                f"  - quote: {TF_QUOTE}\n",
                "  - quote: '\"joint training exercises\". These exercises boost'\n",
            ),
        ],
    ],
    ids=[
        "curly-quote-in-question",
        "extra-spaces-in-question",
        "quote-folded-over-lines",
        "curly-quote-in-essay",
        "curly-double-quotes-in-essay",
    ],
)
def test_load_finds_quote_after_folding_whitespace_and_typographic_quotes(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    edits: list[tuple[str, str, str]],
) -> None:
    bank = copy_bank(tmp_path)
    for file, old, new in edits:
        rewrite(bank / file, old, new)

    result = load(runner, bank)

    assert result.exit_code == 0, result.output
    with app.app_context():
        sources = db.session.get(Question, "fx-true-false").sources
        assert [source.passage.anchor for source in sources] == ["p-4"]


# --- content check ----------------------------------------------------------------


def test_check_prints_summary_and_exits_0_on_clean_bank_writing_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["content", "check", str(FIXTURE_CONTENT)])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == FIXTURE_SUMMARY
    assert result.stderr == ""
    assert all(count_rows(app, model) == 0 for model in COUNTED)


def test_check_validates_content_dir_by_default(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["content", "check"])

    assert result.exit_code == 0, result.output
    assert FIXTURE_SUMMARY in result.output


def test_check_leaves_loaded_database_as_it_was(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = db_state(loaded_app)
    bank = copy_bank(tmp_path)
    rewrite(bank / QUESTIONS, "Which humanitarian task is this?", "Which task is it?")
    drop_question(bank / QUESTIONS, "fx-cloze")

    result = runner.invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 0, result.output
    assert db_state(loaded_app) == before


def test_check_exits_1_and_counts_errors_in_summary(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank = copy_bank(tmp_path)
    rewrite(bank / QUESTIONS, "  difficulty: hard\n", "")
    rewrite(bank / QUESTIONS, "  bloom: apply\n", "  bloom: apply\n  hint: x\n")

    result = runner.invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 1
    assert len(errors_in(result.stderr)) == 2
    assert "6 questions" in result.stdout
    assert "; 2 errors, 0 warnings" in result.stdout
    assert "Fix the errors above (each names file:line [id]) and run again." in (
        result.stdout
    )


def test_check_reports_missing_content_directory(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"

    result = runner.invoke(args=["content", "check", str(missing)])

    assert result.exit_code == 1
    assert f"error: {missing}: content directory not found" in result.output


# --- content load -----------------------------------------------------------------


def test_load_adds_the_bank_then_reports_no_changes_on_a_second_load(
    app: Flask, runner: FlaskCliRunner
) -> None:
    first = load(runner, FIXTURE_CONTENT)
    second = load(runner, FIXTURE_CONTENT)

    assert first.exit_code == 0, first.output
    assert "Loaded: 10 added, 0 updated, 0 retired." in first.stdout
    assert second.exit_code == 0, second.output
    assert "No changes: 0 added, 0 updated, 0 retired." in second.stdout
    counts = {model.__name__: count_rows(app, model) for model in COUNTED}
    assert counts == {
        "Question": 8,
        "Quiz": 2,
        "Essay": 1,
        "Passage": 8,
        "QuestionSource": 9,
    }


def test_load_reads_content_dir_by_default(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["content", "load"])

    assert result.exit_code == 0, result.output
    assert count_rows(app, Question) == 8


def test_second_load_of_unchanged_bank_writes_nothing(
    loaded_app: Flask, runner: FlaskCliRunner
) -> None:
    with loaded_app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = load(runner, FIXTURE_CONTENT)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert result.exit_code == 0, result.output
    assert "No changes: 0 added, 0 updated, 0 retired." in result.output
    assert statements, "the listener saw no statement at all"
    writes = [
        s for s in statements if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []


def test_load_updates_edited_question_in_place_and_moves_updated_at(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = question(loaded_app, "fx-single")
    untouched = question(loaded_app, "fx-multiple")
    bank = copy_bank(tmp_path)
    rewrite(
        bank / QUESTIONS,
        "Which humanitarian task is this?",
        "Which humanitarian task does the essay call this?",
    )

    result = load(runner, bank)

    assert result.exit_code == 0, result.output
    assert "Loaded: 0 added, 1 updated, 0 retired." in result.output
    after = question(loaded_app, "fx-single")
    assert after.prompt.endswith("Which humanitarian task does the essay call this?")
    assert after.content_hash != before.content_hash
    assert after.updated_at > before.updated_at
    assert question(loaded_app, "fx-multiple").updated_at == untouched.updated_at
    assert count_rows(loaded_app, Question) == 8


def test_load_retires_removed_question_keeping_learners_history(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with loaded_app.app_context():
        learner = Learner()
        db.session.add(learner)
        db.session.flush()
        attempt = Attempt(
            learner_id=learner.id,
            title="Fixture practice",
            mode="practice",
            layout=[{"question": "fx-single", "order": []}],
        )
        db.session.add(attempt)
        db.session.flush()
        db.session.add(
            Response(
                attempt_id=attempt.id,
                question_id="fx-single",
                position=0,
                answer={"choice": "x"},
                score=1.0,
            )
        )
        db.session.commit()
    bank = copy_bank(tmp_path)
    drop_question(bank / QUESTIONS, "fx-single")

    result = load(runner, bank)

    assert result.exit_code == 0, result.output
    assert "Loaded: 0 added, 0 updated, 1 retired." in result.output
    assert question(loaded_app, "fx-single").retired
    assert not question(loaded_app, "fx-multiple").retired
    assert count_rows(loaded_app, Question) == 8
    assert count_rows(loaded_app, QuestionSource) == 9
    with loaded_app.app_context():
        [response] = db.session.scalars(select(Response))
        assert response.question.prompt.endswith("Which humanitarian task is this?")
        assert [s.passage.anchor for s in response.question.sources] == ["p-5"]


def test_load_revives_retired_question_when_added_back(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank = copy_bank(tmp_path)
    drop_question(bank / QUESTIONS, "fx-cloze")
    assert load(runner, bank).exit_code == 0
    assert question(loaded_app, "fx-cloze").retired

    result = load(runner, FIXTURE_CONTENT)

    assert result.exit_code == 0, result.output
    assert "Loaded: 0 added, 1 updated, 0 retired." in result.output
    assert not question(loaded_app, "fx-cloze").retired
    assert count_rows(loaded_app, Question) == 8


def test_load_retires_removed_quiz_and_revives_it(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank = copy_bank(tmp_path)
    text = (bank / QUIZZES).read_text(encoding="utf-8")
    (bank / QUIZZES).write_text(text[: text.index("- slug: fx-exam")], "utf-8")

    def retired() -> dict[str, bool]:
        with loaded_app.app_context():
            return {q.slug: q.retired for q in db.session.scalars(select(Quiz))}

    removed = load(runner, bank)
    assert "Loaded: 0 added, 0 updated, 1 retired." in removed.output
    assert retired() == {"fx-practice": False, "fx-exam": True}

    restored = load(runner, FIXTURE_CONTENT)
    assert "Loaded: 0 added, 1 updated, 0 retired." in restored.output
    assert retired() == {"fx-practice": False, "fx-exam": False}


def test_load_shows_progress_on_stderr_for_many_questions(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank = copy_bank(tmp_path)
    items = "".join(
        f"""\
- id: fx-many-{number}
  type: true_false
  prompt: Statement {number} says joint training boosts operational readiness.
  answer: true
  explanation: Joint training exercises boost operational readiness.
  source:
  - quote: {TF_QUOTE}
  tags: [training]
  difficulty: easy
  bloom: remember
"""
        for number in range(40)
    )
    (bank / "questions" / "many.yaml").write_text(
        f"essay: cooperation-peacekeeping-missions\nquestions:\n{items}", "utf-8"
    )

    result = load(runner, bank)

    assert result.exit_code == 0, result.output
    assert "Loading questions" in result.stderr
    assert "Loading questions" not in result.stdout
    assert "Loaded: 50 added, 0 updated, 0 retired." in result.stdout
    assert count_rows(app, Question) == 48


def test_failed_load_midway_keeps_previous_content(
    loaded_app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = db_state(loaded_app)
    bank = copy_bank(tmp_path)
    rewrite(bank / QUESTIONS, "Which humanitarian task is this?", "Which task is it?")
    drop_question(bank / QUESTIONS, "fx-cloze")
    (bank / "questions" / "more.yaml").write_text(
        EXTRA_QUESTIONS[: EXTRA_QUESTIONS.index("- id: fx-cloze")], "utf-8"
    )
    rows_seen_midway: list[int] = []

    def crash(*_args: Any, **_kwargs: Any) -> None:
        db.session.flush()
        rows_seen_midway.append(
            db.session.scalar(select(func.count()).select_from(Question)) or 0
        )
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(loader, "_upsert_quiz", crash)

    result = load(runner, bank)

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert rows_seen_midway == [9], "the load should have written rows before failing"
    assert db_state(loaded_app) == before


def test_failed_first_load_leaves_database_empty(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = loader._upsert_question

    def crash_on_fourth(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 4:
            db.session.flush()
            raise RuntimeError("killed")
        real(*args, **kwargs)

    monkeypatch.setattr(loader, "_upsert_question", crash_on_fourth)

    result = load(runner, FIXTURE_CONTENT)

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert len(calls) == 4
    assert all(count_rows(app, model) == 0 for model in COUNTED)


def test_load_stores_spares_any_order_and_plausible_but_true_and_rehashes(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = {
        qid: question(loaded_app, qid)
        for qid in ("fx-matching", "fx-cloze", "fx-single")
    }
    bank = copy_bank(tmp_path)
    path = bank / QUESTIONS
    rewrite(path, SPARES, "  spares: [Air support, Naval blockade]\n")
    rewrite(
        path,
        "  bloom: remember\n- id: fx-short",
        "  bloom: remember\n  any_order: true\n- id: fx-short",
    )
    rewrite(
        path,
        "  - text: Medical assistance\n",
        "  - text: Medical assistance\n"
        "    plausible_but_true: Missions do give medical care, but not by clearing"
        " mines.\n",
    )

    result = load(runner, bank)

    assert result.exit_code == 0, result.output
    assert "Loaded: 0 added, 3 updated, 0 retired." in result.output
    after = {qid: question(loaded_app, qid) for qid in before}
    assert all(after[q].content_hash != before[q].content_hash for q in before)
    matching = after["fx-matching"].data
    assert [spare["text"] for spare in matching["spares"]] == [
        "Air support",
        "Naval blockade",
    ]
    assert matching["spares"][0] == before["fx-matching"].data["spares"][0]
    spare_ids = [spare["id"] for spare in matching["spares"]]
    assert all(re.fullmatch(r"[0-9a-f]{10}", i) for i in spare_ids)
    assert not set(spare_ids) & {p["right_id"] for p in matching["pairs"]}
    assert after["fx-cloze"].data["any_order"] is True
    flagged = {
        o["text"]: o.get("plausible_but_true")
        for o in after["fx-single"].data["options"]
    }
    assert flagged == {
        "Infrastructure development": None,
        "Demining operations": None,
        "Medical assistance": (
            "Missions do give medical care, but not by clearing mines."
        ),
    }
    # Absent keys stay absent, so unflagged questions keep their stored data.
    assert "any_order" not in before["fx-cloze"].data
    assert all(
        "plausible_but_true" not in o for o in before["fx-single"].data["options"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Peacekeepers [[monitor]] ceasefires.",
            "'any_order' needs 2 to 6 blanks, found 1",
        ),
        (
            "Seven blanks " + " ".join(f"[[w{n}]]" for n in range(7)),
            "'any_order' needs 2 to 6 blanks, found 7",
        ),
    ],
)
def test_any_order_cloze_needs_two_to_six_blanks(
    runner: FlaskCliRunner, tmp_path: Path, text: str, message: str
) -> None:
    bank = copy_bank(tmp_path)
    path = rewrite(
        bank / QUESTIONS,
        "  text: Missions send specially trained [[military personnel|soldiers]] to "
        "regions facing [[political instability|instability]] or conflict.\n",
        f"  text: {text}\n  any_order: true\n",
    )

    result = runner.invoke(args=["content", "check", str(bank)])

    assert result.exit_code == 1, result.output
    [error] = errors_in(result.output)
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_of(path, "any_order: true"),
        "fx-cloze",
    )
    assert error.message == message
