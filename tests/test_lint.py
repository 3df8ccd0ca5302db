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
from quizapp.content.schema import LINT_CODES
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
        "Clearing mines is one of the humanitarian tasks.",
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
    bank, path = write_bank(
        tmp_path, single_choice(prompt="The task of clearing mines")
    )

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
        prompt="The task of clearing mines",
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


# --- rule 11: stem-key-overlap ---------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "key", "distractors", "shared"),
    [
        ("Which demining task does the essay list?", KEY, DISTRACTORS, "'demining'"),
        # crude plural strip: "mines" in the stem meets "mine" in the key
        ("Which task deals with mines?", "Mine clearance", DISTRACTORS, "'mines'"),
        ("Which task does the essay list?", KEY, DISTRACTORS, None),
        # a distractor has the word too: no clue
        (
            "Which demining task does the essay list?",
            KEY,
            ["Demining training", "Medical assistance"],
            None,
        ),
        # stopwords and short words do not count
        (
            "Which task does the essay list?",
            "What the essay lists",
            DISTRACTORS,
            None,
        ),
    ],
)
def test_lint_warns_on_a_word_only_the_stem_and_the_key_share(
    tmp_path: Path, prompt: str, key: str, distractors: list[str], shared: str | None
) -> None:
    bank, path = lint(
        tmp_path, single_choice(prompt=prompt, choices=options(key, distractors))
    )

    found = [w for w in bank.warnings if w.ident == "lint-q"]
    if shared is None:
        assert found == []
        return
    [warning] = found
    assert warning.code == "stem-key-overlap"
    assert (warning.path, warning.line) == (
        str(path),
        line_in_question(path, "lint-q", "options"),
    )
    assert f"the stem and the key share {shared}, which no distractor has" in (
        warning.message
    )


def test_stem_key_overlap_checks_every_key_of_a_multiple_response(
    tmp_path: Path,
) -> None:
    choices = [
        {"text": "Clearing minefields", "correct": True},
        {"text": "Protecting civilians", "correct": True},
        {"text": "Building roads"},
    ]
    question = single_choice(
        type="multiple_response",
        prompt="Select each task that protects civilians from harm.",
        choices=choices,
    )

    bank, _ = lint(tmp_path, question)

    [warning] = [w for w in bank.warnings if w.ident == "lint-q"]
    assert warning.code == "stem-key-overlap"
    assert "'civilians'" in warning.message


def test_lint_ignore_silences_stem_key_overlap(tmp_path: Path) -> None:
    question = single_choice(
        prompt="Which demining task does the essay list?",
        lint_ignore={"stem-key-overlap": "The term is the point of the item."},
    )

    bank, _ = lint(tmp_path, question)

    assert bank.errors == [] and bank.warnings == []


# --- rule 16: tf-cue and tf-balance ----------------------------------------------


def true_false(qid: str, prompt: str, answer: bool, **extra: Any) -> dict[str, Any]:
    """A true/false question citing the fixture's demining quote."""
    return {
        "id": qid,
        "type": "true_false",
        "prompt": prompt,
        "answer": answer,
        "explanation": "The essay lists demining among the humanitarian tasks.",
        "source": [{"quote": QUOTE}],
        "tags": ["humanitarian"],
        "difficulty": "easy",
        "bloom": "remember",
        **extra,
    }


@pytest.mark.parametrize(
    ("prompt", "answer", "named"),
    [
        ("Missions can undertake demining.", True, "TRUE statement uses hedge 'can'"),
        (
            "Missions clear mines as well as build schools.",
            True,
            "uses hedge 'as well as'",
        ),
        (
            "Missions never undertake demining.",
            False,
            "FALSE statement uses absolute 'never'",
        ),
        ("Only engineers clear mines.", False, "absolute 'only'"),
        ("No one clears mines.", False, "absolute 'no one'"),
        ("Some missions usually clear mines.", True, "hedge 'some', hedge 'usually'"),
        ("Missions undertake demining operations.", True, None),
        ("Missions cannot dig canals.", False, None),  # whole words only
    ],
)
def test_lint_names_the_hedge_or_absolute_a_true_false_statement_uses(
    tmp_path: Path, prompt: str, answer: bool, named: str | None
) -> None:
    bank, path = lint(tmp_path, true_false("lint-q", prompt, answer))

    found = [w for w in bank.warnings if w.ident == "lint-q"]
    if named is None:
        assert found == []
        return
    [warning] = found
    assert warning.code == "tf-cue"
    assert (warning.path, warning.line) == (
        str(path),
        line_in_question(path, "lint-q", "prompt"),
    )
    assert named in warning.message


