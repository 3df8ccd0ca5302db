"""Views: catalogue, builder, attempts (question, answer, finish, results), decks.

Each view loads, validates, calls one domain function, commits and renders or
redirects. The hot pages are assembled in pages.py and rendered by stencils.render.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import anki
from ..anki import DeckBuild, deck_filename
from ..anki.builder import DeckQuestion
from ..database import write_lock
from ..extensions import db
from ..models import Attempt, Essay, Quiz
from ..ratelimits import limit
from ..study.progress import paragraph_mastery
from . import attempts as ops
from . import catalogue as listing
from . import pages
from .cache import content_cache
from .forms import (
    BuilderForm,
    answer_fields,
    answer_form,
    answer_from,
    choices,
    empty_answer_message,
)
from .fragments import fields_html
from .learners import assign_learner_id, ensure_learner, learner_id
from .stencils import render, render_plain
from .urls import attempt_url

bp = Blueprint("quiz", __name__)

Page = str | tuple[str, int] | WerkzeugResponse


@bp.get("/")
def catalogue() -> str:
    """The quizzes with counts, modes and the learner's best scores; the essays."""
    number = request.args.get("page", 1, type=int)
    try:
        page, version = pages.catalogue_page(
            assign_learner_id(), number, generate_csrf()
        )
    except pages.PageOutOfRange as error:
        abort(404, _pages_message(error.pages))
    return render(page, version)


def _pages_message(count: int) -> str:
    there = "There is 1 page" if count == 1 else f"There are {count} pages"
    return f"{there} of quizzes. Go back to the first page."


@bp.post("/quizzes/<slug:slug>/start")
@limit("RATE_LIMIT_START", "start")
def start(slug: str) -> Page:
    """Start (or resume) an attempt of a quiz."""
    write_lock()
    quiz = db.first_or_404(select(Quiz).where(Quiz.slug == slug, ~Quiz.retired))
    attempt = ops.start_quiz(ensure_learner(), quiz)
    db.session.commit()
    return redirect(attempt_url(".attempt", attempt.id))


@bp.get("/build")
def builder() -> str:
    """Pick essays, topics, types and a count; practise a random draw."""
    return render_template("quiz/builder.html", form=_builder_form(None))


@bp.post("/build")
@limit("RATE_LIMIT_START", "start")
def build() -> Page:
    """Start a random draw from the builder's choices."""
    form = _builder_form(request.form)
    if not form.validate():
        return render_template("quiz/builder.html", form=form), 400
    write_lock()
    attempt = ops.start_custom(
        ensure_learner(),
        essays=form.essays.data or [],
        tags=form.tags.data or [],
        types=form.types.data or [],
        count=form.count.data,
        mode=form.mode.data,
    )
    if attempt is None:
        form.count.errors = ["No question matches these choices. Widen them."]
        return render_template("quiz/builder.html", form=form), 400
    db.session.commit()
    return redirect(attempt_url(".attempt", attempt.id))


def _builder_form(formdata: object) -> BuilderForm:
    form = BuilderForm(formdata=formdata, meta={"csrf": False})
    essays, tags = listing.builder_choices()
    form.essays.choices, form.tags.choices = choices(essays), choices(tags)
    return form


@bp.get("/attempts/<token:attempt_id>")
def attempt(attempt_id: str) -> WerkzeugResponse:
    """Resume: the first unanswered question, or the results when finished."""
    record = pages.read_attempt(attempt_id, learner_id()) or abort(404)
    if record.finished:
        return redirect(attempt_url(".results", attempt_id))
    for number, qid in enumerate(record.question_ids, start=1):
        if qid not in record.answers:
            return redirect(attempt_url(".question", attempt_id, number))
    return redirect(attempt_url(".finish", attempt_id))


@bp.get("/attempts/<token:attempt_id>/q/<int:number>")
def question(attempt_id: str, number: int) -> str:
    """One question of an attempt; once answered in practice, its feedback."""
    slot = pages.read_slot(attempt_id, learner_id(), number) or abort(404)
    return render(pages.question_page(slot, generate_csrf))


