"""Turn a Markdown-flavoured essay into an essay file: title and anchored passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


@dataclass(frozen=True)
class SplitEssay:
    """An essay's title and its paragraphs, each with the `##` section it sits in."""

    title: str
    paragraphs: list[tuple[str | None, str]]


def split_essay(text: str) -> SplitEssay:
    """Split essay text into a title and (section, paragraph) pairs, words untouched."""
    title = ""
    section: str | None = None
    paragraphs: list[tuple[str | None, str]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        block = block.strip()
        if not block:
            continue
        heading = HEADING.match(block)
        if heading and "\n" not in block:
            if len(heading.group(1)) == 1 and not title:
                title = heading.group(2)
            else:
                section = heading.group(2)
            continue
        paragraphs.append((section, block))
    return SplitEssay(title=title, paragraphs=paragraphs)


def essay_yaml(slug: str, text: str, source_name: str = "") -> str:
    """Render essay text as the YAML essay file content/essays/<slug>.yaml holds."""
    essay = split_essay(text)
    passages = []
    for number, (section, paragraph) in enumerate(essay.paragraphs, start=1):
        passage: dict[str, str] = {"anchor": f"p-{number}"}
        if section:
            passage["section"] = section
        passage["text"] = paragraph
        passages.append(passage)
    header = "# The essay's wording is kept exactly as supplied"
    if source_name:
        header += f" ({source_name})"
    body = yaml.dump(
        {"slug": slug, "title": essay.title, "passages": passages},
        Dumper=_LiteralDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
    )
    return f"{header}.\n# Anchors are stable: never renumber them.\n{body}"


class _LiteralDumper(yaml.SafeDumper):
    """Dumps long text as plain one-line scalars so diffs stay one line per passage."""
