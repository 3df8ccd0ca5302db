"""What the option types (single choice, multiple response, true/false) share.

Options are stored as `{"id", "text", "correct", "feedback"}` with opaque ids; the
learner picks by id, the review lists every option with the key and their pick
marked, and the Anki note is the choice note type (options on the front, the key
marked on the back).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

from wtforms import RadioField
from wtforms.validators import InputRequired

from . import cards
from .base import Answer, Data, Fail, Line, QuestionType, Verdict, Warn, fold, opaque_id
from .fields import choices

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker, QuestionDoc
    from ..content.yamlio import Mapping

CHOICE_NOTE = cards.NoteType(
    id=1951030834,
    name="Peacekeeping: choice question",
    fields=(
        "Question",
        "Instruction",
        "Options",
        "Key",
        "Answer",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Choice",
    front="""\
<div class="instruction">{{Instruction}}</div>
<div class="question">{{Question}}</div>
{{Options}}""",
    back="""\
<div class="instruction">{{Instruction}}</div>
<div class="question">{{Question}}</div>
<hr id="answer">
<div class="key">Answer: <b>{{Key}}</b></div>
{{Answer}}
"""
    + cards.COMMON_BACK,
)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALL_NONE = re.compile(
    r"\b(all|none|both|neither)( of)? (the )?(above|below|these)\b", re.I
)
# Rule 11: words too common to be a clue when the stem and the key share them.
_STOPWORD_TEXT = """
    about above according after again against also among another answer because been
    before being best between both came come could does doing down during each either
    essay essays even every fits following from have having here into itself just
    least less like listed lists made make many more most much must name named names
    only other ought over part said same says should show shows some such than that
    their theirs them then there these they this those through under until upon very
    were what when where which while whom whose will with within without would your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


class ChoiceType(QuestionType):
    """A question answered by picking options: the hooks the option types share."""

    review_template = "quiz/types/_choice_review.html"
    note_types = (CHOICE_NOTE,)
    # The instruction on the Anki card's front.
    instruction: ClassVar[str]
    # option-count: how many options are enough without weak padding.
    enough_options: ClassVar[tuple[int, int]] = (3, 5)
    shuffled: ClassVar[bool] = True

    def option_order(self, data: Data, rng: random.Random) -> list[str]:
        """Every option id, shuffled for the attempt."""
        order = [o["id"] for o in data["options"]]
        if self.shuffled:
            rng.shuffle(order)
        return order

    def case_items(self, data: Data) -> list[str]:
        """The options' texts."""
        return [o["text"] for o in data["options"]]

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """A radio group of the options in the attempt's order."""
        form.answer = RadioField(  # type: ignore[attr-defined]
            "Choose one answer",
            choices=self._choices(data, order),
            validators=[InputRequired("Choose one of the options.")],
        )

    @staticmethod
    def _choices(data: Data, order: list[str]) -> list[Any]:
        texts = {o["id"]: o["text"] for o in data["options"]}
        return choices([(oid, texts[oid]) for oid in order if oid in texts])

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The picked option."""
        return {"answer": stored.get("choice")}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"choice": option id}`."""
        return {"choice": form.answer.data}  # type: ignore[attr-defined]

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """1 for the key, else 0."""
        key = next(o["id"] for o in data["options"] if o["correct"])
        return Verdict(1.0 if answer.get("choice") == key else 0.0)

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """Every option in the attempt's order, the key and the pick marked."""
        picked = set(answer.get("choices", [])) | {answer.get("choice")}
        options = {o["id"]: o for o in data["options"]}
        return [
            Line(
                text=options[oid]["text"],
                chosen="yes" if oid in picked else "",
                correct=options[oid]["correct"],
                feedback=options[oid]["feedback"],
            )
            for oid in order or list(options)
            if oid in options
        ]

    def anki_key(self, keys: list[tuple[str, dict[str, Any]]]) -> str:
        """The key as the card's back names it: the keys' letters."""
        return ", ".join(letter for letter, _ in keys)

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """Lettered options on the front; the key marked, with feedback, on the back."""
        options = data["options"]
        letters = LETTERS[: len(options)]
        texts = [cards.text(option["text"]) for option in options]  # once, both sides
        front = "".join(
            f'<li><span class="letter">{letter}</span>{text}</li>'
            for letter, text in zip(letters, texts, strict=True)
        )
        back = "".join(
            _marked_option(letter, option, text)
            for letter, option, text in zip(letters, options, texts, strict=True)
        )
        keys = [
            (letter, option)
            for letter, option in zip(letters, options, strict=True)
            if option["correct"]
        ]
        return CHOICE_NOTE, {
            "Question": cards.text(prompt),
            "Instruction": self.instruction,
            "Options": f'<ul class="options">{front}</ul>',
            "Key": self.anki_key(keys),
            "Answer": f'<ul class="options">{back}</ul>',
        }


