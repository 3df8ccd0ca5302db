"""Attempt lifecycle: start (draw and shuffle once), answer, finish, retry missed.

Functions here add and flush; the view that calls them owns the commit.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..database import write_lock
from ..extensions import db
from ..grading import Verdict, grade
from ..models import Attempt, Learner, Question, Quiz, Response, new_token, utcnow
from ..questions import question_query, quiz_questions
from ..study.queue import record_quiz_review
from ..types import REGISTRY
from .pages import missed_among

if TYPE_CHECKING:
    from .fragments import QuestionView
    from .pages import Slot

_rng = random.SystemRandom()


class AnswerRefused(Exception):
    """An answer that is not stored: the page shows `message` with a 409."""

    message = "This page is out of date. Reload it to see the latest state."

    def __init__(self, attempt_id: str) -> None:
        """Name the attempt, so the page can link back to it."""
        super().__init__(attempt_id)
        self.attempt_id = attempt_id


class AttemptClosed(AnswerRefused):
    """The attempt is finished; no answer is accepted any more."""

    message = "This attempt is finished, so answers are closed. Your results are saved."


class StaleAnswer(AnswerRefused):
    """The page was out of date: the answer changed since it was shown."""

    message = (
        "This question was answered in another tab or from an older page, and "
        "that answer is kept. Reload the question to see it."
    )


def layout_for(questions: list[Question]) -> list[dict[str, Any]]:
    """Fix the order of questions and of each question's options for an attempt."""
    return [
        {
            "question": question.id,
            "order": REGISTRY[question.type].option_order(question.data, _rng),
        }
        for question in questions
    ]


def start_attempt(
    learner: Learner,
    questions: list[Question],
    *,
    title: str,
    mode: str,
    quiz: Quiz | None = None,
    count: int | None = None,
) -> Attempt:
    """Draw `count` of `questions` at random (all if None), shuffle, and store."""
    drawn = list(questions)
    _rng.shuffle(drawn)
    if count is not None:
        drawn = drawn[:count]
    attempt = Attempt(
        id=new_token(),
        learner_id=learner.id,
        quiz=quiz,
        title=title,
        mode=mode,
        layout=layout_for(drawn),
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def start_quiz(learner: Learner, quiz: Quiz) -> Attempt:
    """Resume the learner's unfinished attempt of this quiz, or start a new one."""
    current = db.session.scalar(
        select(Attempt)
        .where(
            Attempt.learner_id == learner.id,
            Attempt.quiz_id == quiz.id,
            Attempt.finished_at.is_(None),
        )
        .order_by(Attempt.started_at.desc())
    )
    if current is not None:
        return current
    return start_attempt(
        learner,
        quiz_questions(quiz),
        title=quiz.title,
        mode=quiz.mode,
        quiz=quiz,
        count=quiz.count,
    )


def start_custom(
    learner: Learner,
    *,
    essays: list[str],
    tags: list[str],
    types: list[str],
    count: int,
    mode: str,
) -> Attempt | None:
    """A random draw from the quiz builder's filters; None when nothing matches."""
    questions = list(
        db.session.scalars(question_query(essays=essays, tags=tags, types=types))
    )
    if not questions:
        return None
    title = "Custom practice" if mode == "practice" else "Custom exam"
    return start_attempt(learner, questions, title=title, mode=mode, count=count)


def retry_missed(learner: Learner, attempt: Attempt) -> Attempt | None:
    """A new practice attempt of the questions scored below full marks (or skipped)."""
    missed = missed_question_ids(attempt)
    if not missed:
        return None
    questions = list(
        db.session.scalars(select(Question).where(Question.id.in_(missed)))
    )
    order = {qid: i for i, qid in enumerate(missed)}
    questions.sort(key=lambda q: order[q.id])
    return start_attempt(
        learner, questions, title=f"Retry: {attempt.title}", mode="practice"
    )


def missed_question_ids(attempt: Attempt) -> list[str]:
    """Questions of a finished attempt without full marks, in attempt order."""
    scores = {r.question_id: r.score for r in attempt.responses}
    return missed_among(attempt.question_ids, scores)


def lock_slot(
    attempt_id: str, learner_id: str | None, question_id: str
) -> tuple[Attempt, Response | None] | None:
    """The learner's attempt, row-locked, then the response to one question.

    The attempt row is locked until commit (SELECT ... FOR UPDATE on PostgreSQL;
    SQLite's write lock is already held), so an answer and a finish, or two copies
    of one answer, for the same attempt run one after the other. The response is
    read by a second statement, after the lock: on PostgreSQL a statement sees
    what was committed when it began, and a joined read would miss the response a
    concurrent answer committed while this one waited. None for anyone else's.
    """
    if not learner_id:
        return None
    attempt = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt_id, Attempt.learner_id == learner_id)
        .with_for_update()
    )
    if attempt is None:
        return None
    response = db.session.scalar(
        select(Response).where(
            Response.attempt_id == attempt_id, Response.question_id == question_id
        )
    )
    return attempt, response