def test_lint_ignore_silences_tf_cue(tmp_path: Path) -> None:
    question = true_false(
        "lint-q",
        "Missions can undertake demining.",
        True,
        lint_ignore={"tf-cue": "Balanced by lint-false-may."},
    )

    bank, _ = lint(tmp_path, question)

    assert bank.warnings == []


def hedged(count: int, answer: bool, **extra: Any) -> list[dict[str, Any]]:
    """`count` true/false statements with one hedge each, tf-cue accepted."""
    accept = {"tf-cue": "Counted by tf-balance.", **extra.pop("lint_ignore", {})}
    return [
        true_false(
            f"lint-tf-{str(answer).lower()}-{n}",
            f"Missions may undertake demining task {n}.",
            answer,
            lint_ignore=accept,
            **extra,
        )
        for n in range(count)
    ]


def test_lint_warns_when_true_statements_carry_more_hedges_than_false(
    tmp_path: Path,
) -> None:
    # The fixture's one true/false statement has no cue word.
    bank, path = lint(tmp_path, *hedged(4, True), *hedged(1, False))

    [warning] = bank.warnings
    assert warning.code == "tf-balance"
    assert (warning.path, warning.line, warning.ident) == (str(path.parent), None, None)
    assert warning.message.startswith(
        "hedges: 4 in TRUE statements, 1 in FALSE; absolutes: 0 in TRUE, 0 in FALSE"
    )


@pytest.mark.parametrize(("true", "false"), [(2, 0), (3, 1), (0, 2), (3, 3)])
def test_lint_accepts_a_hedge_gap_of_two_or_less(
    tmp_path: Path, true: int, false: int
) -> None:
    bank, _ = lint(tmp_path, *hedged(true, True), *hedged(false, False))

    assert bank.errors == []
    assert bank.warnings == []


def test_tf_balance_counts_absolutes_too(tmp_path: Path) -> None:
    questions = [
        true_false(f"lint-abs-{n}", f"Missions never clear mine {n}.", False)
        for n in range(3)
    ]
    for question in questions:
        question["lint_ignore"] = {"tf-cue": "Counted by tf-balance."}

    bank, _ = lint(tmp_path, *questions)

    [warning] = bank.warnings
    assert warning.code == "tf-balance"
    assert "absolutes: 0 in TRUE, 3 in FALSE" in warning.message


def test_lint_ignore_tf_balance_leaves_the_statement_out_of_the_count(
    tmp_path: Path,
) -> None:
    accepted = {"tf-balance": "Paired with a hedged FALSE item in the next quiz."}

    bank, _ = lint(tmp_path, *hedged(4, True, lint_ignore=accepted))

    assert bank.errors == []
    assert bank.warnings == []


# --- rule 17: matching-size ------------------------------------------------------


