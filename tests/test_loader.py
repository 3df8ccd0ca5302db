"""Loading behaviour beyond validation: what counts as a change."""

import shutil

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Question
from tests.conftest import FIXTURE_CONTENT, load_content


def test_renaming_an_essay_refreshes_the_questions_that_cite_it(app, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    load_content(app, content)
    with app.app_context():
        before = {
            qid: t
            for qid, t in db.session.execute(select(Question.id, Question.updated_at))
        }
    essay = content / "essays" / "cooperation-peacekeeping-missions.yaml"
    text = essay.read_text(encoding="utf-8")
    essay.write_text(
        text.replace("title: 'International Cooperation:", "title: 'Renamed:"),
        encoding="utf-8",
    )
    load_content(app, content)
    with app.app_context():
        after = {
            qid: t
            for qid, t in db.session.execute(select(Question.id, Question.updated_at))
        }
    assert before.keys() == after.keys()
    assert all(after[qid] > before[qid] for qid in before)