@bp.post("/attempts/<token:attempt_id>/q/<int:number>")
@limit("RATE_LIMIT_ANSWER", "answer")
def answer(attempt_id: str, number: int) -> Page:
    """Save (and in practice grade) the answer to one question."""
    slot = pages.read_slot(attempt_id, learner_id(), number) or abort(404)
    if slot.finished:
        raise ops.AttemptClosed(attempt_id)
    form = answer_form(slot.question, slot.order, request.form, meta={"csrf": False})
    given = answer_from(form, slot.question) if form.validate() else None
    seen = form.seen_version()
    if seen is None:
        form.form_errors.append(
            "This page is out of date. Reload the page and answer again."
        )
    elif given is None and not form.errors:
        form.form_errors.append(empty_answer_message(slot.question))
    if given is None or seen is None:
        return _refused_answer(slot, form), 400
    if ops.submit_answer(slot, given, seen):
        db.session.commit()
    return redirect(_after_answer(slot))


def _after_answer(slot: pages.Slot) -> str:
    # Practice shows the feedback; an exam moves on (to finish after the last).
    if slot.mode == "practice":
        return attempt_url(".question", slot.attempt_id, slot.number)
    if slot.number == slot.total:
        return attempt_url(".finish", slot.attempt_id)
    return attempt_url(".question", slot.attempt_id, slot.number + 1)


def _refused_answer(slot: pages.Slot, form: object, csrf_expired: bool = False) -> str:
    # Rendered once, directly: a page with errors is rare and carries the form.
    page = pages.question_page(
        slot, generate_csrf, fields_html(slot.question, slot.order, form)
    )  # type: ignore[arg-type]
    return render_plain(
        page,
        form=form,
        fields=answer_fields(form),
        csrf_expired=csrf_expired,  # type: ignore[arg-type]
    )


@bp.app_errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    """An expired or missing CSRF token: the answer is shown again, kept, to resend."""
    if request.endpoint == "quiz.answer" and request.view_args:
        slot = pages.read_slot(
            request.view_args["attempt_id"], learner_id(), request.view_args["number"]
        )
        if slot is not None and not slot.finished:
            form = answer_form(
                slot.question, slot.order, request.form, meta={"csrf": False}
            )
            form.validate()
            return _refused_answer(slot, form, csrf_expired=True), 400
    message = "This form expired. Reload the page and try again."
    return render_template(
        "errors.html", code=400, name="Not saved", message=message
    ), 400


@bp.app_errorhandler(ops.AnswerRefused)
def answer_refused(error: ops.AnswerRefused) -> tuple[str, int]:
    """An answer that cannot be stored (attempt closed, page out of date): 409."""
    db.session.rollback()
    page = render_template(
        "errors.html",
        code=409,
        name="Not saved",
        message=error.message,
        attempt_url=attempt_url(".attempt", error.attempt_id),
    )
    return page, 409


@bp.app_errorhandler(ops.AttemptGone)
def attempt_gone(_error: ops.AttemptGone) -> tuple[str, int]:
    """The attempt vanished while the answer waited for the lock."""
    db.session.rollback()
    return render_template(
        "errors.html", code=404, name="Not found", message=MISSING
    ), 404


MISSING = "There is nothing here. It may have been moved, or the address is mistyped."


@bp.get("/attempts/<token:attempt_id>/finish")
def finish(attempt_id: str) -> Page:
    """Review what is unanswered before closing the attempt."""
    record = pages.read_attempt(attempt_id, learner_id()) or abort(404)
    if record.finished:
        return redirect(attempt_url(".results", attempt_id))
    return render_plain(pages.finish_page(record, generate_csrf()))


@bp.post("/attempts/<token:attempt_id>/finish")
@limit("RATE_LIMIT_WRITE", "write")
def close(attempt_id: str) -> WerkzeugResponse:
    """Close the attempt; finishing twice is harmless."""
    write_lock()
    ops.finish_attempt(_own_attempt(attempt_id))
    db.session.commit()
    return redirect(attempt_url(".results", attempt_id))


def _own_attempt(attempt_id: str) -> Attempt:
    found = ops.load_attempt(attempt_id, learner_id(), lock=True)
    return found if found is not None else abort(404)