def matching(
    pairs: int, spares: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A matching question with `pairs` pairs (and spares, when given)."""
    question: dict[str, Any] = {
        "id": "lint-q",
        "type": "matching",
        "prompt": "Match each need to the task that meets it:",
        "pairs": [{"left": f"Need {n}", "right": f"Task {n}"} for n in range(pairs)],
        "explanation": "The essay lists demining among the humanitarian tasks.",
        "source": [{"quote": QUOTE}],
        "tags": ["humanitarian"],
        "difficulty": "easy",
        "bloom": "understand",
        **extra,
    }
    if spares is not None:
        question["spares"] = spares
    return question


@pytest.mark.parametrize(
    ("pairs", "spares", "problem"),
    [
        (3, None, "3 pairs (at least 4) and no spare answer"),
        (3, ["Air support"], "3 pairs (at least 4): knowing all but one pair"),
        (4, None, "no spare answer (add `spares:`): knowing all but one pair"),
        (4, ["Air support"], None),
        (6, ["Air support", "Naval blockade", "Sanctions"], None),
    ],
)
def test_lint_warns_on_matching_with_under_four_pairs_or_no_spare(
    tmp_path: Path, pairs: int, spares: list[str] | None, problem: str | None
) -> None:
    bank, path = lint(tmp_path, matching(pairs, spares))

    assert bank.errors == []
    found = [w for w in bank.warnings if w.ident == "lint-q"]
    if problem is None:
        assert found == []
        return
    [warning] = found
    assert warning.code == "matching-size"
    assert warning.line == line_in_question(path, "lint-q", "pairs")
    assert warning.message.startswith(problem)


def test_lint_ignore_silences_matching_size(tmp_path: Path) -> None:
    question = matching(3, lint_ignore={"matching-size": "The essay names three."})

    bank, _ = lint(tmp_path, question)

    assert bank.warnings == []


# --- multi-essay-prompt ----------------------------------------------------------

SECOND_ESSAY = {
    "slug": "second-essay",
    "title": "A Second Essay",
    "passages": [{"anchor": "p-1", "text": "Missions also undertake demining work."}],
}
SECOND_SOURCE = {"essay": "second-essay", "quote": "undertake demining work"}


def lint_two_essays(tmp_path: Path, *questions: dict[str, Any]) -> tuple[Bank, Path]:
    """Like `lint`, with a second essay in the bank that questions may cite."""
    bank, path = write_bank(tmp_path, *questions)
    essay = bank / "essays" / "second-essay.yaml"
    essay.write_text(yaml.safe_dump(SECOND_ESSAY, sort_keys=False), encoding="utf-8")
    return read_bank(bank), path


@pytest.mark.parametrize(
    ("prompt", "sources", "warned"),
    [
        ("Which task does the essay list?", [{"quote": QUOTE}, SECOND_SOURCE], True),
        ("Which task does this essay list?", [{"quote": QUOTE}, SECOND_SOURCE], True),
        ("Which task do the essays list?", [{"quote": QUOTE}, SECOND_SOURCE], False),
        ("Which task does the essay list?", [{"quote": QUOTE}], False),
        ("Which task does the essay list?", [SECOND_SOURCE], False),
    ],
)
def test_lint_warns_when_a_prompt_says_the_essay_but_cites_several(
    tmp_path: Path, prompt: str, sources: list[dict[str, str]], warned: bool
) -> None:
    bank, path = lint_two_essays(tmp_path, single_choice(prompt=prompt, source=sources))

    assert bank.errors == []
    found = [(w.code, w.line) for w in bank.warnings if w.ident == "lint-q"]
    line = line_in_question(path, "lint-q", "prompt")
    assert found == ([("multi-essay-prompt", line)] if warned else [])
    if warned:
        [warning] = bank.warnings
        assert "cites 2 essays (cooperation-peacekeeping-missions, second-essay)" in (
            warning.message
        )


def test_multi_essay_prompt_reads_the_cloze_text(tmp_path: Path) -> None:
    question = {
        "id": "lint-q",
        "type": "cloze",
        "text": "The essay lists [[demining]] among the tasks.",
        "explanation": "The essays list demining.",
        "source": [{"quote": QUOTE}, SECOND_SOURCE],
        "tags": ["humanitarian"],
        "difficulty": "easy",
        "bloom": "remember",
    }

    bank, path = lint_two_essays(tmp_path, question)

    [warning] = bank.warnings
    assert (warning.code, warning.line) == (
        "multi-essay-prompt",
        line_in_question(path, "lint-q", "text"),
    )
    assert "the text says 'The essay'" in warning.message


def test_lint_ignore_silences_multi_essay_prompt(tmp_path: Path) -> None:
    question = single_choice(
        source=[{"quote": QUOTE}, SECOND_SOURCE],
        lint_ignore={"multi-essay-prompt": "Both essays list it in the same words."},
    )

    bank, _ = lint_two_essays(tmp_path, question)

    assert bank.warnings == []


# --- bloom-scenario --------------------------------------------------------------

SCENE = (
    "Engineers of a mission are clearing mines near a village school. "
    "Which humanitarian task is this?"
)
LONG_CASES = [
    "A mission's engineers clear the mines around a village school",
    "A convoy carries food and medicine to a town cut off by fighting",
    "A field hospital treats the wounded of both sides in a valley",
]


@pytest.mark.parametrize(
    ("bloom", "prompt", "choices", "warned"),
    [
        ("apply", "Which humanitarian task does the essay list?", None, True),
        ("analyze", "Which humanitarian task does the essay list?", None, True),
        ("remember", "Which humanitarian task does the essay list?", None, False),
        ("understand", "Which humanitarian task does the essay list?", None, False),
        ("apply", SCENE, None, False),
        ("analyze", SCENE, None, False),
        # a scene word but too short to set a scene
        ("apply", "Which task fits this situation?", None, True),
        # long, but about the essay, not a case
        (
            "analyze",
            "Which reading best fits how the essay presents taking part in "
            "international peacekeeping missions as a duty of every member?",
            None,
            True,
        ),
        (
            "apply",
            "Suppose that a ceasefire holds but mines remain on the roads to "
            "the schools. Which task comes first?",
            None,
            False,
        ),
        # the options are the cases
        ("apply", "Which situation shows humanitarian work?", LONG_CASES, False),
        # ... but only when they read as descriptions, not labels
        (
            "apply",
            "Which situation shows humanitarian work?",
            [KEY, *DISTRACTORS],
            True,
        ),
    ],
)
def test_lint_warns_on_apply_or_analyze_without_a_scenario(
    tmp_path: Path, bloom: str, prompt: str, choices: list[str] | None, warned: bool
) -> None:
    texts = choices or [KEY, *DISTRACTORS]
    question = single_choice(
        prompt=prompt,
        bloom=bloom,
        choices=[
            {"text": texts[0], "correct": True},
            *({"text": t} for t in texts[1:]),
        ],
    )

    bank, path = lint(tmp_path, question)

    found = [(w.code, w.line) for w in bank.warnings if w.ident == "lint-q"]
    expected = [("bloom-scenario", line_in_question(path, "lint-q", "bloom"))]
    assert found == (expected if warned else [])


def test_bloom_scenario_reads_the_left_items_of_a_matching(tmp_path: Path) -> None:
    question = matching(4, ["Air support"], bloom="apply")
    question["prompt"] = "Match each situation to the task it shows:"
    cases = [*LONG_CASES, "Observers watch the ceasefire line between two armies"]
    for pair, case in zip(question["pairs"], cases, strict=True):
        pair["left"] = case

    bank, _ = lint(tmp_path, question)

    assert bank.warnings == []
    labels, _ = lint(tmp_path / "labels", matching(4, ["Air support"], bloom="apply"))
    assert [w.code for w in labels.warnings] == ["bloom-scenario"]


def test_lint_ignore_silences_bloom_scenario(tmp_path: Path) -> None:
    question = single_choice(
        bloom="analyze",
        lint_ignore={"bloom-scenario": "It asks to tell a cause from an effect."},
    )

    bank, _ = lint(tmp_path, question)

    assert bank.warnings == []


# --- rule 18: key-longest-share (bank) ---------------------------------------------

EVEN = ["Teaching pupils", "Giving first aid", "Repairing roads"]  # 15-16 characters


def sized(number: int, longest: bool, **extra: Any) -> dict[str, Any]:
    """A single-choice item whose key is (or is not) the strictly longest option.

    Keys stand at positions 1-3 in turn, so key-position stays quiet; a longest key is
    under 1.5x the distractors, so key-longest does too.
    """
    key = "Clearing minefields" if longest else "Clearing mines"
    choices: list[Any] = [{"text": d} for d in EVEN]
    choices.insert((number + 2) % 3, {"text": key, "correct": True})
    return single_choice(f"lint-size-{number}", choices=choices, **extra)


def test_lint_warns_when_over_a_third_of_keys_are_the_longest_option(
    tmp_path: Path,
) -> None:
    # With the fixture's single-choice item (its key is not the longest): 4 of 10.
    items = [sized(n, longest=n < 4) for n in range(9)]

    bank, path = lint(tmp_path, *items)

    [warning] = bank.warnings
    assert warning.code == "key-longest-share"
    assert (warning.path, warning.line, warning.ident) == (str(path.parent), None, None)
    assert "the key is the longest option in 4 of 10 single-choice items (40%" in (
        warning.message
    )
    assert warning.message.endswith(
        "lint-size-0, lint-size-1, lint-size-2, lint-size-3"
    )


def test_lint_accepts_a_third_of_keys_longest(tmp_path: Path) -> None:
    bank, _ = lint(tmp_path, *[sized(n, longest=n < 3) for n in range(8)])  # 3 of 9

    assert bank.warnings == []


def test_key_longest_share_needs_eight_single_choice_items(tmp_path: Path) -> None:
    bank, _ = lint(tmp_path, *[sized(n, longest=True) for n in range(6)])  # 6 of 7

    assert [w.code for w in bank.warnings] == []


def test_accepted_key_longest_still_counts_towards_the_share(tmp_path: Path) -> None:
    accepted = {"key-longest": "The key must name the whole task."}
    items = [sized(n, longest=n < 4, lint_ignore=accepted) for n in range(9)]

    bank, _ = lint(tmp_path, *items)

    assert [w.code for w in bank.warnings] == ["key-longest-share"]


def test_lint_ignore_key_longest_share_leaves_the_item_out(tmp_path: Path) -> None:
    accepted = {"key-longest-share": "The key must name the whole task."}
    items = [
        sized(n, longest=n < 4, **({"lint_ignore": accepted} if n == 0 else {}))
        for n in range(9)
    ]

    bank, _ = lint(tmp_path, *items)  # 3 of 9 counted

    assert bank.warnings == []


def test_every_acceptable_lint_code_is_documented_in_the_content_readme() -> None:
    readme = (Path(__file__).parent.parent / "content" / "README.md").read_text(
        encoding="utf-8"
    )

    for code in LINT_CODES:
        assert f"| `{code}` | warning" in readme, code
