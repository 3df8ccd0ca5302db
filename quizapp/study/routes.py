"""Views: the study queue (/study), rating and undo, settings, the progress page.

Each view reads through queue.py (two statements), grades through cards.py, and
commits once. A learner is the random id in the session, as for quizzes; the row
is created on the first write.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from fsrs import Rating
from werkzeug.wrappers import Response as WerkzeugResponse

from ..database import write_lock
from ..extensions import db
from ..models import utcnow
from ..quiz.learners import assign_learner_id
from ..quiz.learners import learner_id as session_learner_id
from ..ratelimits import limit
from . import cards, progress, queue
from .days import known_zone, local_time
from .forms import RateForm, SettingsForm, ShownForm, UndoForm
from .queue import Opening, Scope, ScopeError, Settings, Snapshot
from .scheduler import (
    RATING_LABELS,
    RATINGS,
    interval_label,
    previews,
    suggested_rating,
)

bp = Blueprint("study", __name__)

Page = str | tuple[str, int] | WerkzeugResponse


def _learner_id() -> str | None:
    return session_learner_id()


def _session_learner() -> str:
    # An id before any row exists (as the catalogue does): the row is created by
    # the first rating or saved settings.
    return assign_learner_id()


def _posting_learner() -> str:
    learner_id = _learner_id()
    if learner_id is None:
        abort(400, "Your session has no study queue yet. Open the study page first.")
    return learner_id


def _scope(raw: str | None, learner_id: str | None) -> Scope:
    try:
        scope = queue.parse_scope(raw)
    except ScopeError as error:
        abort(400, f"{error} Choose a scope from the progress page or study it all.")
    if scope.kind == "attempt":
        missed = cards.missed_in_attempt(scope.value, learner_id)
        if missed is None:
            abort(404, "There is no finished attempt of yours with that id.")
        scope = queue.with_questions(scope, missed)
    return scope


def _study_url(scope: Scope) -> str:
    return url_for(".study", scope=scope.token or None)


@bp.get("/study")
def study() -> Page:
    """The next card of today's queue, or "All done for today"."""
    learner_id = _session_learner()
    scope = _scope(request.args.get("scope"), learner_id)
    now = utcnow()
    opened = queue.opening(learner_id)
    snap = queue.snapshot(learner_id, scope, now, opened.settings)
    return _page(opened, snap, scope, now, learner_id)


@bp.post("/study/answer")
@limit("RATE_LIMIT_STUDY", "study")
def answer() -> Page:
    """Grade the answer to the card shown; show its feedback and the rating buttons."""
    learner_id = _posting_learner()
    shown = ShownForm(formdata=request.form, meta={"csrf": False})
    if not shown.validate():
        abort(400, "This card's form was incomplete. Reload the study page.")
    scope = _scope(shown.scope.data, learner_id)
    now = utcnow()
    opened = queue.opening(learner_id)
    snap = queue.snapshot(
        learner_id, scope, now, opened.settings, posted=shown.question.data
    )
    if (snap.posted_reps or 0) != shown.seen.data:
        return redirect(_study_url(scope), 303)  # rated meanwhile (another tab)
    head = _current(snap, shown.question.data)
    version = _version(opened)
    view = cards.question(version, head.question_id)
    if view is None:
        abort(404)
    order = cards.option_order(learner_id, view, shown.seen.data)
    form = cards.answer_form(view, order, formdata=request.form)
    valid = form.validate()
    given = cards.answer_from(form, view) if valid else None
    if valid and given is None:
        form.form_errors.append("Fill in at least one blank.")
    if given is None:
        return _page(opened, snap, scope, now, learner_id, form=form), 400
    verdict = cards.grade_answer(view, given)
    feedback = cards.revealed_html(version, view, order, given)
    return _page(
        opened, snap, scope, now, learner_id, feedback=feedback, score=verdict.score
    )


def _current(snap: Snapshot, question_id: str) -> queue.Head:
    head = snap.head
    if head is None or head.question_id != question_id:
        abort(
            409,
            "That card is not the one due now, so nothing was saved. "
            "Go back to the study page for the current card.",
        )
    return head


@bp.post("/study/rate")
@limit("RATE_LIMIT_STUDY", "study")
def rate() -> Page:
    """Store Again, Hard, Good or Easy for the card shown, then show the next one."""
    learner_id = _posting_learner()
    form = RateForm(formdata=request.form)
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400, "This page expired. Reload the study page and rate again.")
        abort(400, "Choose Again, Hard, Good or Easy for the card shown.")
    scope = _scope(form.scope.data, learner_id)
    now = utcnow()
    opened = queue.opening(learner_id)
    snap = queue.snapshot(
        learner_id, scope, now, opened.settings, posted=form.question.data
    )
    target = _study_url(scope)
    if (snap.posted_reps or 0) != form.seen.data:
        return redirect(target, 303)  # this rating was stored already
    head = _current(snap, form.question.data)
    # Scheduled before the lock; the locked transaction is the conditional write.
    rating = Rating(form.rating.data)
    review = queue.head_review(head, rating, now, opened.settings)
    write_lock()
    if not opened.learner_exists:
        cards.ensure_learner(learner_id)
    if not opened.settings_saved and known_zone(form.zone.data or ""):
        # The browser's zone, until the learner saves settings of their own.
        queue.save_settings(
            learner_id, replace(opened.settings, time_zone=form.zone.data), new=True
        )
    queue.rate_head(learner_id, head, rating, now, opened.settings, review=review)
    db.session.commit()
    return redirect(target, 303)