@bp.get("/attempts/<token:attempt_id>/results")
def results(attempt_id: str) -> Page:
    """Score, time taken and the review of every question."""
    record = pages.read_attempt(attempt_id, learner_id()) or abort(404)
    if not record.finished:
        return redirect(attempt_url(".finish", attempt_id))
    return render(pages.results_page(record, generate_csrf()))


@bp.post("/attempts/<token:attempt_id>/retry")
@limit("RATE_LIMIT_START", "start")
def retry(attempt_id: str) -> WerkzeugResponse:
    """A new practice attempt of the questions missed in a finished one."""
    write_lock()
    attempt = _own_attempt(attempt_id)
    if not attempt.finished:
        abort(409, "Finish this attempt first; then you can retry what you missed.")
    again = ops.retry_missed(ensure_learner(), attempt)
    if again is None:
        abort(409, "You missed nothing in this attempt: there is nothing to retry.")
    db.session.commit()
    return redirect(attempt_url(".attempt", again.id))


@bp.get("/essays/<slug:slug>")
def essay(slug: str) -> str:
    """An essay, passage by passage, each listing the questions drawn from it."""
    essay = db.first_or_404(select(Essay).where(Essay.slug == slug))
    return render_template(
        "quiz/essay.html",
        essay=essay,
        cited=listing.questions_by_passage(essay),
        mastery=paragraph_mastery(learner_id(), slug),
        highlight=request.args.get("from", ""),
    )


def deck_download(
    key: tuple[str, ...], load: Callable[[], list[DeckQuestion]], label: str
) -> Response:
    """Send the deck named by `key`, built once per content version; 304 when current.

    `load` is called only on a cache miss: a cached whole-bank deck costs one query
    (the content version), not the loading of every question.
    """
    version = pages.content_version()
    deck = content_cache().get(
        version, ("deck", *key), lambda: _build(load), weight=_deck_weight
    )
    if deck is None:
        abort(404, "There are no questions to put in this deck.")
    response = Response(deck.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{deck_filename(label)}"'
    )
    response.set_etag(f"{version}:{'/'.join(key)}")
    return response.make_conditional(request)


def _build(load: Callable[[], list[DeckQuestion]]) -> DeckBuild | None:
    questions = load()
    return anki.build_deck(questions) if questions else None


def _deck_weight(deck: DeckBuild | None) -> int:
    return len(deck.data) if deck is not None else 1


@bp.get("/decks/bank.apkg")
@limit("RATE_LIMIT_DECKS", "decks")
def deck_bank() -> Response:
    """The whole bank as an Anki deck."""
    return deck_download(("bank",), listing.deck_questions, "peacekeeping-bank")


DECK_KINDS = {"essays": "essay", "quizzes": "quiz"}


@bp.get("/decks/<any(essays, quizzes):kind>/<slug:slug>.apkg")
@limit("RATE_LIMIT_DECKS", "decks")
def deck(kind: str, slug: str) -> Response:
    """One essay's or one quiz's questions as an Anki deck."""
    if kind == "essays":
        db.first_or_404(select(Essay.id).where(Essay.slug == slug))
    else:
        db.first_or_404(select(Quiz.id).where(Quiz.slug == slug, ~Quiz.retired))
    return deck_download(
        (kind, slug),
        lambda: listing.deck_questions(**{DECK_KINDS[kind]: slug}),
        f"peacekeeping-{slug}",
    )


@bp.get("/attempts/<token:attempt_id>/missed.apkg")
@limit("RATE_LIMIT_DECKS", "decks")
def deck_missed(attempt_id: str) -> Response:
    """The questions missed in a finished attempt, as an Anki deck."""
    record = pages.read_attempt(attempt_id, learner_id()) or abort(404)
    if not record.finished:
        abort(409, "Finish this attempt first; then you can download what you missed.")
    scores = {qid: score for qid, (_, score) in record.answers.items()}
    missed = pages.missed_among(record.question_ids, scores)
    return deck_download(
        ("missed", *missed),
        lambda: listing.deck_questions(ids=missed),
        "peacekeeping-missed",
    )
