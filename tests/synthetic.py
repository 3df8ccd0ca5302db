"""A synthetic content directory of any size, built from the real essays."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from quizapp.content.bank import read_bank
from quizapp.content.schema import TYPES

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ROOT = Path(__file__).resolve().parent.parent


def write_bank(target: Path, questions: int, quizzes: int = 7) -> Path:
    """Write `questions` valid questions (of every type) and `quizzes` quizzes."""
    shutil.copytree(ROOT / "content" / "essays", target / "essays")
    essays = read_bank(target).essays
    per_essay: dict[str, list[dict]] = {e.slug: [] for e in essays}
    for n in range(questions):
        essay = essays[n % len(essays)]
        passage = essay.passages[n % len(essay.passages)]
        quote = " ".join(passage.text.split()[:6])
        per_essay[essay.slug].append(_question(n, TYPES[n % len(TYPES)], quote))
    (target / "questions").mkdir()
    for slug, items in per_essay.items():
        body = {"essay": slug, "questions": items}
        (target / "questions" / f"{slug}.yaml").write_text(
            yaml.dump(body, Dumper=DUMPER, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    slugs = [e.slug for e in essays]
    defined = [
        {
            "slug": f"quiz-{n}",
            "title": f"Quiz {n}",
            "description": "A synthetic quiz.",
            "mode": "exam" if n % 2 else "practice",
            "essays": [slugs[n % len(slugs)]],
            "count": 50,
        }
        for n in range(quizzes)
    ]
    (target / "quizzes").mkdir()
    (target / "quizzes" / "quizzes.yaml").write_text(
        yaml.safe_dump({"quizzes": defined}, sort_keys=False), encoding="utf-8"
    )
    return target


def _question(n: int, qtype: str, quote: str) -> dict:
    base = {
        "id": f"q-{n}",
        "type": qtype,
        "prompt": f"Which statement answers synthetic question {n}?",
        "explanation": f"Explanation {n}.",
        "source": [{"quote": quote}],
        "tags": [f"topic-{n % 10}"],
        "difficulty": "easy",
        "bloom": "remember",
    }
    if qtype in ("single_choice", "multiple_response"):
        base["options"] = [
            {"text": f"Option {n}-{i}", "correct": _is_key(qtype, n, i)}
            for i in range(4)
        ]
    elif qtype == "true_false":
        base["answer"] = n % 2 == 0
    elif qtype == "cloze":
        del base["prompt"]
        base["text"] = f"Synthetic [[answer {n}]] and [[second {n}]]."
    elif qtype == "short_answer":
        base["answers"] = [f"answer {n}"]
    elif qtype == "ordering":
        base["prompt"] = f"Put the steps of synthetic question {n} in order:"
        base["items"] = [f"Step {n}-{i}" for i in range(4)]
    elif qtype == "numeric":
        base["prompt"] = f"In which year did synthetic event {n} happen?"
        base["answer"] = 1900 + n % 100
    else:
        base["prompt"] = f"Match the items of synthetic question {n}:"
        base["pairs"] = [{"left": f"L{n}-{i}", "right": f"R{n}-{i}"} for i in range(3)]
    return base


def _is_key(qtype: str, n: int, index: int) -> bool:
    # Single choice: one key, rotating over the positions; multiple: two keys.
    first = (n // len(TYPES)) % 4
    return index == first or (qtype == "multiple_response" and index == (first + 1) % 4)


# ----------------------------------------------------------- a synthetic history


def card_row(
    learner: str,
    question_id: str,
    rng: random.Random,
    now: datetime,
    reps: int,
    last_review_days: tuple[float, float] = (1, 30),
) -> dict[str, Any]:
    """A study card in review, about a third overdue, the rest due within 60 days."""
    return {
        "learner_id": learner,
        "question_id": question_id,
        "state": 2,
        "step": None,
        "stability": rng.uniform(1, 50),
        "difficulty": rng.uniform(1, 10),
        "due": now + timedelta(days=rng.uniform(-30, 60)),
        "last_review": now - timedelta(days=rng.uniform(*last_review_days)),
        "reps": reps,
        "lapses": 0,
    }


def review_row(
    card_id: int, learner: str, rng: random.Random, now: datetime
) -> dict[str, Any]:
    """One review-log row of a card, some day of the past year."""
    return {
        "card_id": card_id,
        "learner_id": learner,
        "reviewed_at": now - timedelta(days=rng.uniform(1, 365)),
        "rating": rng.randint(1, 4),
        "source": "study",
        "state_before": 2,
        "before": None,
        "state_after": 2,
        "stability_after": 5.0,
        "difficulty_after": 5.0,
        "interval_seconds": 86400,
        "duration_ms": None,
    }
