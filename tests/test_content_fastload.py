"""The fast paths of `flask content load` against the plain ones they replace.

Bulk writes against ORM objects: the same sequence of loads written both ways must
leave every row of every content table the same.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from quizapp.content import load_bank, read_bank
from quizapp.extensions import db
from quizapp.models import Question
from tests.synthetic import write_bank

# Columns left out of the comparison: clocks, and the ids of rows that are
# deleted and inserted again (a changed question's sources).
UNCOMPARED = {
    "question": {"updated_at"},
    "question_source": {"id"},
    "content_state": {"loaded_at"},
}
CONTENT_TABLES = (
    "essay",
    "passage",
    "tag",
    "question",
    "question_tag",
    "question_source",
    "quiz",
    "content_state",
)

Questions = dict[str, list[dict[str, Any]]]


def edit_questions(bank: Path, change: Callable[[Questions], None]) -> None:
    """Rewrite the bank's question files through `change` (essay slug -> items)."""
    files = sorted((bank / "questions").glob("*.yaml"))
    bodies = {path: yaml.safe_load(path.read_text("utf-8")) for path in files}
    items = {body["essay"]: body["questions"] for body in bodies.values()}
    change(items)
    for path, body in bodies.items():
        path.write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every content table, sorted, without the uncompared columns."""
    rows = {}
    with app.app_context():
        for name in CONTENT_TABLES:
            table = db.metadata.tables[name]
            columns = [c for c in table.c if c.name not in UNCOMPARED.get(name, ())]
            found = db.session.execute(select(*columns)).all()
            rows[name] = sorted((tuple(row) for row in found), key=repr)
    return rows


def stamps(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return dict(db.session.execute(select(Question.id, Question.updated_at)).all())


@pytest.fixture
def banks(tmp_path: Path) -> list[Path]:
    """A synthetic bank, the same bank edited every way a load meets, then it again."""
    first = write_bank(tmp_path / "first", 48)
    edited = tmp_path / "edited"
    shutil.copytree(first, edited)

    def edit(items: Questions) -> None:
        essays = list(items)
        one, two = items[essays[0]], items[essays[1]]
        one[0]["prompt"] += " (reworded)"  # changed
        one[1]["tags"] = ["topic-new", "topic-1"]  # a new tag, and another kept
        one[2]["source"].append(dict(two[0]["source"][0], essay=essays[1]))
        del one[3]  # retired
        one.insert(0, dict(one[4], id="q-added"))  # added first: the rest move
        two.reverse()  # reordered only

    edit_questions(edited, edit)
    essay = sorted((edited / "essays").glob("*.yaml"))[-1]
    body = yaml.safe_load(essay.read_text("utf-8"))
    body["title"] = "Renamed: " + body["title"]
    essay.write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")
    return [first, edited, first]


def load_all(app: Flask, banks: list[Path], bulk: bool) -> list[Any]:
    """Load each bank in turn; the tables and the update stamps after each load."""
    states = []
    with app.app_context():
        db.drop_all()
        db.create_all()
    for bank in banks:
        with app.app_context():
            content = read_bank(bank)
            assert content.ok, "\n".join(map(str, content.errors))
            report = load_bank(content, db.session, bulk=bulk)
            db.session.commit()
        states.append((str(report), report.essays_line(), snapshot(app), stamps(app)))
    return states


def test_bulk_load_writes_the_same_rows_as_the_orm_path(
    app: Flask, banks: list[Path]
) -> None:
    orm = load_all(app, banks, bulk=False)
    bulk = load_all(app, banks, bulk=True)

    assert [state[:3] for state in bulk] == [state[:3] for state in orm]
    added, updated, retired = (int(part.split()[0]) for part in orm[1][0].split(","))
    assert (added, retired) == (1, 1) and updated > 3  # the edits were all seen
    assert orm[1][1] == "Essays: 1 title or passage changed."
    for step in (1, 2):
        # The same questions got a new update stamp at each step.
        moved = [
            {
                qid
                for qid, stamp in run[step][3].items()
                if stamp != run[step - 1][3].get(qid)
            }
            for run in (orm, bulk)
        ]
        assert moved[0] == moved[1]
        assert moved[0]
