"""The content lint: the mechanical item-writing rules of CONTENT.md.

Each test adds one questions file to a copy of the fixture bank and reads the bank
(`read_bank`, or the CLI where exit statuses matter).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskCliRunner

from quizapp.content import read_bank
from quizapp.content.bank import Bank
from quizapp.models import Essay, Passage, Question, QuestionSource, Quiz
from tests.conftest import FIXTURE_CONTENT, count_rows

QUOTE = "undertaking demining operations"
KEY = "Demining operations"
DISTRACTORS = ["Infrastructure development", "Medical assistance"]


def options(key: str = KEY, distractors: list[str] = DISTRACTORS) -> list[Any]:
    """Single-choice options, the key first."""
    return [{"text": key, "correct": True}, *({"text": d} for d in distractors)]


def single_choice(
    qid: str = "lint-q",
    prompt: str = "Which humanitarian task does the essay list?",
    choices: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid single-choice question that lint finds nothing in."""
    return {
        "id": qid,
        "type": "single_choice",
        "prompt": prompt,
        "options": choices if choices is not None else options(),
        "explanation": "The essay lists demining among the humanitarian tasks.",
        "source": [{"quote": QUOTE}],
        "tags": ["humanitarian"],
        "difficulty": "easy",
        "bloom": "remember",
        **extra,
    }


def write_bank(tmp_path: Path, *questions: dict[str, Any]) -> tuple[Path, Path]:
    """A copy of the fixture bank plus questions/lint.yaml: (bank, that file)."""
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    path = bank / "questions" / "lint.yaml"
    text = yaml.safe_dump(
        {"essay": "cooperation-peacekeeping-missions", "questions": list(questions)},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    path.write_text(text, encoding="utf-8")
    return bank, path


def line_of(path: Path, marker: str) -> int:
    """The 1-based number of the first line of `path` holding `marker`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines) if marker in text) + 1


def lint(tmp_path: Path, *questions: dict[str, Any]) -> tuple[Bank, Path]:
    bank, path = write_bank(tmp_path, *questions)
    return read_bank(bank), path


def errors_about(bank: Bank, qid: str = "lint-q") -> list[tuple[str, int | None, str]]:
    return [(e.path, e.line, e.message) for e in bank.errors if e.ident == qid]


def warning_codes(bank: Bank, qid: str = "lint-q") -> list[str]:
    return [w.code for w in bank.warnings if w.ident == qid]


def line_in_question(path: Path, qid: str, key: str) -> int:
    """The line of `key:` inside question `qid` (the lint points at that field)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = line_of(path, f"- id: {qid}") - 1
    return (
        next(
            i
            for i in range(start, len(lines))
            if lines[i].strip().startswith(f"{key}:")
        )
        + 1
    )


def assert_one_error(
    bank: Bank, path: Path, fragment: str, key: str, qid: str = "lint-q"
) -> None:
    """Exactly one error for `qid`, at its `key:` line in `path`, saying `fragment`."""
    [(where, line, message)] = errors_about(bank, qid)
    assert (where, line) == (str(path), line_in_question(path, qid, key))
    assert fragment in message


def test_fixture_bank_is_lint_clean() -> None:
    bank = read_bank(FIXTURE_CONTENT)

    assert bank.errors == []
    assert bank.warnings == []


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        "All of the above",
        "None of the above",
        "none of these",
        "Both of the above",
        "All the above",
    ],
)
def test_lint_rejects_all_or_none_of_the_above_option(
    tmp_path: Path, option: str
) -> None:
    bank, path = lint(
        tmp_path, single_choice(choices=options(distractors=[DISTRACTORS[0], option]))
    )

    assert_one_error(
        bank, path, f"option {option!r}: no 'all/none of the above'", "options"
    )


@pytest.mark.parametrize(
    "distractors",
    [
        ["demining operations", "Medical assistance"],
        ["Demining  operations", "Medical assistance"],
        ["Medical assistance", "MEDICAL ASSISTANCE"],
    ],
    ids=["case", "whitespace", "two-distractors"],
)
def test_lint_rejects_duplicate_options_after_folding_case_and_space(
    tmp_path: Path, distractors: list[str]
) -> None:
    bank, path = lint(tmp_path, single_choice(choices=options(distractors=distractors)))

    assert_one_error(bank, path, "duplicate option", "options")


def test_lint_rejects_duplicate_options_in_multiple_response(tmp_path: Path) -> None:
    question = single_choice(
        type="multiple_response",
        choices=[
            {"text": "Demining operations", "correct": True},
            {"text": "Medical assistance", "correct": True},
            {"text": "medical assistance"},
        ],
    )

    bank, path = lint(tmp_path, question)

    assert_one_error(bank, path, "duplicate option 'medical assistance'", "options")


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("Which task is not humanitarian in the essay?", "not"),
        ("All of these are humanitarian tasks except which one?", "except"),
        ("Which task is never done by peacekeepers?", "never"),
        ("Which task isn't humanitarian in the essay?", "isn't"),
        ("Which task is the least humanitarian one?", "least"),
        ("Not every task is humanitarian: which is one?", "Not"),
        ("Which task doesn’t the essay call humanitarian?", "doesn’t"),
    ],
)
def test_lint_rejects_negative_stem_not_in_capitals(
    tmp_path: Path, prompt: str, word: str
) -> None:
    bank, path = lint(tmp_path, single_choice(prompt=prompt))

    assert_one_error(bank, path, f"negative stem ({word!r})", "prompt")