@bp.post("/study/undo")
@limit("RATE_LIMIT_STUDY", "study")
def undo() -> Page:
    """Take back the last rating: the card as it was, the log row gone."""
    learner_id = _posting_learner()
    form = UndoForm(formdata=request.form)
    if not form.validate():
        abort(400, "This page expired. Reload the study page and undo again.")
    scope = _scope(form.scope.data, learner_id)
    write_lock()
    queue.undo_last(learner_id, form.log.data)  # already undone: nothing to do
    db.session.commit()
    return redirect(_study_url(scope), 303)


@bp.get("/study/settings")
def settings() -> Page:
    """New cards and reviews per day, desired retention, time zone, day start."""
    opened = queue.opening(_session_learner())
    form = SettingsForm(data=asdict(opened.settings))
    return _settings_page(form, opened, saved=request.args.get("saved") == "1")


@bp.post("/study/settings")
@limit("RATE_LIMIT_STUDY", "study")
def save_settings() -> Page:
    """Save the settings form; the form again with messages when it is refused."""
    learner_id = _session_learner()
    opened = queue.opening(learner_id)
    form = SettingsForm(formdata=request.form)
    if not form.validate():
        return _settings_page(form, opened), 400
    write_lock()
    if not opened.learner_exists:
        cards.ensure_learner(learner_id)
    chosen = Settings(
        new_per_day=form.new_per_day.data,
        max_reviews_per_day=form.max_reviews_per_day.data,
        desired_retention=float(form.desired_retention.data),
        time_zone=form.time_zone.data,
        day_starts_at_hour=form.day_starts_at_hour.data,
    )
    queue.save_settings(learner_id, chosen)
    db.session.commit()
    return redirect(url_for(".settings", saved="1"), 303)


def _settings_page(form: SettingsForm, opened: Opening, saved: bool = False) -> str:
    errors = [field for field in form if field.errors]
    return render_template(
        "study/settings.html",
        form=form,
        errors=errors,
        saved=saved,
        settings_saved=opened.settings_saved,
        study_script=url_for("static", filename="study.js"),
    )


@bp.get("/progress")
def progress_page() -> Page:
    """Reviews per day, streaks, the due forecast, retention, mastery, weak spots."""
    learner_id = _session_learner()
    now = utcnow()
    opened = queue.opening(learner_id)
    report = progress.report(learner_id, now, opened.settings)
    return render_template(
        "study/progress.html", report=report, settings=opened.settings
    )


def _version(opened: Opening) -> str:
    return cards.content_stamp(opened.content_version, opened.content_loaded_at)


def _page(
    opened: Opening,
    snap: Snapshot,
    scope: Scope,
    now: datetime,
    learner_id: str,
    form: cards.AnswerForm | None = None,
    feedback: Any = None,
    score: float | None = None,
) -> str:
    """The study page: counts, then the card (question or feedback) or the end."""
    settings = opened.settings
    context: dict[str, Any] = {
        "snap": snap,
        "scope": scope,
        "scope_label": _scope_label(scope),
        "csrf": generate_csrf(),
        "study_script": url_for("static", filename="study.js"),
        "undo_form": UndoForm(formdata=None, log=snap.last_log_id, scope=scope.token)
        if snap.last_log_id
        else None,
    }
    head = snap.head
    if head is None:
        context["next_due"] = _when(snap.next_due, now, settings)
        context["more_today"] = (
            snap.next_due is not None and snap.next_due < snap.day.end
        )
        return render_template("study/study.html", **context)
    seen = head.card.reps if head.card else 0
    shown = ShownForm(
        formdata=None,
        meta={"csrf": False},
        question=head.question_id,
        seen=seen,
        scope=scope.token,
    )
    context.update(shown=shown, is_new=head.card is None)
    if feedback is None:
        version = _version(opened)
        view = cards.question(version, head.question_id)
        if view is None:  # pragma: no cover - the queue only holds loaded questions
            abort(404)
        order = cards.option_order(learner_id, view, seen)
        if form is None:
            fields = cards.answer_fields_html(version, view, order)
        else:
            fields = cards.fields_html(view, order, form)
        context.update(
            view=view,
            fields_html=fields,
            form=form,
            fields=cards.answer_fields(form) if form else [],
            csrf_expired=form is not None and "csrf_token" in form.errors,
        )
        return render_template("study/study.html", **context)
    suggested = suggested_rating(score or 0.0)
    intervals = previews(head.card, now, settings.desired_retention)
    context.update(
        feedback=feedback,
        suggested=RATING_LABELS[suggested],
        buttons=[
            {
                "value": int(rating),
                "label": RATING_LABELS[rating],
                "interval": interval_label(intervals[rating]),
                "suggested": rating == suggested,
            }
            for rating in RATINGS
        ],
    )
    return render_template("study/study.html", **context)


def _scope_label(scope: Scope) -> str:
    if scope.kind == "essay":
        return "one essay (" + scope.value.replace("-", " ") + ")"
    if scope.kind == "tag":
        return f"the topic “{scope.value}”"
    if scope.kind == "questions":
        count = len(scope.ids)
        return f"{count} picked question" + ("" if count == 1 else "s")
    if scope.kind == "attempt":
        return "the questions you missed in an attempt"
    return "the whole bank"


def _when(moment: datetime | None, now: datetime, settings: Settings) -> str | None:
    if moment is None:
        return None
    local = local_time(moment, settings.time_zone)
    return (
        f"{local:%a %d %b %Y, %H:%M} ({settings.time_zone}), "
        f"in {interval_label(moment - now)}"
    )