def _marked_option(letter: str, option: dict[str, Any], text: str) -> str:
    # The key is marked in words as well as colour, for colour-blind learners and
    # clients that drop the CSS.
    status, mark = ("correct", "✓ correct") if option["correct"] else ("incorrect", "✗")
    feedback = option.get("feedback")
    extra = f'<div class="feedback">{cards.text(feedback)}</div>' if feedback else ""
    return (
        f'<li class="{status}"><span class="letter">{letter}</span>'
        f'{text}<span class="mark">{mark}</span>{extra}</li>'
    )


class AuthoredOptions(ChoiceType):
    """Option types whose options the author writes (not true/false)."""

    keys = frozenset({"options"})

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`options`: text, correct?, feedback?, plausible_but_true?; keys checked."""
        options = []
        for option in check.mapping_list(item, "options", qid):
            check.keys(
                option, {"text"}, {"correct", "feedback", "plausible_but_true"}, qid
            )
            text = check.text(option, "text", qid)
            correct = option.get("correct", False)
            if not isinstance(correct, bool):
                check.error(
                    option.line_of("correct"), "'correct' must be true or false", qid
                )
            feedback = check.text(option, "feedback", qid, optional=True)
            plausible = _read_plausible(check, option, correct is True, qid)
            if text:
                record = {
                    "id": opaque_id(qid, "option", text),
                    "text": text,
                    "correct": correct is True,
                    "feedback": feedback,
                }
                # Only when authored, so the stored data (and content hash) of every
                # option without the flag stays as it was.
                if plausible:
                    record["plausible_but_true"] = plausible
                options.append(record)
        if options:
            self.check_keys(check, item, options, qid)
        if options and len(options) < 2:
            check.error(item.line_of("options"), "at least two options are needed", qid)
        return {"options": options} if options else None

    def check_keys(
        self, check: Checker, item: Mapping, options: list[Data], qid: str
    ) -> None:
        """Report a key count this type does not allow."""
        raise NotImplementedError

    def lint(self, q: QuestionDoc, warn: Warn, fail: Fail) -> None:
        """No all/none options, no duplicates, enough options, no stem-key clue."""
        options = q.data["options"]
        texts = [o["text"] for o in options]
        for text in texts:
            if ALL_NONE.search(text):
                fail(
                    f"option {text!r}: no 'all/none of the above' options",
                    q.options_line,
                )
        folded = Counter(fold(t) for t in texts)
        for text, count in folded.items():
            if count > 1:
                fail(f"duplicate option {text!r}", q.options_line)
        low, high = self.enough_options
        if not low <= len(options) <= high:
            warn(
                "option-count",
                f"{len(options)} options; {low} to {high} is enough, "
                "without weak padding",
                q.options_line,
            )
        self.lint_key(q, warn)
        _lint_stem_key_overlap(q, warn)

    def lint_key(self, q: QuestionDoc, warn: Warn) -> None:
        """Rules on the key's own text (single choice: its length)."""


def _read_plausible(
    check: Checker, option: Mapping, correct: bool, qid: str
) -> str | None:
    """The reason a distractor that is a true statement still misses this stem."""
    if "plausible_but_true" not in option:
        return None
    line = option.line_of("plausible_but_true")
    if correct:
        check.error(
            line,
            "'plausible_but_true' flags a distractor; it is not allowed on a "
            "'correct: true' option",
            qid,
        )
        return None
    if option["plausible_but_true"] is None:
        check.error(
            line,
            "'plausible_but_true' needs the reason the true statement does not "
            "answer this stem",
            qid,
        )
        return None
    return check.text(option, "plausible_but_true", qid)


def content_words(text: str) -> dict[str, str]:
    """Words of four letters or more, stopwords out: crude stem -> the word as found."""
    words: dict[str, str] = {}
    for word in re.findall(r"[^\W\d_]+", text.casefold()):
        if len(word) >= 4 and word not in STOPWORDS:
            words.setdefault(_stem(word), word)
    return words


def _stem(word: str) -> str:
    # Crude on purpose: plural and -ing/-ed forms only, so "mines" meets "mine"
    # but "peacekeeping" and "peacekeepers" stay apart.
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        return word[:-1]
    return word


def _lint_stem_key_overlap(q: QuestionDoc, warn: Warn) -> None:
    options = q.data["options"]
    stem = content_words(q.prompt)
    keys: set[str] = set()
    distractors: set[str] = set()
    for option in options:
        (keys if option["correct"] else distractors).update(
            content_words(option["text"])
        )
    shared = sorted(stem[word] for word in (stem.keys() & keys) - distractors)
    if shared:
        warn(
            "stem-key-overlap",
            f"the stem and the key share {', '.join(repr(w) for w in shared)}, "
            "which no distractor has: a clue (rule 11); reword, or give a "
            "distractor the word too",
            q.options_line,
        )