@pytest.mark.parametrize(
    "prompt",
    [
        "Which task is NOT humanitarian in the essay?",
        "All of these are humanitarian tasks EXCEPT which one?",
        "Which task is NEVER done by peacekeepers?",
        "Which task does the essay list at least once?",
        "Which task did the missions note first?",
    ],
)
def test_lint_accepts_negative_written_in_capitals(tmp_path: Path, prompt: str) -> None:
    bank, _ = lint(tmp_path, single_choice(prompt=prompt))

    assert errors_about(bank) == []
    assert warning_codes(bank) == []


def test_load_rejects_lint_errors_leaving_database_untouched(
    loaded_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    counted = (Question, Quiz, Essay, Passage, QuestionSource)
    before = [count_rows(loaded_app, model) for model in counted]
    bank, path = write_bank(
        tmp_path,
        single_choice("lint-negative", prompt="Which task is not humanitarian?"),
        single_choice("lint-all", choices=options(distractors=["All of the above"])),
    )

    result = runner.invoke(args=["content", "load", str(bank)])

    assert result.exit_code == 1
    for qid, key in (("lint-negative", "prompt"), ("lint-all", "options")):
        line = line_in_question(path, qid, key)
        assert f"error: {path}:{line}: [{qid}]" in result.output
    assert [count_rows(loaded_app, model) for model in counted] == before


# --- warnings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "The humanitarian task that clearing mines belongs to",
        "Clearing mines is which humanitarian task",
        "Demining is one of the humanitarian tasks.",
        "Think about the humanitarian tasks:",
    ],
)
def test_lint_warns_on_stem_that_is_not_a_complete_question(
    tmp_path: Path, prompt: str
) -> None:
    bank, path = lint(tmp_path, single_choice(prompt=prompt))

    assert errors_about(bank) == []
    [warning] = [w for w in bank.warnings if w.ident == "lint-q"]
    assert (warning.path, warning.line, warning.code) == (
        str(path),
        line_in_question(path, "lint-q", "prompt"),
        "stem-incomplete",
    )


@pytest.mark.parametrize(
    ("qtype", "prompt"),
    [
        ("single_choice", "Which humanitarian task does the essay list?"),
        ("single_choice", "Choose the humanitarian task the essay lists."),
        ("single_choice", "Select the humanitarian task the essay lists:"),
        ("true_false", "Joint training exercises are said to boost readiness."),
    ],
)
def test_lint_accepts_question_or_directive_stem(
    tmp_path: Path, qtype: str, prompt: str
) -> None:
    question = single_choice(prompt=prompt)
    if qtype == "true_false":
        del question["options"]
        question.update(type="true_false", answer=True)

    bank, _ = lint(tmp_path, question)

    assert errors_about(bank) == []
    assert warning_codes(bank) == []


def test_lint_ignore_with_reason_silences_stem_warning(tmp_path: Path) -> None:
    question = single_choice(
        prompt="The humanitarian task that clearing mines belongs to",
        lint_ignore={"stem-incomplete": "Read aloud as a heading in class."},
    )

    bank, _ = lint(tmp_path, question)

    assert errors_about(bank) == []
    assert warning_codes(bank) == []


# Distractors of 11 and 9 characters: a mean of 10, so 15 characters is exactly 1.5x.
SHORT = ["Road repair", "First aid"]


@pytest.mark.parametrize(
    ("key", "warned"),
    [("Mine clearing", False), ("Mine clearance.", False), ("Mine clearances.", True)],
)
def test_lint_warns_when_key_is_over_one_and_a_half_times_mean_distractor(
    tmp_path: Path, key: str, warned: bool
) -> None:
    assert len(key) in (13, 15, 16)
    bank, path = lint(tmp_path, single_choice(choices=options(key, SHORT)))

    assert errors_about(bank) == []
    expected = [(str(path), line_in_question(path, "lint-q", "options"), "key-longest")]
    found = [(w.path, w.line, w.code) for w in bank.warnings if w.ident == "lint-q"]
    assert found == (expected if warned else [])


def test_lint_ignore_with_reason_silences_key_longest(tmp_path: Path) -> None:
    question = single_choice(
        choices=options("Demining, medical care and schooling", SHORT),
        lint_ignore={"key-longest": "The key must name all three tasks."},
    )

    bank, _ = lint(tmp_path, question)

    assert errors_about(bank) == []
    assert warning_codes(bank) == []


