"""What a type's Anki mapping is made of: the note type record and field HTML.

Plain data and string functions; genanki is imported by quizapp/anki/builder.py
alone. Anki matches note types by id and compares their field and template names
(ANKI.md section 5): a note type's id, name and field list are frozen once
released, and a new field means a new note type with a new id and name.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# The end of every note type's back: explanation, accuracy note, sources, id.
COMMON_BACK = """\
{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}
{{#Accuracy note}}<div class="accuracy"><span class="label">Accuracy note</span>
{{Accuracy note}}</div>{{/Accuracy note}}
{{#Source}}<div class="source"><span class="label">Source</span>
{{Source}}</div>{{/Source}}
<div class="qid">{{Question ID}}</div>"""

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class NoteType:
    """One Anki note type: what genanki needs to write it, nothing else."""

    id: int
    name: str
    fields: tuple[str, ...]
    template: str
    front: str
    back: str
    # Anki's deletion kind ({{c1::...}} makes the cards) instead of front/back.
    deletions: bool = False


def text(value: str) -> str:
    """Plain text as field HTML: escaped, braces neutralised, newlines as <br>."""
    escaped = html.escape(value)
    # A field is not re-rendered as a template, but a deletion field is parsed for
    # "{{c1::"; entity braces keep authored text from ever becoming card syntax.
    if "{" in escaped or "}" in escaped:
        escaped = escaped.replace("{", "&#123;").replace("}", "&#125;")
    # Most fields are one line: the regex only where there is a line break.
    if "\n" in escaped or "\r" in escaped:
        return _NEWLINE.sub("<br>", escaped)
    return escaped


def deletion(number: int, answer: str) -> str:
    """Deletion number `number` hiding `answer` ({{cN::...}}), its text escaped."""
    # Inside a deletion "::" starts a hint and "}}" ends it; as entities they render
    # the same but are never read as deletion syntax.
    return f"{{{{c{number}::{text(answer).replace(':', '&#58;')}}}}}"
