"""The pure grading rules, called as plain functions."""

import pytest

from quizapp.grading import grade, normalise_text

CHOICE = {
    "options": [
        {"id": "a", "text": "A", "correct": True, "feedback": None},
        {"id": "b", "text": "B", "correct": False, "feedback": None},
        {"id": "c", "text": "C", "correct": False, "feedback": None},
    ]
}
MULTI = {
    "options": [
        {"id": "a", "text": "A", "correct": True, "feedback": None},
        {"id": "b", "text": "B", "correct": True, "feedback": None},
        {"id": "c", "text": "C", "correct": False, "feedback": None},
        {"id": "d", "text": "D", "correct": False, "feedback": None},
    ]
}


def test_single_choice_scores_one_for_the_key_and_zero_otherwise():
    assert grade("single_choice", CHOICE, {"choice": "a"}).score == 1.0
    assert grade("single_choice", CHOICE, {"choice": "b"}).score == 0.0
    assert grade("single_choice", CHOICE, {}).score == 0.0


def test_true_false_grades_like_single_choice():
    data = {
        "options": [
            {"id": "t", "text": "True", "correct": False, "feedback": None},
            {"id": "f", "text": "False", "correct": True, "feedback": None},
        ]
    }
    assert grade("true_false", data, {"choice": "f"}).correct
    assert not grade("true_false", data, {"choice": "t"}).correct


@pytest.mark.parametrize(
    ("picked", "score"),
    [
        (["a", "b"], 1.0),  # both keys
        (["a"], 0.5),  # one of two keys: +1/k
        (["a", "c"], 0.0),  # +1/2 - 1/2
        (["a", "b", "c"], 0.5),  # all keys, one wrong pick
        (["c", "d"], 0.0),  # floored at zero, never negative
        ([], 0.0),
    ],
)
def test_multiple_response_gives_partial_credit_floored_at_zero(picked, score):
    verdict = grade("multiple_response", MULTI, {"choices": picked})
    assert verdict.score == pytest.approx(score)
    assert verdict.correct is (score == 1.0)


def test_multiple_response_reports_each_option_right_or_wrong():
    verdict = grade("multiple_response", MULTI, {"choices": ["a", "c"]})
    assert verdict.parts == [True, False, False, True]


@pytest.mark.parametrize(
    "typed",
    [
        "Haiti",
        "haiti",
        "  HAITI ",
        "Haiti.",
        "“Haiti”",
        "Republic   of\tHaiti",
        "(Haiti)!",
    ],
)
def test_short_answer_ignores_case_whitespace_and_surrounding_punctuation(typed):
    data = {"answers": ["Haiti", "Republic of Haiti"]}
    assert grade("short_answer", data, {"text": typed}).correct


@pytest.mark.parametrize("typed", ["Hait", "Haiti Haiti", "", "   ", "...", "Chile"])
def test_short_answer_rejects_other_text(typed):
    assert not grade("short_answer", {"answers": ["Haiti"]}, {"text": typed}).correct


def test_short_answer_compares_nfc_and_nfd_text_the_same():
    composed = "Mission d’observation à Genève"
    decomposed = "Mission d’observation a\u0300 Gene\u0300ve"
    assert composed != decomposed
    data = {"answers": [composed]}
    assert grade("short_answer", data, {"text": decomposed}).correct


def test_punctuation_inside_an_answer_still_counts():
    data = {"answers": ["UN-led"]}
    assert grade("short_answer", data, {"text": "UN-led"}).correct
    assert not grade("short_answer", data, {"text": "UN led"}).correct


def test_cloze_scores_the_share_of_blanks_right():
    data = {"parts": ["", " and ", ""], "blanks": [["police"], ["civilian", "civil"]]}
    assert grade("cloze", data, {"blanks": ["Police", "civil"]}).score == 1.0
    half = grade("cloze", data, {"blanks": ["police", "army"]})
    assert half.score == 0.5
    assert half.parts == [True, False]
    assert grade("cloze", data, {"blanks": ["police"]}).score == 0.5  # missing blank


def test_matching_scores_the_share_of_pairs_right():
    data = {
        "pairs": [
            {"id": "l1", "left": "A", "right_id": "r1", "right": "1"},
            {"id": "l2", "left": "B", "right_id": "r2", "right": "2"},
            {"id": "l3", "left": "C", "right_id": "r3", "right": "3"},
        ]
    }
    full = {"pairs": {"l1": "r1", "l2": "r2", "l3": "r3"}}
    assert grade("matching", data, full).correct
    swapped = {"pairs": {"l1": "r2", "l2": "r1", "l3": "r3"}}
    verdict = grade("matching", data, swapped)
    assert verdict.score == pytest.approx(1 / 3, abs=1e-3)
    assert verdict.parts == [False, False, True]
    assert verdict.label == "Partly correct"


def test_normalise_text_keeps_inner_punctuation_and_folds_case():
    assert normalise_text("  Blue-Helmets!! ") == "blue-helmets"
    assert normalise_text("STRASSE") == normalise_text("straße")
