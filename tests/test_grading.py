"""The pure grading rules, called as plain functions."""

import pytest

from quizapp.grading import Typo, Verdict, edit_distance, grade, normalise_text

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


@pytest.mark.parametrize(
    "typed", ["Tahiti", "Haiti Haiti", "", "   ", "...", "Chile", "Hai"]
)
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
    exact = grade("short_answer", data, {"text": "UN-led"})
    assert exact.correct
    assert exact.typos == ()
    # The hyphen is kept by the normalisation, so a space in its place is one edit:
    # accepted, and reported as a typo.
    spaced = grade("short_answer", data, {"text": "UN led"})
    assert spaced.correct
    assert spaced.typos == (Typo(0, "UN led", "UN-led"),)
    assert not grade("short_answer", data, {"text": "UN or led"}).correct


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


# --- typo tolerance -------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kosovo", "kosovo", 0),
        ("kosovo", "kosvoo", 1),  # one transposition
        ("kosovo", "kosov", 1),  # one deletion
        ("kosovo", "kossovo", 1),  # one insertion
        ("kosovo", "kasovo", 1),  # one substitution
        ("ca", "abc", 3),  # optimal string alignment, not full Damerau (2)
        ("", "abc", 3),
    ],
)
def test_edit_distance_is_optimal_string_alignment(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


@pytest.mark.parametrize(
    ("accepted", "typed", "ok"),
    [
        ("Chad", "Chad", True),  # 4 characters: exact only
        ("Chad", "Chat", False),
        ("Chad", "Cahd", False),
        ("Sinai", "Sinia", True),  # 5 characters: one edit
        ("Sinai", "Siani", True),
        ("Sinai", "Snia", False),  # two edits
        ("ceasefire", "ceasfire", True),  # 9 characters: one edit
        ("ceasefire", "ceasfir", False),  # two edits
        ("mine-action", "mine acton", True),  # 11 characters: two edits
        ("mine action", "mine acton", True),  # 11 characters: one edit
        ("peacekeeper", "peacekeepr", True),  # 11 characters: one edit
        ("peacemaking", "peacemkign", True),  # 11 characters: two edits
        ("peacemaking", "peacekeeping", False),  # three edits: another word
        ("monitoring", "monitorin", True),  # 10 characters: two edits allowed
        ("monitoring", "montoirng", True),
        ("monitoring", "mntoirng", False),  # three edits
    ],
)
def test_typo_tolerance_by_length_of_the_accepted_answer(accepted, typed, ok):
    verdict = grade("short_answer", {"answers": [accepted]}, {"text": typed})
    assert verdict.correct is ok
    assert verdict.typos == (
        (Typo(0, typed, accepted),) if ok and typed != accepted else ()
    )


@pytest.mark.parametrize(
    ("accepted", "typed"),
    [
        ("1978", "1979"),
        ("Resolution 425", "Resolution 426"),  # 14 characters, but a number
        ("resolution 1701", "resolution 1710"),
        ("12 January 2010", "12 Janury 2010"),  # a digit anywhere: exact only
    ],
)
def test_answers_with_a_digit_are_never_typo_tolerant(accepted, typed):
    verdict = grade("short_answer", {"answers": [accepted]}, {"text": typed})
    assert not verdict.correct
    assert verdict.typos == ()


def test_an_exact_match_with_any_accepted_answer_reports_no_typo():
    data = {"answers": ["United Nations", "UN", "Nations Unies"]}
    verdict = grade("short_answer", data, {"text": "  nations   UNIES "})
    assert verdict.correct
    assert verdict.typos == ()


def test_a_typo_names_the_nearest_accepted_answer_as_the_content_writes_it():
    data = {"answers": ["Peace Enforcement", "Peacekeeping"]}
    verdict = grade("short_answer", data, {"text": " peacekeepng "})
    assert verdict == Verdict(1.0, [True], (Typo(0, "peacekeepng", "Peacekeeping"),))


def test_cloze_blanks_tolerate_typos_and_report_each_by_blank_index():
    data = {
        "parts": ["", " and ", " and ", ""],
        "blanks": [["Bosnia"], ["Kosovo"], ["Angola"]],
    }
    verdict = grade("cloze", data, {"blanks": ["Bosnia", "Kosvoo", "Angloa "]})
    assert verdict.score == 1.0
    assert verdict.parts == [True, True, True]
    assert verdict.typos == (Typo(1, "Kosvoo", "Kosovo"), Typo(2, "Angloa", "Angola"))


def test_cloze_without_any_order_grades_each_blank_in_place():
    data = {"parts": ["", " and ", ""], "blanks": [["Bosnia"], ["Kosovo"]]}
    verdict = grade("cloze", data, {"blanks": ["Kosovo", "Bosnia"]})
    assert verdict.score == 0.0
    assert verdict.parts == [False, False]


# --- any_order cloze --------------------------------------------------------------

ANY_ORDER = {
    "parts": ["Peacekeepers ", " and ", " ceasefires."],
    "blanks": [["monitor", "observe"], ["supervise", "oversee"]],
    "any_order": True,
}


@pytest.mark.parametrize(
    ("typed", "score", "parts"),
    [
        (["monitor", "supervise"], 1.0, [True, True]),
        (["supervise", "monitor"], 1.0, [True, True]),  # the other order
        (["oversee", "observe"], 1.0, [True, True]),
        (["supervise", "enforce"], 0.5, [True, False]),
        (["enforce", "supervise"], 0.5, [False, True]),
        (["monitor", "monitor"], 0.5, [True, False]),  # one blank counts once
        (["monitor", "observe"], 0.5, [True, False]),  # two variants of one blank
        (["enforce", "defend"], 0.0, [False, False]),
        (["supervise"], 0.5, [True, False]),  # a missing box
    ],
)
def test_any_order_cloze_scores_the_best_assignment(typed, score, parts):
    verdict = grade("cloze", ANY_ORDER, {"blanks": typed})
    assert verdict.score == score
    assert verdict.parts == parts
    assert verdict.typos == ()


def test_any_order_cloze_with_typos_reports_the_blank_each_box_matched():
    verdict = grade("cloze", ANY_ORDER, {"blanks": ["supervsie", "monitr"]})
    assert verdict.score == 1.0
    assert verdict.typos == (
        Typo(0, "supervsie", "supervise"),
        Typo(1, "monitr", "monitor"),
    )


def test_any_order_cloze_prefers_the_assignment_with_fewer_typos():
    data = {
        "parts": ["", ", ", ""],
        "blanks": [["patrols"], ["patrol"]],
        "any_order": True,
    }
    # In place, each box is one edit from its blank (two typos); swapped, both are
    # exact. Both orders get everything right: the exact one wins.
    verdict = grade("cloze", data, {"blanks": ["patrol", "patrols"]})
    assert verdict.score == 1.0
    assert verdict.typos == ()
    in_place = grade(
        "cloze", {**data, "any_order": False}, {"blanks": ["patrol", "patrols"]}
    )
    assert in_place.typos == (
        Typo(0, "patrol", "patrols"),
        Typo(1, "patrols", "patrol"),
    )


def test_any_order_cloze_of_six_blanks_finds_the_reversed_order():
    words = ["Bosnia", "Kosovo", "Angola", "Lebanon", "Haiti", "Sinai"]
    data = {
        "parts": [""] + [", "] * 5 + [""],
        "blanks": [[w] for w in words],
        "any_order": True,
    }
    verdict = grade("cloze", data, {"blanks": list(reversed(words))})
    assert verdict.score == 1.0
    assert verdict.parts == [True] * 6


def test_matching_and_choice_grading_ignore_spares_and_flags():
    data = {
        "pairs": [
            {"id": "l1", "left": "A", "right_id": "r1", "right": "1"},
            {"id": "l2", "left": "B", "right_id": "r2", "right": "2"},
            {"id": "l3", "left": "C", "right_id": "r3", "right": "3"},
        ],
        "spares": [{"id": "s1", "text": "4"}],
    }
    verdict = grade("matching", data, {"pairs": {"l1": "s1", "l2": "r2", "l3": "r3"}})
    assert verdict.parts == [False, True, True]
    assert verdict.typos == ()
    flagged = {
        "options": [
            {"id": "a", "text": "A", "correct": True, "feedback": None},
            {
                "id": "b",
                "text": "B",
                "correct": False,
                "feedback": None,
                "plausible_but_true": "True, but of another stage.",
            },
        ]
    }
    assert grade("single_choice", flagged, {"choice": "b"}) == Verdict(0.0)
