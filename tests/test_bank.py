"""The real question bank meets CONTENT.md's coverage and accuracy figures."""

from __future__ import annotations

import re
from collections import Counter
from copy import deepcopy

import pytest

from quizapp.content import read_bank
from quizapp.content.schema import TYPES
from tests.conftest import BANK_CONTENT

BANK = read_bank(BANK_CONTENT)
ESSAYS = {essay.slug: essay for essay in BANK.essays}
# Names and dates that CONTENT.md's accuracy section asks to be put in context.
NAMED = re.compile(
    r"UNIFIL|\bMFO\b|Multinational Force|Haiti|Bosnia|Kosovo|Angola|Lebanon|Sinai|"
    r"\b(19|20)\d\d\b"
)


def question_text(question) -> str:
    data = question.data
    parts = [question.prompt]
    parts += [o["text"] for o in data.get("options", [])]
    parts += [a for a in data.get("answers", [])]
    parts += [v for blank in data.get("blanks", []) for v in blank]
    parts += [p["left"] + " " + p["right"] for p in data.get("pairs", [])]
    parts += [s["text"] for s in data.get("spares", [])]
    parts += data.get("parts", [])
    return " ".join(parts)


def keys_of(question) -> list[str]:
    data = question.data
    keys = [o["text"] for o in data.get("options", []) if o["correct"]]
    keys += data.get("answers", [])[:1]
    keys += [blank[0] for blank in data.get("blanks", [])]
    keys += [p["right"] for p in data.get("pairs", [])]
    return keys


def test_bank_loads_without_errors_or_unaccepted_warnings():
    assert BANK.errors == []
    assert BANK.warnings == []


def test_bank_has_at_least_seventy_questions():
    assert len(BANK.questions) >= 70


@pytest.mark.parametrize("slug", sorted(ESSAYS))
def test_each_essay_has_at_least_twelve_questions(slug):
    assert sum(q.essay == slug for q in BANK.questions) >= 12


@pytest.mark.parametrize("qtype", TYPES)
def test_each_question_type_has_at_least_five_questions(qtype):
    assert sum(q.type == qtype for q in BANK.questions) >= 5


@pytest.mark.parametrize("slug", sorted(ESSAYS))
def test_every_passage_and_section_of_each_essay_is_cited(slug):
    cited = {
        source.anchor
        for question in BANK.questions
        for source in question.sources
        if source.essay == slug
    }
    essay = ESSAYS[slug]
    uncited = [p.anchor for p in essay.passages if p.anchor not in cited]
    assert uncited == []
    sections = {p.section for p in essay.passages if p.section}
    cited_sections = {p.section for p in essay.passages if p.anchor in cited}
    assert sections <= cited_sections


def test_at_least_a_third_of_the_bank_is_above_remember():
    levels = Counter(q.bloom for q in BANK.questions)
    assert (len(BANK.questions) - levels["remember"]) * 3 >= len(BANK.questions)


def test_every_quote_was_found_in_its_essay():
    for question in BANK.questions:
        assert question.sources, question.id
        for source in question.sources:
            assert source.anchor, (question.id, source.quote)


def test_no_key_is_a_claim_about_the_islamic_nation():
    for question in BANK.questions:
        for key in keys_of(question):
            assert "islamic" not in key.lower(), question.id


def test_questions_naming_missions_places_or_dates_carry_a_note():
    for question in BANK.questions:
        if NAMED.search(question_text(question)):
            assert question.note, question.id


def test_ids_are_unique_and_kebab_case():
    ids = [q.id for q in BANK.questions]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_quizzes_cover_each_essay_a_mixed_review_and_an_exam():
    by_mode = Counter(quiz.mode for quiz in BANK.quizzes)
    practice_essays = {
        slug
        for quiz in BANK.quizzes
        if quiz.mode == "practice"
        for slug in quiz.rule["essays"]
    }
    assert practice_essays == set(ESSAYS)
    assert any(q.mode == "practice" and q.count == 15 for q in BANK.quizzes)
    assert any(q.mode == "exam" and q.count == 20 for q in BANK.quizzes)
    assert by_mode["exam"] >= 1


# --- Issue 13: the rules the revised bank keeps (CONTENT.md 14-20) -----------------
# Each rule is a function over a list of questions that returns what breaks it, so the
# tests below can run it on the real bank (nothing may break it) and on a copy broken
# in memory (it must notice): an assertion that cannot fail proves nothing.

DEICTIC = re.compile(r"\b(the|this) essay\b", re.I)
RETIRED = re.compile(r"Retired ids \(never reuse\):(.*?)\.(?:\s|$)", re.S)


def cited_essays(question) -> set[str]:
    return {source.essay for source in question.sources}


def single_choice(questions) -> list:
    return [q for q in questions if q.type == "single_choice"]


def key_is_strictly_longest(question) -> bool:
    options = question.data["options"]
    key = next(len(o["text"]) for o in options if o["correct"])
    return all(key > len(o["text"]) for o in options if not o["correct"])


def key_longest_share(questions) -> float:
    """Share of single-choice items whose key is longer than every distractor."""
    items = single_choice(questions)
    return sum(map(key_is_strictly_longest, items)) / len(items)