class AttemptGone(LookupError):
    """The attempt vanished between the read and the lock."""


def submit_answer(slot: Slot, answer: dict[str, Any], seen_version: int) -> bool:
    """Store `answer` to the slot's question: True when there is a write to commit.

    The slot was read without a lock. A replay of the stored answer (a double click,
    a resubmission) is answered from that read alone (False); anything else takes
    the write lock, reads the attempt and the response again under it, and is
    graded and stored there. Raises AttemptClosed or StaleAnswer when it cannot be
    stored, AttemptGone when the attempt is no longer there.
    """
    if slot.finished:
        raise AttemptClosed(slot.attempt_id)
    stored = slot.stored
    if stored is not None and stored.answer == answer:
        return False
    # Graded before the lock: the question is content, not state, so the locked
    # transaction only re-reads the attempt and response and writes one row.
    verdict = grade(slot.question.type, slot.question.data, answer)
    write_lock()
    locked = lock_slot(slot.attempt_id, slot.learner_id, slot.question.id)
    if locked is None:
        raise AttemptGone(slot.attempt_id)
    save_answer(
        *locked, slot.question, slot.number - 1, answer, seen_version, verdict=verdict
    )
    return True


def save_answer(
    attempt: Attempt,
    response: Response | None,
    question: QuestionView,
    position: int,
    answer: dict[str, Any],
    seen_version: int,
    verdict: Verdict | None = None,
) -> tuple[Response, Verdict]:
    """Grade and store an answer, idempotently, refusing stale or late ones.

    `response` is the one already stored for this question (None: none yet), read
    under the attempt's lock. `seen_version` is the response version the learner's
    page showed (0: none yet). Re-posting the stored answer is a no-op. `verdict`
    is the answer's grade when the caller graded it before taking the lock.
    """
    if attempt.finished:
        raise AttemptClosed(attempt.id)
    if verdict is None:
        verdict = grade(question.type, question.data, answer)
    if response is None:
        if seen_version != 0:
            raise StaleAnswer(attempt.id)
        response = Response(
            attempt_id=attempt.id,
            question_id=question.id,
            position=position,
            answer=answer,
            score=verdict.score,
            version=1,
        )
        db.session.add(response)
        if attempt.mode == "practice":
            # Practice answers are final: the first one moves the study schedule.
            record_quiz_review(
                attempt.learner_id, question.id, verdict.score, "practice", utcnow()
            )
    elif response.answer == answer:
        return response, verdict
    elif attempt.mode == "practice" or seen_version != response.version:
        # Practice answers are final once feedback was shown; in an exam a page
        # older than the stored answer must not silently overwrite it.
        raise StaleAnswer(attempt.id)
    else:
        response.answer = answer
        response.score = verdict.score
        response.version += 1
        response.answered_at = utcnow()
    db.session.flush()
    return response, verdict


def finish_attempt(attempt: Attempt) -> None:
    """Close the attempt and compute its score; finishing twice changes nothing."""
    if attempt.finished:
        return
    total = sum(r.score for r in attempt.responses)
    attempt.score = round(total / len(attempt.layout), 4) if attempt.layout else 0.0
    attempt.finished_at = utcnow()
    if attempt.mode == "exam":
        # An exam's answers count as reviews once they are final, at finish.
        for response in attempt.responses:
            record_quiz_review(
                attempt.learner_id,
                response.question_id,
                response.score,
                "exam",
                attempt.finished_at,
            )
    db.session.flush()


def load_attempt(
    attempt_id: str, learner_id: str | None, lock: bool = False
) -> Attempt | None:
    """The learner's own attempt with its responses; None for anyone else's.

    With `lock`, the attempt row is locked until commit, so an answer and a finish
    (or two copies of one answer) for the same attempt run one after the other.
    """
    if not learner_id:
        return None
    query = (
        select(Attempt)
        .where(Attempt.id == attempt_id, Attempt.learner_id == learner_id)
        .options(selectinload(Attempt.responses))
    )
    if lock:
        query = query.with_for_update(of=Attempt)
    return db.session.scalar(query)