@pytest.mark.parametrize(
    ("qtype", "count", "warned"),
    [
        ("single_choice", 3, False),
        ("single_choice", 4, False),
        ("single_choice", 5, True),
        ("multiple_response", 5, False),
        ("multiple_response", 6, True),
    ],
)
def test_lint_warns_on_padded_option_lists(
    tmp_path: Path, qtype: str, count: int, warned: bool
) -> None:
    others = ["Road repair", "First aid", "Teaching", "Mediation", "Patrolling"]
    question = single_choice(
        type=qtype, choices=options("Demining", others[: count - 1])
    )

    bank, _ = lint(tmp_path, question)

    assert errors_about(bank) == []
    assert warning_codes(bank) == (["option-count"] if warned else [])


def keyed_at(positions: list[int], **extra: Any) -> list[dict[str, Any]]:
    """Single-choice questions whose key stands at each given 1-based position."""
    questions = []
    for number, position in enumerate(positions):
        choices: list[Any] = [{"text": d} for d in ("Teaching", "First aid", "Roads")]
        choices.insert(position - 1, {"text": "Demining", "correct": True})
        questions.append(single_choice(f"lint-key-{number}", choices=choices, **extra))
    return questions


def test_lint_warns_when_key_positions_are_unbalanced_across_bank(
    tmp_path: Path,
) -> None:
    # With the fixture's one key at position 2: 8 of 9 keys first.
    bank, _ = lint(tmp_path, *keyed_at([1] * 8))

    assert bank.errors == []
    [warning] = bank.warnings
    assert warning.code == "key-position"
    assert "(1: 8, 2: 1)" in warning.message


def test_lint_accepts_key_positions_spread_across_bank(tmp_path: Path) -> None:
    bank, _ = lint(tmp_path, *keyed_at([1, 1, 1, 2, 2, 3, 3, 3, 4]))

    assert bank.errors == []
    assert bank.warnings == []


def test_lint_ignore_key_position_leaves_question_out_of_the_balance(
    tmp_path: Path,
) -> None:
    reason = {"key-position": "The options follow the essay's order."}

    bank, _ = lint(tmp_path, *keyed_at([1] * 8, lint_ignore=reason))

    assert bank.errors == []
    assert bank.warnings == []


def test_key_position_warning_names_the_checked_questions_folder(
    tmp_path: Path,
) -> None:
    bank, path = lint(tmp_path, *keyed_at([1] * 8))

    [warning] = bank.warnings
    assert warning.path == str(path.parent)


# --- lint_ignore itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("key-longst", "unknown lint code 'key-longst'"),
        ("negative-stem", "unknown lint code 'negative-stem'"),
        ("all-none-above", "unknown lint code 'all-none-above'"),
    ],
    ids=["typo", "errors-cannot-be-ignored", "all-none-cannot-be-ignored"],
)
def test_lint_ignore_rejects_unknown_code_naming_file_line_and_id(
    tmp_path: Path, code: str, message: str
) -> None:
    question = single_choice(lint_ignore={code: "Some reason."})

    bank, path = lint(tmp_path, question)

    assert bank.errors, "an unknown lint code must be an error"
    [error] = bank.errors
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_of(path, f"  {code}: Some reason."),
        "lint-q",
    )
    assert message in error.message


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_lint_ignore_without_reason_is_an_error(
    tmp_path: Path, reason: str | None
) -> None:
    question = single_choice(
        choices=options("Demining, medical care and schooling", SHORT),
        lint_ignore={"key-longest": reason},
    )

    bank, path = lint(tmp_path, question)

    [error] = bank.errors
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_of(path, "  key-longest:"),
        "lint-q",
    )
    assert "'key-longest' must not be empty" in error.message


# --- the CLI --------------------------------------------------------------------


def test_check_passes_with_warnings_but_strict_fails(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank, path = write_bank(tmp_path, single_choice(prompt="The task of demining"))

    relaxed = runner.invoke(args=["content", "check", str(bank)])
    strict = runner.invoke(args=["content", "check", "--strict", str(bank)])

    line = line_in_question(path, "lint-q", "prompt")
    warning = f"{path}:{line}: [lint-q] warning stem-incomplete:"
    assert relaxed.exit_code == 0, relaxed.output
    assert warning in relaxed.stderr
    assert "0 errors, 1 warnings" in relaxed.stdout
    assert strict.exit_code == 1
    assert warning in strict.stderr
    assert "Fix the errors above" not in strict.output


def test_check_strict_passes_when_warnings_are_accepted(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    question = single_choice(
        prompt="The task of demining",
        lint_ignore={"stem-incomplete": "Read aloud as a heading in class."},
    )
    bank, _ = write_bank(tmp_path, question)

    result = runner.invoke(args=["content", "check", "--strict", str(bank)])

    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.stdout


def test_check_strict_fails_on_bank_wide_key_position_warning(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bank, _ = write_bank(tmp_path, *keyed_at([1] * 8))

    relaxed = runner.invoke(args=["content", "check", str(bank)])
    strict = runner.invoke(args=["content", "check", "--strict", str(bank)])

    assert relaxed.exit_code == 0
    assert "warning key-position" in relaxed.stderr
    assert strict.exit_code == 1
