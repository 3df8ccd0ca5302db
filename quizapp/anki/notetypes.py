"""The deck's note types, gathered from the question types, and the cards' CSS.

Each question type's module (quizapp/types/) defines its note types: ids, names,
frozen field lists and templates. Anki matches note types by id and compares their
field and template names: changing a field list (adding, renaming, moving one) forks
the note type in every learner's collection and stops their notes from updating, so
a new field means a new note type with a new id and name. Template text and CSS may
change, provided STYLE_REVISION moves forward, or Anki keeps the learner's old copy.
"""

from __future__ import annotations

from ..types import REGISTRY
from ..types.cards import COMMON_BACK, NoteType

__all__ = ["COMMON_BACK", "CSS", "NOTE_TYPES", "STYLE_REVISION", "NoteType"]

# Unix time of the last change to any template or the CSS below. Anki replaces a
# learner's note type only when this is newer than their copy's, so bump it (to the
# time of the change, never backwards) whenever TEMPLATES or CSS change.
STYLE_REVISION = 1796191200  # 2026-12-02

# Every type's note types, once each (three types share the choice note type),
# ordered by name so the list does not depend on the registry's order.
NOTE_TYPES: tuple[NoteType, ...] = tuple(
    sorted(
        {nt.id: nt for kind in REGISTRY.values() for nt in kind.note_types}.values(),
        key=lambda nt: nt.name,
    )
)

# Colours are custom properties so night mode swaps the palette in one place;
# Anki marks night mode with .nightMode (desktop, AnkiMobile) or .night_mode (older
# clients, AnkiDroid) on the root element, which may or may not be the .card itself.
_CSS_HEAD = """\
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
"""
_CSS_TAIL = """\
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
# One stylesheet for every note type (Anki keeps one per note type; they are the
# same here): the common rules, then each type's own, in the registry's order.
CSS = _CSS_HEAD + "".join(kind.card_css for kind in REGISTRY.values()) + _CSS_TAIL