def small_matchings(questions) -> list[str]:
    """Matching items with fewer than 4 pairs or no spare answer (rule 17)."""
    return [
        q.id
        for q in questions
        if q.type == "matching"
        and (len(q.data["pairs"]) < 4 or not q.data.get("spares"))
    ]


def first_source_elsewhere(questions) -> list[str]:
    """Items whose first source is not their own essay, the one the page names."""
    return [q.id for q in questions if q.sources[0].essay != q.essay]


def deictic_multi_essay_items(questions) -> list[str]:
    """Items citing several essays whose prompt (or cloze text) says 'the essay'."""
    return [
        q.id
        for q in questions
        if len(cited_essays(q)) > 1
        and DEICTIC.search(q.prompt + " " + "".join(q.data.get("parts", [])))
    ]


def questions_citing(questions, slug: str) -> int:
    return sum(slug in cited_essays(q) for q in questions)


def retired_ids() -> dict[str, set[str]]:
    """The ids each questions file's header lists as retired."""
    retired = {}
    for path in sorted((BANK_CONTENT / "questions").glob("*.yaml")):
        header = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            header.append(line.lstrip("#").strip())
        match = RETIRED.search(" ".join(header))
        ids = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", match.group(1)) if match else []
        retired[path.name] = set(ids)
    return retired


def broken(question, **changes):
    """A deep copy of a real question with some fields replaced."""
    copy = deepcopy(question)
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def by_id(qid: str):
    return next(q for q in BANK.questions if q.id == qid)


@pytest.mark.parametrize("slug", sorted(ESSAYS))
def test_each_essay_is_cited_by_at_least_twelve_questions(slug):
    assert questions_citing(BANK.questions, slug) >= 12


def test_each_essay_count_notices_a_thin_essay():
    slug = "peacekeeping-operations"
    thinned = [q for q in BANK.questions if slug not in cited_essays(q)][:5]
    thinned += [q for q in BANK.questions if slug in cited_essays(q)][:11]
    assert questions_citing(thinned, slug) == 11


def test_the_key_is_the_longest_option_in_at_most_a_third_of_single_choice_items():
    assert len(single_choice(BANK.questions)) >= 8
    assert key_longest_share(BANK.questions) <= 1 / 3


def test_key_longest_share_notices_keys_padded_to_be_longest():
    padded = []
    for q in single_choice(BANK.questions):
        options = deepcopy(q.data["options"])
        for option in options:
            if option["correct"]:
                option["text"] += " " + "x" * 200
        padded.append(broken(q, data={**q.data, "options": options}))
    assert key_longest_share(padded) == 1


def test_every_matching_item_has_four_pairs_and_a_spare():
    assert sum(q.type == "matching" for q in BANK.questions) >= 5
    assert small_matchings(BANK.questions) == []


def test_small_matchings_notices_a_missing_spare_and_a_missing_pair():
    item = next(q for q in BANK.questions if q.type == "matching")
    no_spare = broken(item, data={"pairs": item.data["pairs"]})
    three_pairs = broken(item, data={**item.data, "pairs": item.data["pairs"][:3]})
    assert small_matchings([no_spare, three_pairs]) == [item.id, item.id]


def test_every_spare_differs_from_every_right_hand_answer():
    for q in BANK.questions:
        if q.type == "matching":
            rights = {p["right"].casefold() for p in q.data["pairs"]}
            spares = [s["text"].casefold() for s in q.data.get("spares", [])]
            assert not rights & set(spares), q.id


def test_every_question_cites_first_the_essay_its_page_names():
    assert first_source_elsewhere(BANK.questions) == []


def test_first_source_check_notices_a_foreign_first_quote():
    item = next(q for q in BANK.questions if len(cited_essays(q)) > 1)
    foreign = [s for s in item.sources if s.essay != item.essay]
    own = [s for s in item.sources if s.essay == item.essay]
    assert first_source_elsewhere([broken(item, sources=foreign + own)]) == [item.id]


def test_no_item_citing_several_essays_says_the_essay():
    assert deictic_multi_essay_items(BANK.questions) == []


def test_the_essay_check_notices_a_multi_essay_prompt_saying_the_essay():
    item = next(q for q in BANK.questions if len(cited_essays(q)) > 1)
    vague = broken(item, prompt="According to the essay, " + item.prompt)
    single = broken(vague, sources=vague.sources[:1])
    assert deictic_multi_essay_items([vague, single]) == [item.id]


def reused_ids(retired: dict[str, set[str]], questions) -> list[str]:
    """Live question ids that a file header lists as retired."""
    live = {q.id for q in questions}
    return sorted(set().union(*retired.values()) & live)


def test_retired_ids_are_never_reused():
    retired = retired_ids()
    assert all(retired.values()), "every questions file lists its retired ids"
    assert reused_ids(retired, BANK.questions) == []


def test_reuse_check_notices_a_retired_id_back_in_the_bank():
    revived = broken(BANK.questions[0], id="po-unifil-multinational")
    assert reused_ids(retired_ids(), [revived]) == ["po-unifil-multinational"]


def test_retired_ids_are_read_from_the_file_headers():
    retired = set().union(*retired_ids().values())
    assert "po-unifil-multinational" in retired
    assert "pa-collective-security-term" in retired
