"""The real question bank meets CONTENT.md's coverage and accuracy figures."""

from __future__ import annotations

import re
from collections import Counter

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


# Types whose bank items are authored but wait for the writers' revision of
# content/questions/ to be merged (new-items.yaml on the types branch): strict, so
# the mark must go once they are in.
AWAITED = {"numeric", "ordering"}


@pytest.mark.parametrize(
    "qtype",
    [
        pytest.param(
            qtype,
            marks=pytest.mark.xfail(strict=True, reason="bank items not merged yet"),
        )
        if qtype in AWAITED
        else qtype
        for qtype in TYPES
    ],
)
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
