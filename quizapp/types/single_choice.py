"""Single choice: exactly one key among three to five options; 1 or 0."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .base import Data, QuestionType, Warn
from .choice import AuthoredOptions

if TYPE_CHECKING:
    from ..content.schema import Checker, QuestionDoc
    from ..content.yamlio import Mapping

# Bank-level shares are noise on a handful of items.
BANK_MIN_ITEMS = 8
KEY_LONGEST_MAX_SHARE = 1 / 3


class SingleChoice(AuthoredOptions):
    """One radio group; the key is the one `correct: true` option."""

    name = "single_choice"
    label = "Single choice"
    fields_template = "quiz/types/single_choice.html"
    instruction = "Choose one answer."
    enough_options = (3, 4)
    lint_codes = (
        "key-longest",
        "option-count",
        "key-position",
        "key-longest-share",
        "stem-key-overlap",
    )

    def check_keys(
        self, check: Checker, item: Mapping, options: list[Data], qid: str
    ) -> None:
        """Exactly one key."""
        keys = sum(option["correct"] for option in options)
        if keys != 1:
            check.error(
                item.line_of("options"),
                "a single-choice question needs exactly one correct option, "
                f"found {keys}",
                qid,
            )

    def lint_key(self, q: QuestionDoc, warn: Warn) -> None:
        """key-longest: the key is not over 1.5x the mean distractor length."""
        options = q.data["options"]
        keys = [len(str(o["text"])) for o in options if o["correct"]]
        others = [len(str(o["text"])) for o in options if not o["correct"]]
        if keys and others:
            mean = sum(others) / len(others)
            if keys[0] > 1.5 * mean:
                warn(
                    "key-longest",
                    f"the key is {keys[0] / mean:.1f}x the mean distractor length "
                    "(over 1.5x gives it away)",
                    q.options_line,
                )

    def lint_bank(self, questions: list[QuestionDoc]) -> list[tuple[str, str]]:
        """key-position and key-longest-share over the bank's single-choice items."""
        own = [q for q in questions if q.type == self.name]
        return [
            finding
            for finding in (_key_position(own), _key_longest_share(own))
            if finding
        ]


def _key_position(questions: list[QuestionDoc]) -> tuple[str, str] | None:
    positions: Counter[int] = Counter()
    for q in questions:
        if "key-position" not in q.lint_ignore:
            index = next(i for i, o in enumerate(q.data["options"]) if o["correct"])
            positions[index + 1] += 1
    total = sum(positions.values())
    if total < BANK_MIN_ITEMS:
        return None
    share = {pos: positions[pos] / total for pos in (1, 2, 3)}
    # Keys bunched on one position (or never in the first three) let a
    # test-wise learner guess from the file order in exports that keep it.
    if max(positions.values()) / total > 0.4 or min(share.values()) < 0.1:
        spread = ", ".join(f"{p}: {positions[p]}" for p in sorted(positions))
        return (
            "key-position",
            f"single-choice keys are unbalanced by position ({spread})",
        )
    return None


def key_is_longest(options: list[dict[str, object]]) -> bool:
    """Whether the key is strictly longer than every distractor."""
    key = next(len(str(o["text"])) for o in options if o["correct"])
    return all(key > len(str(o["text"])) for o in options if not o["correct"])


def _key_longest_share(questions: list[QuestionDoc]) -> tuple[str, str] | None:
    # An accepted per-item `key-longest` still counts: the share is about the
    # bank's pattern, which a test-wise learner sees whatever each reason says.
    counted = [q for q in questions if "key-longest-share" not in q.lint_ignore]
    longest = [q.id for q in counted if key_is_longest(q.data["options"])]
    if len(counted) < BANK_MIN_ITEMS or len(longest) <= KEY_LONGEST_MAX_SHARE * len(
        counted
    ):
        return None
    return (
        "key-longest-share",
        f"the key is the longest option in {len(longest)} of {len(counted)} "
        f"single-choice items ({len(longest) / len(counted):.0%}, at most a third; "
        "rule 18): lengthen distractors in some of " + ", ".join(longest),
    )


TYPE: QuestionType = SingleChoice()
