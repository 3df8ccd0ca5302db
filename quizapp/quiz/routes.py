"""Views: catalogue, builder, attempts (question, finish, results), essays, decks."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from ..anki import DeckBuild
from ..database import read_first, start_writing
from ..extensions import db, limiter
from ..models import Attempt, Essay, Learner, Question, Quiz
from ..security import csrf_token
from . import attempts as ops
from . import catalogue as listing
from . import fragments, lookups, stencils
from .forms import (
    ActionForm,
    AnswerForm,
    BuilderForm,
    answer_fields,
    answer_form,
    answer_from,
    choices,
)

bp = Blueprint("quiz", __name__)

Page = str | tuple[str, int] | WerkzeugResponse


@bp.before_request
def _forms_only() -> None:
    # Every POST here comes from one of our HTML forms; anything else (JSON, ...)
    # is refused before a form library tries to read it.
    mimetype = request.mimetype
    if request.method == "POST" and mimetype and mimetype not in FORM_TYPES:
        abort(415, "Send answers from the quiz page's form.")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _learner_id() -> str | None:
    value = session.get("learner")
    return value if isinstance(value, str) else None


def _ensure_learner() -> Learner:
    learner = ops.get_or_create_learner(_learner_id())
    session["learner"] = learner.id
    session.permanent = True
    return learner


def _own_attempt(attempt_id: str) -> Attempt:
    writing = request.method == "POST"
    attempt = ops.load_attempt(attempt_id, _learner_id(), lock=writing)
    if attempt is None:
        abort(404)
    return attempt


ANSWERS_CLOSED = (
    "This attempt is finished, so answers are closed. Your results are saved."
)


def _refuse(message: str, code: int, attempt: Attempt | None = None) -> tuple[str, int]:
    return render_template(
        "errors.html", code=code, name="Not saved", message=message, attempt=attempt
    ), code


@bp.get("/")
def catalogue() -> str:
    """The quizzes with counts, modes and the learner's best scores; the essays."""
    if _learner_id() is None:
        # An id before any row exists: a first-visit double click on "Start" then
        # names one learner, not two (the row is created on the first write).
        session["learner"] = secrets.token_urlsafe(16)
        session.permanent = True
    record = lookups.learner_record(_learner_id())
    listed = fragments.listing(record.content_version)
    size = current_app.config["CATALOGUE_PAGE_SIZE"]
    pages = max(1, -(-len(listed.cards) // size))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= pages:
        abort(404, f"There are {pages} pages of quizzes. Go back to the first page.")
    cards = listed.cards[(page - 1) * size : page * size]
    values: dict[str, Any] = {"csrf": csrf_token()}
    for index, card in enumerate(cards):
        best = record.best.get(card.id)
        values[f"best{index}"] = "not taken yet" if best is None else f"{best:.0%}"
        values[f"action{index}"] = "Resume" if card.id in record.resume else "Start"

    def baked() -> dict[str, Any]:
        return {
            "cards": cards,
            "essays": listed.essays,
            "pages": pages,
            "best": [stencils.hole(f"best{i}") for i in range(len(cards))],
            "actions": [stencils.hole(f"action{i}") for i in range(len(cards))],
        }

    flags = {"page": page}
    return stencils.render(
        "quiz/catalogue.html", flags, values, record.content_version, baked
    )


def _start_limit() -> str:
    return str(current_app.config["RATE_LIMIT_START"])


def _deck_limit() -> str:
    return str(current_app.config["RATE_LIMIT_DECKS"])


@bp.post("/quizzes/<slug:slug>/start")
@limiter.shared_limit(_start_limit, scope="start")
def start(slug: str) -> Page:
    """Start (or resume) an attempt of a quiz."""
    quiz = db.first_or_404(select(Quiz).where(Quiz.slug == slug, ~Quiz.retired))
    if not ActionForm(formdata=request.form).validate_on_submit():
        abort(400, "This form expired. Go back to the quiz list and start again.")
    learner = _ensure_learner()
    target = url_for(".attempt", attempt_id=ops.start_quiz(learner, quiz).id)
    db.session.commit()
    return redirect(target)


@bp.route("/build", methods=["GET", "POST"])
@limiter.shared_limit(_start_limit, scope="start", methods=["POST"])
def builder() -> Page:
    """Pick essays, topics, types and a count; practise a random draw."""
    form = BuilderForm(formdata=request.form if request.method == "POST" else None)
    essays, tags = listing.builder_choices()
    form.essays.choices, form.tags.choices = choices(essays), choices(tags)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("quiz/builder.html", form=form), status
    learner = _ensure_learner()
    attempt = ops.start_custom(
        learner,
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
    return redirect(url_for(".attempt", attempt_id=attempt.id))


@bp.get("/attempts/<token:attempt_id>")
def attempt(attempt_id: str) -> WerkzeugResponse:
    """Resume: the first unanswered question, or the results when finished."""
    attempt = _own_attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for(".results", attempt_id=attempt.id))
    answered = {r.question_id for r in attempt.responses}
    for number, qid in enumerate(attempt.question_ids, start=1):
        if qid not in answered:
            return redirect(url_for(".question", attempt_id=attempt.id, number=number))
    return redirect(url_for(".finish", attempt_id=attempt.id))


@bp.route("/attempts/<token:attempt_id>/q/<int:number>", methods=["GET", "POST"])
def question(attempt_id: str, number: int) -> Page:
    """One question of an attempt; POST saves (and in practice grades) the answer.

    The page's rows come from one statement (lookups.slot); the question and its
    empty fields from the content cache. A post reads first and takes the write
    lock only when there is something to store: a repeated post of the stored
    answer (a double click, a replay) is answered from the read alone.
    """
    if request.method == "POST":
        read_first()
    found = lookups.slot(attempt_id, _learner_id(), number)
    if found is None:
        abort(404)
    attempt, version, slot = found.attempt, found.content_version, found.slot
    view = fragments.question(version, slot["question"])
    if view is None:
        abort(404)
    stored = found.response
    if stored is not None and stored.question_id != view.id:
        stored = None  # a stored position never names another question
    if request.method != "POST":
        return _question_page(found, number, slot, view, stored)
    if attempt.finished:
        return _refuse(ANSWERS_CLOSED, 409, attempt)
    form = answer_form(view, slot["order"], formdata=request.form)
    valid = form.validate()
    answer = answer_from(form, view) if valid else None
    seen = form.seen_version()
    if seen is None:
        form.form_errors.append(
            "This page is out of date. Reload the page and answer again."
        )
    elif valid and answer is None:
        form.form_errors.append("Fill in at least one blank.")
    if answer is None or seen is None:
        return _question_page(found, number, slot, view, stored, form, 400)
    if stored is None or stored.answer != answer:
        start_writing()
        locked = ops.lock_slot(attempt_id, _learner_id(), view.id)
        if locked is None:
            abort(404)
        try:
            ops.save_answer(*locked, view, number - 1, answer, seen)
        except ops.AttemptClosed:  # finished between the read and the lock
            db.session.rollback()
            return _refuse(ANSWERS_CLOSED, 409, attempt)
        except ops.StaleAnswer:
            db.session.rollback()
            return _refuse(
                "This question was answered in another tab or from an older page, and "
                "that answer is kept. Reload the question to see it.",
                409,
                attempt,
            )
        db.session.commit()
    if attempt.mode == "practice":
        target = _question_url(attempt_id, number)
    elif number == found.total:
        target = attempt_url(".finish", attempt_id)
    else:
        target = _question_url(attempt_id, number + 1)
    return redirect(target)


def _question_page(
    found: lookups.SlotLookup,
    number: int,
    slot: dict[str, Any],
    view: fragments.QuestionView,
    stored: lookups.StoredAnswer | None,
    form: AnswerForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    attempt, version, order = found.attempt, found.content_version, slot["order"]
    total, finished = found.total, attempt.finished
    revealed = finished or (attempt.mode == "practice" and stored is not None)
    exam_running = attempt.mode == "exam" and not finished
    values: dict[str, Any] = {
        "title": attempt.title,
        "number": number,
        "total": total,
        "answered": found.answered,
        "started": attempt.started_at.isoformat() if exam_running else None,
        "question_type": view.type,
        "prev_url": _question_url(attempt.id, number - 1) if number > 1 else None,
        "next_url": _question_url(attempt.id, number + 1) if number < total else None,
        "finish_url": None if finished else attempt_url(".finish", attempt.id),
        "results_url": attempt_url(".results", attempt.id) if finished else None,
    }
    if revealed:
        answer = stored.answer if stored is not None else None
        values["feedback"] = fragments.revealed_html(version, view, order, answer)
    else:
        values["csrf"] = csrf_token()
        values["version"] = stored.version if stored is not None else 0
        if form is None and stored is None:
            values["fields_html"] = fragments.answer_fields_html(version, view, order)
        else:
            shown = form or answer_form(
                view,
                order,
                stored=stored.answer if stored else None,
                meta={"csrf": False},
            )
            values["fields_html"] = fragments.fields_html(view, order, shown)
    flags = {"mode": attempt.mode, "revealed": revealed, "finished": finished}
    if form is not None:  # a refused answer: its errors are rendered once, directly
        page = render_template(
            "quiz/question.html",
            **values,
            **flags,
            form=form,
            fields=answer_fields(form),
            csrf_expired="csrf_token" in form.errors,
        )
        return page, status
    return stencils.render("quiz/question.html", flags, values), status


def _question_url(attempt_id: str, number: int) -> str:
    return attempt_url(".question", attempt_id, number)


# url_for costs microseconds that the question page cannot spare three times over;
# an attempt page's URL is built once per endpoint and mount point, with markers
# where the attempt id and question number go (ids are URL-safe by their rule).
_URL_TEMPLATES: dict[tuple[str, str], str] = {}
_ID_MARK, _NUMBER_MARK = "attempt_id_mark", 987654321


def attempt_url(endpoint: str, attempt_id: str, number: int | None = None) -> str:
    """url_for(endpoint, attempt_id=..., number=...) for the attempt pages."""
    key = (endpoint, request.script_root)
    template = _URL_TEMPLATES.get(key)
    if template is None:
        kwargs: dict[str, Any] = {"attempt_id": _ID_MARK}
        if number is not None:
            kwargs["number"] = _NUMBER_MARK
        built = url_for(endpoint, **kwargs).replace("{", "{{").replace("}", "}}")
        template = built.replace(_ID_MARK, "{0}").replace(str(_NUMBER_MARK), "{1}")
        _URL_TEMPLATES[key] = template
    return template.format(attempt_id, number)


@bp.route("/attempts/<token:attempt_id>/finish", methods=["GET", "POST"])
def finish(attempt_id: str) -> Page:
    """Review what is unanswered, then close the attempt."""
    attempt = _own_attempt(attempt_id)
    form = ActionForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        if not form.validate():
            abort(400, "This form expired. Reload the page and finish again.")
        ops.finish_attempt(attempt)
        db.session.commit()
        return redirect(url_for(".results", attempt_id=attempt.id))
    if attempt.finished:
        return redirect(url_for(".results", attempt_id=attempt.id))
    answered = {r.question_id for r in attempt.responses}
    unanswered = [
        n for n, qid in enumerate(attempt.question_ids, start=1) if qid not in answered
    ]
    return render_template(
        "quiz/finish.html", attempt=attempt, unanswered=unanswered, form=form
    )


@bp.get("/attempts/<token:attempt_id>/results")
def results(attempt_id: str) -> Page:
    """Score, time taken and the review of every question."""
    found = lookups.whole_attempt(attempt_id, _learner_id())
    if found is None:
        abort(404)
    attempt, version = found.attempt, found.content_version
    if not attempt.finished:
        return redirect(attempt_url(".finish", attempt.id))
    views = fragments.questions(version, attempt.question_ids)
    items = []
    for number, slot in enumerate(attempt.layout, start=1):
        view = views[slot["question"]]
        scored = found.responses.get(view.id)
        answer = scored.answer if scored is not None else None
        items.append(
            fragments.review_item_html(version, view, number, slot["order"], answer)
        )
    scores = {qid: scored.score for qid, scored in found.responses.items()}
    missed = ops.missed_among(attempt.question_ids, scores)
    score, total = attempt.score or 0.0, len(attempt.layout)
    values = {
        "title": attempt.title,
        "percent": round(score * 100),
        "points": f"{score * total:.1f}",
        "total": total,
        "answered": len(found.responses),
        "duration": _duration(attempt.finished_at - attempt.started_at),
        "mode_label": "Practice" if attempt.mode == "practice" else "Exam",
        "retry_url": attempt_url(".retry", attempt.id) if missed else None,
        "retry_label": f"Retry the {len(missed)} question"
        + ("" if len(missed) == 1 else "s")
        + " I missed",
        "missed_deck_url": attempt_url(".deck_missed", attempt.id),
        "csrf": csrf_token() if missed else None,
        "reviews": Markup("").join(items),
    }
    return stencils.render("quiz/results.html", {}, values)


def _duration(taken: timedelta) -> str:
    seconds = max(0, int(taken.total_seconds()))
    hours = f"{seconds // 3600} h " if seconds >= 3600 else ""
    return f"{hours}{seconds % 3600 // 60} min {seconds % 60} s"


@bp.post("/attempts/<token:attempt_id>/retry")
def retry(attempt_id: str) -> WerkzeugResponse:
    """A new practice attempt of the questions missed in a finished one."""
    attempt = _own_attempt(attempt_id)
    if not ActionForm(formdata=request.form).validate_on_submit():
        abort(400, "This form expired. Reload the results and try again.")
    if not attempt.finished:
        abort(409, "Finish this attempt first; then you can retry what you missed.")
    learner = ops.get_or_create_learner(attempt.learner_id)
    retry_attempt = ops.retry_missed(learner, attempt)
    if retry_attempt is None:
        abort(409, "You missed nothing in this attempt: there is nothing to retry.")
    db.session.commit()
    return redirect(url_for(".attempt", attempt_id=retry_attempt.id))


@bp.get("/essays/<slug:slug>")
def essay(slug: str) -> str:
    """An essay, passage by passage, each listing the questions drawn from it."""
    essay = db.first_or_404(select(Essay).where(Essay.slug == slug))
    return render_template(
        "quiz/essay.html",
        essay=essay,
        cited=listing.questions_by_passage(essay),
        highlight=request.args.get("from", ""),
    )


def deck_download(
    key: tuple[str, ...], load: Callable[[], list[Question]], label: str
) -> Response:
    """Send the deck named by `key` as an attachment, built once per content version.

    `load` is called only on a cache miss: a cached whole-bank deck costs one query
    (the content version), not the loading of every question.
    """
    from ..anki import deck_filename

    deck = cached_deck((*key, lookups.content_version()), load)
    if deck is None:
        abort(404, "There are no questions to put in this deck.")
    response = Response(deck.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{deck_filename(label)}"'
    )
    return response


# A burst of downloads of one deck builds it once; the key carries the content
# version, which every load that changes anything moves on.
_DECKS: OrderedDict[tuple[str, ...], DeckBuild] = OrderedDict()
_DECKS_MAX = 16
_DECKS_LOCK = threading.Lock()  # threaded servers share the cache between requests


def cached_deck(
    key: tuple[str, ...], load: Callable[[], list[Question]]
) -> DeckBuild | None:
    """The deck for `key`, built from `load()` on a miss; None when it is empty."""
    from ..anki import build_deck

    with _DECKS_LOCK:
        deck = _DECKS.get(key)
        if deck is not None:
            _DECKS.move_to_end(key)
            return deck
    questions = load()
    if not questions:
        return None
    deck = build_deck(questions)
    with _DECKS_LOCK:
        _DECKS[key] = deck
        while len(_DECKS) > _DECKS_MAX:
            _DECKS.popitem(last=False)
    return deck


@bp.get("/decks/bank.apkg")
@limiter.shared_limit(_deck_limit, scope="decks")
def deck_bank() -> Response:
    """The whole bank as an Anki deck."""
    return deck_download(("bank",), listing.deck_questions, "peacekeeping-bank")


@bp.get("/decks/essays/<slug:slug>.apkg")
@limiter.shared_limit(_deck_limit, scope="decks")
def deck_essay(slug: str) -> Response:
    """One essay's questions as an Anki deck."""
    db.first_or_404(select(Essay.id).where(Essay.slug == slug))
    return deck_download(
        ("essay", slug),
        lambda: listing.deck_questions(essay=slug),
        f"peacekeeping-{slug}",
    )


@bp.get("/decks/quizzes/<slug:slug>.apkg")
@limiter.shared_limit(_deck_limit, scope="decks")
def deck_quiz(slug: str) -> Response:
    """One quiz's questions as an Anki deck."""
    db.first_or_404(select(Quiz.id).where(Quiz.slug == slug, ~Quiz.retired))
    return deck_download(
        ("quiz", slug),
        lambda: listing.deck_questions(quiz=slug),
        f"peacekeeping-{slug}",
    )


@bp.get("/attempts/<token:attempt_id>/missed.apkg")
@limiter.shared_limit(_deck_limit, scope="decks")
def deck_missed(attempt_id: str) -> Response:
    """The questions missed in a finished attempt, as an Anki deck."""
    attempt = _own_attempt(attempt_id)
    if not attempt.finished:
        abort(409, "Finish this attempt first; then you can download what you missed.")
    missed = ops.missed_question_ids(attempt)
    return deck_download(
        ("missed", *missed),
        lambda: listing.deck_questions(ids=missed),
        "peacekeeping-missed",
    )
