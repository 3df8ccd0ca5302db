"""The deck's note types as plain data: ids, names, frozen field lists, templates, CSS.

Anki matches note types by id and compares their field and template names: changing a
field list (adding, renaming, reordering) forks the note type in every learner's
collection and stops their notes from updating. So the field lists below are frozen;
a new field means a new note type with a new id and name. Template text and CSS may
change, provided STYLE_REVISION moves forward, or Anki keeps the learner's old copy.
"""

from __future__ import annotations

from dataclasses import dataclass

# Unix time of the last change to any template or the CSS below. Anki replaces a
# learner's note type only when this is newer than their copy's, so bump it (to the
# time of the change, never backwards) whenever TEMPLATES or CSS change.
STYLE_REVISION = 1796191200  # 2026-12-02

COMMON_BACK = """\
{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}
{{#Accuracy note}}<div class="accuracy"><span class="label">Accuracy note</span>
{{Accuracy note}}</div>{{/Accuracy note}}
{{#Source}}<div class="source"><span class="label">Source</span>
{{Source}}</div>{{/Source}}
<div class="qid">{{Question ID}}</div>"""


@dataclass(frozen=True)
class NoteType:
    """One Anki note type: what genanki needs to write it, nothing else."""

    id: int
    name: str
    fields: tuple[str, ...]
    template: str
    front: str
    back: str
    cloze: bool = False


CHOICE = NoteType(
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
    + COMMON_BACK,
)

CLOZE = NoteType(
    id=1122507442,
    name="Peacekeeping: fill in the blank",
    fields=(
        "Text",
        "Prompt",
        "Accepted answers",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Blank",
    front="""\
<div class="instruction">{{Prompt}}</div>
<div class="question">{{cloze:Text}}</div>""",
    back="""\
<div class="instruction">{{Prompt}}</div>
<div class="question">{{cloze:Text}}</div>
<hr id="answer">
{{#Accepted answers}}<div class="accepted"><span class="label">Accepted answers</span>
{{Accepted answers}}</div>{{/Accepted answers}}
"""
    + COMMON_BACK,
    cloze=True,
)

MATCHING = NoteType(
    id=1138824049,
    name="Peacekeeping: matching pair",
    fields=(
        "Pairs",
        "Prompt",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Pair",
    front="""\
<div class="instruction">{{Prompt}}</div>
{{cloze:Pairs}}""",
    back="""\
<div class="instruction">{{Prompt}}</div>
{{cloze:Pairs}}
<hr id="answer">
"""
    + COMMON_BACK,
    cloze=True,
)

SHORT_ANSWER = NoteType(
    id=1556358264,
    name="Peacekeeping: typed answer",
    fields=(
        "Question",
        "Answer",
        "Accepted answers",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Typed",
    front="""\
<div class="instruction">Type the answer.</div>
<div class="question">{{Question}}</div>
{{type:Answer}}""",
    # The type-in box must appear on the back too: FrontSide carries it, and Anki
    # turns it into the comparison of what was typed against the answer.
    back="""\
{{FrontSide}}
<hr id="answer">
<div class="accepted"><span class="label">Accepted answers</span>
{{Accepted answers}}</div>
"""
    + COMMON_BACK,
)

NOTE_TYPES = (CHOICE, CLOZE, MATCHING, SHORT_ANSWER)

# Colours are custom properties so night mode swaps the palette in one place;
# Anki marks night mode with .nightMode (desktop, AnkiMobile) or .night_mode (older
# clients, AnkiDroid) on the root element, which may or may not be the .card itself.
CSS = """\
.card {
  --fg: #1f2328;
  --bg: #fbfbf8;
  --muted: #57606a;
  --rule: #d0d7de;
  --accent: #0b5cad;
  --key: #176f2c;
  --key-bg: #e6f4ea;
  --panel: #f1f3f5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  font-size: 20px;
  line-height: 1.5;
  color: var(--fg);
  background-color: var(--bg);
  text-align: left;
  margin: 0 auto;
  max-width: 40em;
  padding: 0.75em;
  overflow-wrap: anywhere;
}
.card.nightMode, .card.night_mode, .nightMode .card, .night_mode .card {
  --fg: #e6edf3;
  --bg: #1c2128;
  --muted: #9aa5b1;
  --rule: #444c56;
  --accent: #6cb6ff;
  --key: #7ee2a0;
  --key-bg: #1f3a2a;
  --panel: #2d333b;
}
.instruction { color: var(--muted); font-size: 0.8em; margin-bottom: 0.3em; }
.question { font-weight: 600; margin-bottom: 0.6em; }
ul.options { list-style: none; padding: 0; margin: 0.4em 0; }
ul.options li {
  margin: 0.3em 0;
  padding: 0.35em 0.5em;
  border: 1px solid var(--rule);
  border-radius: 6px;
}
ul.options li.correct { border-color: var(--key); background-color: var(--key-bg); }
.letter { font-weight: 700; margin-right: 0.4em; }
.mark { font-weight: 700; margin-left: 0.4em; white-space: nowrap; }
li.correct .mark { color: var(--key); }
li.incorrect .mark { color: var(--muted); }
.feedback { color: var(--muted); font-size: 0.85em; margin-top: 0.2em; }
.key { margin: 0.5em 0; }
.cloze { font-weight: 700; color: var(--accent); }
table.pairs { border-collapse: collapse; width: 100%; }
table.pairs td { padding: 0.35em 0.5em; border-bottom: 1px solid var(--rule); }
table.pairs td.arrow { color: var(--muted); width: 1.5em; text-align: center; }
.spares { margin: 0.6em 0; }
.spares ul { margin: 0.2em 0; padding-left: 1.2em; }
.label {
  display: block;
  color: var(--muted);
  font-size: 0.75em;
  text-transform: uppercase;
  letter-spacing: 0.05em;
}
.explanation, .accuracy, .source, .accepted { margin: 0.7em 0; }
.accuracy {
  background-color: var(--panel);
  border-left: 4px solid var(--accent);
  padding: 0.4em 0.6em;
}
.source blockquote {
  margin: 0.3em 0;
  padding-left: 0.7em;
  border-left: 3px solid var(--rule);
  font-style: italic;
}
.source .cite { color: var(--muted); font-size: 0.85em; }
.qid { color: var(--muted); font-size: 0.7em; margin-top: 1.2em; }
hr#answer { border: 0; border-top: 1px solid var(--rule); margin: 0.8em 0; }
@media (max-width: 480px) {
  .card { font-size: 18px; padding: 0.5em; }
}
"""
