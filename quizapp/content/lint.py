"""The mechanical item-writing rules of CONTENT.md (Haladyna et al.) as a lint."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .yamlio import ContentError

if TYPE_CHECKING:
    from .schema import QuestionDoc

ALL_NONE = re.compile(
    r"\b(all|none|both|neither)( of)? (the )?(above|below|these)\b", re.I
)
# Matched case-insensitively; only an all-capitals NOT/EXCEPT counts as emphasised.
NEGATIVE = re.compile(r"\b(not|except|never|(?<!at )least)\b|\b\w+n['’]t\b", re.I)
DIRECTIVES = (
    "choose",
    "complete",
    "fill",
    "give",
    "identify",
    "match",
    "name",
    "pair",
    "pick",
    "select",
    "state",
    "type",
    "write",
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
# Rule 16: hedges make a statement safe to call true; absolutes make it easy to
# call false. Matched as whole words or phrases ("can" never matches "cannot").
TF_HEDGES = (
    "as well as",
    "can",
    "could",
    "may",
    "might",
    "often",
    "usually",
    "generally",
    "sometimes",
    "some",
    "tends",
    "tend",
)
TF_ABSOLUTES = (
    "no one",
    "always",
    "never",
    "only",
    "all",
    "none",
    "every",
    "entirely",
    "solely",
    "completely",
)
TF_CUE = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in TF_HEDGES + TF_ABSOLUTES) + r")\b", re.I
)
ESSAY_DEICTIC = re.compile(r"\b(the|this) essay\b", re.I)
# bloom-scenario: a prompt describes a scenario when it is long enough to set a
# scene and names a particular case: a scene word, or an indefinite actor ("a
# mission", "two countries", "a host government", "a town's water supply").
SCENARIO_MIN_WORDS = 15
SCENE_WORDS = re.compile(
    r"\b(suppose|supposing|imagine|scenario|scenarios|scene|scenes|situation"
    r"|situations)\b",
    re.I,
)
SCENE_ACTORS = re.compile(
    r"\b(a|an|one|two|three|four|five|several)\s+(?:[\w-]+\s+)?"
    r"(mission|missions|country|countries|government|governments|officer|officers"
    r"|planner|planners|commander|state|states|town|village|city|province|region"
    r"|district|unit|units|team|teams|battalion|contingent|force|forces|patrol"
    r"|peacekeeper|peacekeepers|engineers|troops|soldiers|ministry|minister|camp"
    r"|community|militia|effort|operation)\b",
    re.I,
)
# ... or the prompt says its options (or left-hand items) are the cases, and they
# read as descriptions rather than labels.
CASE_ITEMS = re.compile(
    r"\b(each|which|what)\s+(?:[\w-]+\s+)?(situation|scene|scenario|example|case"
    r"|deployment|development|activity|event|episode|policy|step|action|story)\b",
    re.I,
)
CASE_ITEM_MIN_WORDS = 5
SCENARIO_BLOOMS = ("apply", "analyze")
# Bank-level shares are noise on a handful of items.
BANK_MIN_ITEMS = 8
KEY_LONGEST_MAX_SHARE = 1 / 3
TF_BALANCE_MAX_GAP = 2


@dataclass(frozen=True)
class Finding:
    """A lint warning: an item-writing rule that a reviewer may accept with a reason."""

    path: str
    line: int | None
    ident: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        who = f" [{self.ident}]" if self.ident else ""
        return f"{where}:{who} warning {self.code}: {self.message}"


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def lint_question(q: QuestionDoc) -> tuple[list[ContentError], list[Finding]]:
    """Errors (rules that admit no exception) and warnings for one question."""
    errors: list[ContentError] = []
    warnings: list[Finding] = []

    def warn(code: str, message: str, line: int = 0) -> None:
        if code not in q.lint_ignore:
            warnings.append(Finding(q.path, line or q.line, q.id, code, message))

    def fail(message: str, line: int = 0) -> None:
        errors.append(ContentError(q.path, line or q.line, message, q.id))

    negative = next(
        (m for m in NEGATIVE.finditer(q.prompt) if not m.group(0).isupper()), None
    )
    if negative:
        fail(
            f"negative stem ({negative.group(0)!r}): rephrase positively, or write "
            "NOT/EXCEPT in capitals where it is unavoidable",
            q.prompt_line,
        )
    if q.type != "cloze":
        _lint_stem(q, warn)
    options = q.data.get("options") if q.type != "true_false" else None
    if options:
        texts = [o["text"] for o in options]
        for text in texts:
            if ALL_NONE.search(text):
                fail(
                    f"option {text!r}: no 'all/none of the above' options",
                    q.options_line,
                )
        folded = Counter(_fold(t) for t in texts)
        for text, count in folded.items():
            if count > 1:
                fail(f"duplicate option {text!r}", q.options_line)
        low, high = (3, 4) if q.type == "single_choice" else (3, 5)
        if not low <= len(options) <= high:
            warn(
                "option-count",
                f"{len(options)} options; {low} to {high} is enough, "
                "without weak padding",
                q.options_line,
            )
        if q.type == "single_choice":
            _lint_key_length(options, lambda c, m: warn(c, m, q.options_line))
        _lint_stem_key_overlap(q, warn)
    if q.type == "true_false":
        _lint_tf_cues(q, warn)
    if q.type == "matching":
        _lint_matching_size(q, warn)
    _lint_essay_reference(q, warn)
    _lint_bloom_scenario(q, warn)
    return errors, warnings


def _lint_stem(q: QuestionDoc, warn: object) -> None:
    prompt = q.prompt.rstrip()
    first = prompt.split(maxsplit=1)[0].strip(",:").casefold() if prompt else ""
    if prompt.endswith("?"):
        return
    statement = q.type == "true_false" and prompt.endswith(".")
    directive = first in DIRECTIVES and prompt.endswith((".", ":"))
    if not (statement or directive):
        warn(  # type: ignore[operator]
            "stem-incomplete",
            "the stem should be a complete question ending in '?', or a directive "
            "(Choose/Match/Name ...) ending in '.' or ':'",
            q.prompt_line,
        )


Warn = Callable[..., None]


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


def tf_cues(statement: str) -> tuple[list[str], list[str]]:
    """The hedges and the absolutes a true/false statement uses, in order."""
    hedges, absolutes = [], []
    for match in TF_CUE.finditer(statement):
        word = match.group(1).casefold()
        (hedges if word in TF_HEDGES else absolutes).append(word)
    return hedges, absolutes


def _tf_answer(q: QuestionDoc) -> bool:
    return next(o["correct"] for o in q.data["options"] if o["text"] == "True")


def _lint_tf_cues(q: QuestionDoc, warn: Warn) -> None:
    hedges, absolutes = tf_cues(q.prompt)
    if not (hedges or absolutes):
        return
    named = [f"hedge {w!r}" for w in hedges] + [f"absolute {w!r}" for w in absolutes]
    side = "TRUE" if _tf_answer(q) else "FALSE"
    warn(
        "tf-cue",
        f"this {side} statement uses {', '.join(named)}: test-wise learners read "
        "hedges as true and absolutes as false; balance such words across TRUE and "
        "FALSE statements (rule 16)",
        q.prompt_line,
    )


def _lint_matching_size(q: QuestionDoc, warn: Warn) -> None:
    pairs, spares = len(q.data["pairs"]), len(q.data.get("spares", []))
    if pairs >= 4 and spares:
        return
    problems = []
    if pairs < 4:
        problems.append(f"{pairs} pairs (at least 4)")
    if not spares:
        problems.append("no spare answer (add `spares:`)")
    warn(
        "matching-size",
        f"{' and '.join(problems)}: knowing all but one pair must not give the "
        "last (rule 17)",
        q.key_lines.get("pairs", q.line),
    )


def _lint_essay_reference(q: QuestionDoc, warn: Warn) -> None:
    essays = sorted({source.essay for source in q.sources})
    if len(essays) < 2:
        return
    for key, text in (("prompt", q.prompt), ("text", "".join(q.data.get("parts", [])))):
        match = ESSAY_DEICTIC.search(text)
        if match and key in q.key_lines:
            warn(
                "multi-essay-prompt",
                f"the {key} says {match.group(0)!r} but the item cites "
                f"{len(essays)} essays ({', '.join(essays)}); the question page "
                "names only its own essay: say 'the essays', or cite one",
                q.key_lines[key],
            )
            return


def describes_scenario(q: QuestionDoc) -> bool:
    """Whether the item sets a scene to apply or analyse (see content/README.md)."""
    prompt = q.prompt
    if q.type == "cloze":
        prompt = f"{prompt} {''.join(q.data['parts'])}"
    long_enough = len(prompt.split()) >= SCENARIO_MIN_WORDS
    if long_enough and (SCENE_WORDS.search(prompt) or SCENE_ACTORS.search(prompt)):
        return True
    if q.type in ("single_choice", "multiple_response"):
        items = [o["text"] for o in q.data["options"]]
    elif q.type == "matching":
        items = [p["left"] for p in q.data["pairs"]]
    else:
        return False
    words = sum(len(item.split()) for item in items) / len(items)
    return bool(CASE_ITEMS.search(prompt)) and words >= CASE_ITEM_MIN_WORDS


def _lint_bloom_scenario(q: QuestionDoc, warn: Warn) -> None:
    if q.bloom in SCENARIO_BLOOMS and not describes_scenario(q):
        warn(
            "bloom-scenario",
            f"bloom '{q.bloom}' needs a new situation to work on, and this item "
            "describes none: set a scene in the prompt (or make the options "
            "cases), or label it 'remember'/'understand' honestly",
            q.key_lines.get("bloom", q.line),
        )


def _lint_key_length(options: list[dict[str, object]], warn: object) -> None:
    keys = [len(str(o["text"])) for o in options if o["correct"]]
    others = [len(str(o["text"])) for o in options if not o["correct"]]
    if keys and others:
        mean = sum(others) / len(others)
        if keys[0] > 1.5 * mean:
            warn(  # type: ignore[operator]
                "key-longest",
                f"the key is {keys[0] / mean:.1f}x the mean distractor length "
                "(over 1.5x gives it away)",
            )


def lint_bank(
    questions: list[QuestionDoc], folder: str = "content/questions"
) -> list[Finding]:
    """Bank-wide rules: key positions and lengths, true/false cue balance.

    A question that names a bank-wide code in `lint_ignore` is left out of that
    rule's count.
    """
    findings = [
        _key_position(questions),
        _key_longest_share(questions),
        _tf_balance(questions),
    ]
    return [
        Finding(folder, None, None, code, message)
        for code, message in filter(None, findings)
    ]


def _key_position(questions: list[QuestionDoc]) -> tuple[str, str] | None:
    positions: Counter[int] = Counter()
    for q in questions:
        if q.type == "single_choice" and "key-position" not in q.lint_ignore:
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
    counted = [
        q
        for q in questions
        if q.type == "single_choice" and "key-longest-share" not in q.lint_ignore
    ]
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


def _tf_balance(questions: list[QuestionDoc]) -> tuple[str, str] | None:
    counts = {True: [0, 0], False: [0, 0]}  # answer -> [hedges, absolutes]
    for q in questions:
        if q.type == "true_false" and "tf-balance" not in q.lint_ignore:
            hedges, absolutes = tf_cues(q.prompt)
            counts[_tf_answer(q)][0] += len(hedges)
            counts[_tf_answer(q)][1] += len(absolutes)
    gaps = [abs(counts[True][k] - counts[False][k]) for k in (0, 1)]
    if max(gaps) <= TF_BALANCE_MAX_GAP:
        return None
    return (
        "tf-balance",
        f"hedges: {counts[True][0]} in TRUE statements, {counts[False][0]} in FALSE; "
        f"absolutes: {counts[True][1]} in TRUE, {counts[False][1]} in FALSE "
        f"(a gap over {TF_BALANCE_MAX_GAP} lets the wording give the answer away; "
        "rule 16)",
    )
